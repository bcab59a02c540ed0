// The audit seal: proof that the log was not altered.
//
// The sealer gives every readable event, in the log's read order, a
// contiguous audit sequence number and links it into a SHA-256 hash chain,
// stored append-only in `audit_seal` (migrations/0002_audit_seal.sql):
//   event_hash = SHA-256(CanonicalEncoding(event))
//   chain_hash = SHA-256(previous chain_hash || event_hash)   (first: 32 zero bytes)
// Verify recomputes both from the events as they are now and names the first
// event that does not match. Keep the head hash (`furrsight audit head`)
// somewhere outside the database: a chain rewritten from the start would
// otherwise verify too.
//
// One sealer runs at a time (advisory lock); others seal nothing. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "events/base/error.hpp"
#include "events/store/event.hpp"
#include "events/store/pg_pool.hpp"

namespace furrsight::events {

// Length-prefixed fields of the event, so no two events encode alike.
std::string CanonicalEncoding(const RecordedEvent& event);

struct AuditHead {
  std::int64_t sealed = 0;        // events sealed
  std::string head_hash;          // hex chain hash of the last one ("" when none)
  std::int64_t last_position = 0;  // its global position
  std::int64_t unsealed = 0;      // readable events not sealed yet
};

struct AuditMismatch {
  std::int64_t audit_seq = 0;
  std::int64_t global_position = 0;
  std::string event_id;
  std::string stream_id;
  std::string reason;
};

struct AuditVerification {
  std::int64_t checked = 0;
  std::string head_hash;
  std::optional<AuditMismatch> mismatch;  // the first one; empty when the chain holds
};

using AuditProgress = std::function<void(std::int64_t done)>;

class AuditLog {
 public:
  explicit AuditLog(PgPool& pool) : pool_(pool) {}

  // Seals everything readable not yet sealed; returns how many it sealed
  // (0 if another sealer holds the lock).
  base::Result<std::int64_t> SealPending(int batch_size = 2000, const AuditProgress& progress = {});
  base::Result<AuditVerification> Verify(int batch_size = 5000, const AuditProgress& progress = {});
  base::Result<AuditHead> Head();

 private:
  PgPool& pool_;
};

}  // namespace furrsight::events
