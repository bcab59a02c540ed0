#include "events/store/audit_seal.hpp"

#include <cstring>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/sha256.hpp"
#include "events/store/event_store.hpp"

namespace furrsight::events {
namespace {

using base::Digest;
using base::ErrorCode;
using base::Fail;

// 'FURRSEAL' as a 64-bit advisory lock key.
inline constexpr long long kSealLockKey = 0x4655525253454c4cLL;

inline constexpr std::string_view kLastSeal = R"~(
SELECT audit_seq, tx_id::text, global_position, encode(chain_hash, 'hex') FROM audit_seal
ORDER BY audit_seq DESC LIMIT 1)~";

inline constexpr std::string_view kInsertSeals = R"~(
INSERT INTO audit_seal (audit_seq, global_position, tx_id, event_hash, chain_hash)
SELECT x.audit_seq, x.global_position, x.tx_id::xid8, decode(x.event_hash, 'hex'), decode(x.chain_hash, 'hex')
FROM jsonb_to_recordset($1::jsonb) AS x(audit_seq bigint, global_position bigint, tx_id text, event_hash text,
                                        chain_hash text))~";

inline constexpr std::string_view kSealedEvents = R"~(
SELECT a.audit_seq, encode(a.event_hash, 'hex'), encode(a.chain_hash, 'hex'), a.global_position,
       ev.event_id_text IS NULL, ev.*
FROM audit_seal a
LEFT JOIN LATERAL (SELECT {} FROM events WHERE events.global_position = a.global_position) ev ON true
WHERE a.audit_seq > $1 ORDER BY a.audit_seq LIMIT $2)~";

Digest Chain(const Digest& previous, const Digest& event_hash) {
  base::Sha256 h;
  h.Update(std::string_view(reinterpret_cast<const char*>(previous.data()), previous.size()));
  h.Update(std::string_view(reinterpret_cast<const char*>(event_hash.data()), event_hash.size()));
  return h.Finish();
}

Digest FromHex(std::string_view hex) {
  Digest d{};
  for (size_t i = 0; i < d.size() && 2 * i + 1 < hex.size(); ++i)
    d[i] = static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  return d;
}

void AppendField(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

}  // namespace

std::string CanonicalEncoding(const RecordedEvent& e) {
  std::string out = "furrsight-audit-v1;";
  AppendField(out, e.event_id);
  AppendField(out, e.stream_id);
  AppendField(out, std::to_string(e.stream_version));
  AppendField(out, e.type);
  AppendField(out, std::to_string(e.schema_version));
  AppendField(out, std::to_string(e.recorded_at_us));
  AppendField(out, e.payload_json);
  AppendField(out, e.metadata_json);
  return out;
}

base::Result<std::int64_t> AuditLog::SealPending(int batch_size, const AuditProgress& progress) {
  EventStore store(pool_);
  std::int64_t sealed = 0;
  for (;;) {
    auto done = WithConnection(pool_, "audit seal", [&](pqxx::connection& conn) -> base::Result<std::int64_t> {
      pqxx::work tx(conn);
      if (!tx.exec_params("SELECT pg_try_advisory_xact_lock($1)", kSealLockKey)[0][0].as<bool>()) return 0;
      LogPosition after;
      std::int64_t seq = 0;
      Digest chain{};
      if (auto last = tx.exec(std::string(kLastSeal)); !last.empty()) {
        seq = last[0][0].as<std::int64_t>();
        after = LogPosition{std::stoull(last[0][1].c_str()), last[0][2].as<std::int64_t>()};
        chain = FromHex(last[0][3].c_str());
      }
      // Read with the store's gap-free statement, inside this transaction.
      auto rows = tx.exec_prepared("fs_read_all", std::to_string(after.tx_id), after.global_position,
                                   batch_size, "");
      if (rows.empty()) return 0;
      std::string json = "[";
      for (const auto& row : rows) {
        RecordedEvent e = ParseEventRow(row);
        Digest event_hash = base::Sha256Of(CanonicalEncoding(e));
        chain = Chain(chain, event_hash);
        if (json.size() > 1) json += ',';
        json += fmt::format(R"({{"audit_seq":{},"global_position":{},"tx_id":"{}","event_hash":"{}","chain_hash":"{}"}})",
                            ++seq, e.position.global_position, e.position.tx_id, base::ToHex(event_hash),
                            base::ToHex(chain));
      }
      json += ']';
      tx.exec_params(std::string(kInsertSeals), json);
      tx.commit();
      return static_cast<std::int64_t>(rows.size());
    });
    if (!done) return done;
    sealed += *done;
    if (progress && *done > 0) progress(sealed);
    if (*done < batch_size) return sealed;
  }
}

base::Result<AuditVerification> AuditLog::Verify(int batch_size, const AuditProgress& progress) {
  return WithConnection(pool_, "audit verify", [&](pqxx::connection& conn) -> base::Result<AuditVerification> {
    // One snapshot for the whole check.
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(conn);
    const std::string sql = fmt::format(fmt::runtime(kSealedEvents), kEventColumns);
    AuditVerification out;
    Digest chain{};
    std::int64_t seq = 0;
    LogPosition previous;
    for (;;) {
      auto rows = tx.exec_params(sql, seq, batch_size);
      for (const auto& r : rows) {
        const std::int64_t audit_seq = r[0].as<std::int64_t>();
        const std::int64_t position = r[3].as<std::int64_t>();
        auto fail = [&](std::string reason, std::string event_id = "", std::string stream_id = "") {
          out.mismatch = AuditMismatch{audit_seq, position, std::move(event_id), std::move(stream_id), std::move(reason)};
        };
        if (audit_seq != seq + 1) {
          fail(fmt::format("audit sequence jumps from {} to {}: seals were removed", seq, audit_seq));
          return out;
        }
        if (r[4].as<bool>()) {
          fail("the sealed event is missing from the log");
          return out;
        }
        // The event columns start at index 5.
        pqxx::row event_row = r.slice(5, r.size());
        RecordedEvent e = ParseEventRow(event_row);
        if (seq > 0 && !(previous < e.position)) {
          fail("sealed out of the log's read order", e.event_id, e.stream_id);
          return out;
        }
        Digest event_hash = base::Sha256Of(CanonicalEncoding(e));
        if (base::ToHex(event_hash) != r[1].c_str()) {
          fail("the event's content differs from what was sealed", e.event_id, e.stream_id);
          return out;
        }
        chain = Chain(chain, event_hash);
        if (base::ToHex(chain) != r[2].c_str()) {
          fail("the stored chain hash does not follow from the previous one", e.event_id, e.stream_id);
          return out;
        }
        seq = audit_seq;
        previous = e.position;
        ++out.checked;
      }
      if (progress) progress(out.checked);
      if (static_cast<int>(rows.size()) < batch_size) break;
    }
    out.head_hash = out.checked > 0 ? base::ToHex(chain) : "";
    return out;
  });
}

base::Result<AuditHead> AuditLog::Head() {
  return WithConnection(pool_, "audit head", [&](pqxx::connection& conn) -> base::Result<AuditHead> {
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(conn);
    AuditHead head;
    LogPosition after;
    if (auto last = tx.exec(std::string(kLastSeal)); !last.empty()) {
      head.sealed = last[0][0].as<std::int64_t>();
      after = LogPosition{std::stoull(last[0][1].c_str()), last[0][2].as<std::int64_t>()};
      head.last_position = after.global_position;
      head.head_hash = last[0][3].c_str();
    }
    head.unsealed = tx.exec_prepared("fs_count_after", std::to_string(after.tx_id), after.global_position)[0][0]
                        .as<std::int64_t>();
    return head;
  });
}

}  // namespace furrsight::events
