#include "events/store/pg_pool.hpp"

#include <pqxx/except>

namespace furrsight::events {

PgPool::PgPool(std::string url, size_t max_size, Prepare prepare)
    : url_(std::move(url)), max_size_(max_size == 0 ? 1 : max_size), prepare_(std::move(prepare)) {}

PgPool::~PgPool() = default;

PgPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Release(std::move(conn_));
}

base::Result<PgPool::Lease> PgPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    freed_.wait(lock, [&] { return !idle_.empty() || open_ < max_size_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve a slot; connect outside the lock
  }
  try {
    auto conn = std::make_unique<pqxx::connection>(url_);
    if (prepare_) prepare_(*conn);
    return Lease(this, std::move(conn));
  } catch (const std::exception& e) {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    freed_.notify_one();
    return base::Fail(base::ErrorCode::kUnavailable,
                      fmt::format("cannot connect to PostgreSQL at {}: {}", base::RedactUrl(url_), e.what()));
  }
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn) {
  {
    std::lock_guard lock(mu_);
    if (conn && conn->is_open()) idle_.push_back(std::move(conn));
    else --open_;
  }
  freed_.notify_one();
}

}  // namespace furrsight::events
