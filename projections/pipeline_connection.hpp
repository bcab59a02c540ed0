// PipelineConnection: one libpq connection that runs a batch of prepared
// statements as a single implicit transaction in one round trip (libpq's
// pipeline mode): send every call, one Sync, then read every result. If any
// statement fails, PostgreSQL rolls the whole batch back.
//
// The projector applies a batch of events this way: each event's statements
// followed by the checkpoint update. Owns its PGconn; not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"

struct pg_conn;

namespace furrsight::projections {

struct SqlCall {
  std::string_view statement;       // a prepared statement's name
  std::vector<std::string> params;  // text values
};

class PipelineConnection {
 public:
  // Connects and sets search_path to `schema`, public.
  static base::Result<std::unique_ptr<PipelineConnection>> Open(const std::string& url, const std::string& schema);
  ~PipelineConnection();

  base::Result<void> Prepare(std::string_view name, const std::string& sql);
  // Runs every call in one implicit transaction: all take effect or none.
  base::Result<void> RunBatch(const std::vector<SqlCall>& calls);
  bool ok() const;

 private:
  explicit PipelineConnection(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
};

}  // namespace furrsight::projections
