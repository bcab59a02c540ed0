// PgPool: a bounded pool of libpqxx connections to one database.
//
// Connections are opened lazily, prepared once (the `prepare` callback) and
// reused; one found broken is dropped and replaced on next use, so a
// restarted PostgreSQL costs a failed call, not a dead process. Thread-safe;
// a Lease is used by one thread at a time.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "events/base/error.hpp"

namespace furrsight::events {

class PgPool {
 public:
  using Prepare = std::function<void(pqxx::connection&)>;

  PgPool(std::string url, size_t max_size, Prepare prepare = {});
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) { other.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }
    // The connection is broken or in an unknown state: close it instead of reusing.
    void Discard() { conn_.reset(); }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // Waits for a free connection; kUnavailable if a new one cannot be opened.
  base::Result<Lease> Acquire();
  const std::string& url() const { return url_; }

 private:
  void Release(std::unique_ptr<pqxx::connection> conn);

  const std::string url_;
  const size_t max_size_;
  const Prepare prepare_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                      // guarded by mu_; idle + leased
};

// Runs `fn(connection)`; converts libpqxx exceptions into Error values
// (broken connection -> kUnavailable and the connection is discarded).
template <class Fn>
auto WithConnection(PgPool& pool, std::string_view what, Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

}  // namespace furrsight::events

#include "events/store/pg_pool_inl.hpp"
