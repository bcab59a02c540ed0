#include "workers/runtime/job_sources.hpp"

#include <hiredis/hiredis.h>

#include <fmt/format.h>
#include <pqxx/pqxx>

namespace furrsight::workers {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr auto kConnectTimeout = std::chrono::milliseconds(200);
constexpr auto kReconnectEvery = std::chrono::seconds(1);

inline constexpr std::string_view kClaimableJobs = R"~(
SELECT id::text FROM jobs
WHERE status IN ('PENDING', 'WAITING_RETRY') AND job_type = ANY($1::text[]) AND NOT cancel_requested
  AND (not_before IS NULL OR not_before <= now())
ORDER BY priority DESC, created_at
LIMIT $2)~";

}  // namespace

JobQueue::JobQueue(events::RedisAddress address, std::string prefix, const std::vector<std::string>& job_types)
    : address_(std::move(address)) {
  for (const auto& type : job_types) keys_.push_back(events::QueueKey(prefix, "jobs:" + type));
}

base::Result<std::vector<std::string>> JobQueue::Pop(int max, std::chrono::milliseconds wait) {
  if (!conn_ || !conn_->ok()) {
    conn_.reset();
    if (std::chrono::steady_clock::now() < next_connect_)
      return Fail(ErrorCode::kUnavailable, "redis is down; polling the jobs read model");
    auto c = events::RedisConnection::Connect(address_, kConnectTimeout, wait + std::chrono::seconds(2));
    if (!c) {
      next_connect_ = std::chrono::steady_clock::now() + kReconnectEvery;
      return std::unexpected(c.error());
    }
    conn_ = std::move(*c);
  }
  // BLMPOP timeout numkeys key... LEFT COUNT max
  std::vector<std::string> args = {"BLMPOP", fmt::format("{:.3f}", wait.count() / 1000.0), std::to_string(keys_.size())};
  args.insert(args.end(), keys_.begin(), keys_.end());
  args.insert(args.end(), {"LEFT", "COUNT", std::to_string(std::max(1, max))});
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(conn_->get(), static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) {
    std::string error = conn_->get()->errstr;
    conn_.reset();
    next_connect_ = std::chrono::steady_clock::now() + kReconnectEvery;
    return Fail(ErrorCode::kUnavailable, fmt::format("redis: {}", error));
  }
  events::RedisConnection::Reply owned(reply);
  std::vector<std::string> ids;
  if (reply->type == REDIS_REPLY_ERROR) return Fail(ErrorCode::kUnavailable, fmt::format("redis: {}", reply->str));
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 && reply->element[1]->type == REDIS_REPLY_ARRAY) {
    const redisReply* items = reply->element[1];
    for (size_t i = 0; i < items->elements; ++i)
      ids.emplace_back(items->element[i]->str, items->element[i]->len);
  }
  return ids;
}

base::Result<std::vector<std::string>> ClaimableJobs(events::PgPool& pool, const std::vector<std::string>& job_types,
                                                     int limit) {
  auto lease = pool.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::string array = "{";
  for (size_t i = 0; i < job_types.size(); ++i) array += (i ? "," : "") + job_types[i];
  array += "}";
  try {
    pqxx::nontransaction tx(**lease);
    pqxx::result r = tx.exec_params(std::string(kClaimableJobs), array, limit);
    std::vector<std::string> ids;
    for (const auto& row : r) ids.push_back(row[0].as<std::string>());
    return ids;
  } catch (const std::exception& e) {
    lease->Discard();
    return Fail(ErrorCode::kUnavailable, fmt::format("polling the jobs read model: {}", e.what()));
  }
}

}  // namespace furrsight::workers
