// EmbeddedStack: PostgreSQL + Redis started under one directory, with a
// migrated database: the embedded default of `furrsight dev`, and the
// throwaway services of `furrsight services run` (the test harness).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "events/base/error.hpp"
#include "orchestrator/embedded/postgres_server.hpp"
#include "orchestrator/embedded/redis_server.hpp"

namespace furrsight::orchestrator {

struct EmbeddedStackOptions {
  std::filesystem::path dir;
  std::string database = "furrsight";  // created and migrated
  bool ephemeral = false;              // tests: fsync off
  int postgres_port = 0;               // 0: free port
  int redis_port = 0;
};

class EmbeddedStack {
 public:
  static base::Result<std::unique_ptr<EmbeddedStack>> Start(const EmbeddedStackOptions& options);

  PostgresServer& postgres() { return *postgres_; }
  RedisServer& redis() { return *redis_; }
  // Owner (superuser) URL of the migrated database, and the service role's URL.
  std::string AdminUrl() const { return postgres_->Url(database_); }
  std::string ServiceUrl() const { return postgres_->Url(database_, "furrsight_app"); }
  std::string MaintenanceUrl() const { return postgres_->Url("postgres"); }

 private:
  EmbeddedStack() = default;
  std::string database_;
  std::unique_ptr<PostgresServer> postgres_;
  std::unique_ptr<RedisServer> redis_;
};

// CREATE DATABASE name (TEMPLATE template) unless it exists.
base::Result<void> EnsureDatabase(const std::string& maintenance_url, const std::string& name,
                                  const std::string& template_name = "");

}  // namespace furrsight::orchestrator
