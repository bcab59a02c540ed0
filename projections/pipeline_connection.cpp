#include "projections/pipeline_connection.hpp"

#include <libpq-fe.h>

#include <fmt/format.h>

namespace furrsight::projections {
namespace {

using base::ErrorCode;
using base::Fail;

std::string ConnError(PGconn* c) { return c != nullptr ? PQerrorMessage(c) : "out of memory"; }

// Owns a PGresult.
struct Result {
  explicit Result(PGresult* r) : r(r) {}
  ~Result() { PQclear(r); }
  PGresult* r;
};

}  // namespace

base::Result<std::unique_ptr<PipelineConnection>> PipelineConnection::Open(const std::string& url,
                                                                          const std::string& schema) {
  PGconn* c = PQconnectdb(url.c_str());
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string why = ConnError(c);
    PQfinish(c);
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot connect for the projector: {}", why));
  }
  std::unique_ptr<PipelineConnection> conn(new PipelineConnection(c));
  // Identifiers cannot be bind parameters: quote it with libpq.
  char* quoted = PQescapeIdentifier(c, schema.data(), schema.size());
  if (quoted == nullptr) return Fail(ErrorCode::kInvalidArgument, ConnError(c));
  std::string sql = fmt::format("SET search_path TO {}, public", quoted);
  PQfreemem(quoted);
  Result r(PQexec(c, sql.c_str()));
  if (PQresultStatus(r.r) != PGRES_COMMAND_OK)
    return Fail(ErrorCode::kInternal, fmt::format("set search_path: {}", ConnError(c)));
  return conn;
}

PipelineConnection::~PipelineConnection() { PQfinish(conn_); }

bool PipelineConnection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

base::Result<void> PipelineConnection::Prepare(std::string_view name, const std::string& sql) {
  Result r(PQprepare(conn_, std::string(name).c_str(), sql.c_str(), 0, nullptr));
  if (PQresultStatus(r.r) != PGRES_COMMAND_OK)
    return Fail(ErrorCode::kInternal, fmt::format("prepare {}: {}", name, PQresultErrorMessage(r.r)));
  return {};
}

base::Result<void> PipelineConnection::RunBatch(const std::vector<SqlCall>& calls) {
  if (calls.empty()) return {};
  if (PQenterPipelineMode(conn_) != 1) return Fail(ErrorCode::kUnavailable, ConnError(conn_));
  std::vector<const char*> values;
  std::string send_error;
  for (const auto& call : calls) {
    values.clear();
    for (const auto& p : call.params) values.push_back(p.c_str());
    if (PQsendQueryPrepared(conn_, std::string(call.statement).c_str(), static_cast<int>(values.size()), values.data(),
                            nullptr, nullptr, 0) != 1) {
      send_error = ConnError(conn_);
      break;
    }
  }
  if (!send_error.empty()) {
    // Never Sync a half-sent batch: that would commit its first statements
    // (the checkpoint among them). Dropping the connection aborts it.
    PQfinish(conn_);
    conn_ = PQconnectdb("");  // a dead handle: ok() is false, the owner reconnects
    return Fail(ErrorCode::kUnavailable, fmt::format("sending the batch failed: {}", send_error));
  }
  if (PQpipelineSync(conn_) != 1) {
    std::string why = ConnError(conn_);
    PQfinish(conn_);
    conn_ = PQconnectdb("");
    return Fail(ErrorCode::kUnavailable, fmt::format("sending the batch failed: {}", why));
  }
  // Read every result up to and including the sync.
  std::string failure;
  for (size_t done = 0;;) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) {  // the end of one statement's results
      if (PQstatus(conn_) != CONNECTION_OK) break;
      continue;
    }
    Result r(raw);
    ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) break;
    if (status == PGRES_FATAL_ERROR && failure.empty()) {
      const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
      failure = fmt::format("{} [{}] in {}", PQresultErrorMessage(raw), state != nullptr ? state : "",
                            done < calls.size() ? std::string(calls[done].statement) : std::string("?"));
    }
    ++done;
    if (PQstatus(conn_) != CONNECTION_OK) break;
  }
  PQexitPipelineMode(conn_);
  if (PQstatus(conn_) != CONNECTION_OK)
    return Fail(ErrorCode::kUnavailable, fmt::format("lost the connection: {}", ConnError(conn_)));
  if (!failure.empty()) return Fail(ErrorCode::kInternal, failure);
  return {};
}

}  // namespace furrsight::projections
