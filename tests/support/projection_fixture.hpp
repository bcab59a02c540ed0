// A gtest fixture for projection tests: the store fixture plus the helpers
// every projection test needs — the live generation, per-table checksums,
// and queries as the service role (through the views) or the owner.
#pragma once

#include <map>
#include <string>

#include "projections/generations.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::testing {

class ProjectionTest : public StoreTest {
 protected:
  // TableChecksum of every table of `projection` in `schema`.
  std::map<std::string, std::string> Checksums(const projections::Projection& projection, const std::string& schema) {
    std::map<std::string, std::string> out;
    for (const auto& table : projection.tables()) out[table] = TableChecksum(db_->AdminUrl(), schema, table);
    return out;
  }

  // The live generation of `projection` (created when there is none).
  projections::Generation Live(const projections::Projection& projection) {
    pqxx::connection conn(db_->AdminUrl());
    auto g = projections::EnsureLive(conn, projection);
    EXPECT_TRUE(g.has_value()) << g.error().message;
    return *g;
  }

  pqxx::result Query(const std::string& sql, bool as_owner = false) {
    pqxx::connection conn(as_owner ? db_->AdminUrl() : db_->ServiceUrl());
    pqxx::read_transaction tx(conn);
    return tx.exec(sql);
  }
};

}  // namespace furrsight::testing
