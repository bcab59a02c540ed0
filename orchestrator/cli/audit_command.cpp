// furrsight audit seal / verify / head: proof that the log was not altered.
#include <fmt/format.h>

#include "events/store/audit_seal.hpp"
#include "orchestrator/cli/commands.hpp"
#include "events/store/store_context.hpp"

namespace furrsight::orchestrator::cli {

using events::StoreContext;
namespace {

void Progress(std::string_view what, std::int64_t done) {
  fmt::print(stderr, "{}: {} events\n", what, done);
}

}  // namespace

int RunAuditSeal(Invocation& inv) {
  StoreContext ctx(inv.config);
  events::AuditLog audit(*ctx.pool);
  auto sealed = audit.SealPending(2000, [](std::int64_t n) { Progress("sealed", n); });
  if (!sealed) return ReportError(sealed.error());
  auto head = audit.Head();
  if (!head) return ReportError(head.error());
  fmt::print("sealed {} new events; {} sealed in all; head {}\n", *sealed, head->sealed, head->head_hash);
  return kExitOk;
}

int RunAuditVerify(Invocation& inv) {
  StoreContext ctx(inv.config);
  events::AuditLog audit(*ctx.pool);
  auto result = audit.Verify(5000, [](std::int64_t n) { Progress("verified", n); });
  if (!result) return ReportError(result.error());
  if (result->mismatch) {
    const auto& m = *result->mismatch;
    fmt::print("FAILED at audit_seq {} (global position {}, event {}, stream {}): {}\n"
               "{} events verified before it. The log or its seal was altered: compare with a backup and the "
               "head hash kept outside the database.\n",
               m.audit_seq, m.global_position, m.event_id.empty() ? "-" : m.event_id,
               m.stream_id.empty() ? "-" : m.stream_id, m.reason, result->checked);
    return kExitFailure;
  }
  auto head = audit.Head();
  if (!head) return ReportError(head.error());
  fmt::print("OK {} events verified; head {}; {} newer events not sealed yet (furrsight audit seal)\n",
             result->checked, result->head_hash.empty() ? "-" : result->head_hash, head->unsealed);
  if (auto expected = inv.Option("expect-head"); expected && *expected != result->head_hash) {
    fmt::print("FAILED: the head hash differs from --expect-head {}\n", *expected);
    return kExitFailure;
  }
  return kExitOk;
}

int RunAuditHead(Invocation& inv) {
  StoreContext ctx(inv.config);
  events::AuditLog audit(*ctx.pool);
  auto head = audit.Head();
  if (!head) return ReportError(head.error());
  fmt::print("{} {} {}\n", head->sealed, head->last_position, head->head_hash.empty() ? "-" : head->head_hash);
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
