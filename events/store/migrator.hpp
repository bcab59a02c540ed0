// Migrator: applies the numbered SQL files of migrations/ in name order.
//
// Each pending file runs in its own transaction together with its row in
// schema_migrations (name, SHA-256 checksum, applied_at). A file that was
// applied and has since changed is refused by name: released migrations are
// never edited, a new numbered file is added instead. A session-level
// advisory lock makes concurrent runs (several pods starting at once) apply
// each file exactly once. Not thread-safe; one Migrator per run.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "events/base/error.hpp"

namespace furrsight::events {

struct Migration {
  std::string name;      // "0001_event_store.sql"
  std::string sql;
  std::string checksum;  // hex SHA-256 of sql
};

Migration MakeMigration(std::string name, std::string sql);

// The migrations compiled into this binary (generated from migrations/).
std::vector<Migration> BuiltInMigrations();
// Every NNNN_*.sql file of `dir`, sorted by name.
base::Result<std::vector<Migration>> LoadMigrations(const std::filesystem::path& dir);

struct MigrationState {
  std::string name;
  bool applied = false;
  std::string applied_at;  // empty when pending
};

class Migrator {
 public:
  Migrator(std::string admin_url, std::vector<Migration> migrations);

  // Applies what is pending; returns the names applied by this call.
  base::Result<std::vector<std::string>> Apply(
      const std::function<void(const std::string& name)>& on_applied = {}) const;
  base::Result<std::vector<MigrationState>> Status() const;

 private:
  std::string admin_url_;
  std::vector<Migration> migrations_;
};

}  // namespace furrsight::events
