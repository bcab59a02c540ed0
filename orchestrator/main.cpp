// The furrsight binary: the only place where components are wired together.
#include <fmt/format.h>

#include "events/base/log.hpp"
#include "orchestrator/cli/command_line.hpp"
#include "orchestrator/cli/commands.hpp"

namespace cli = furrsight::orchestrator::cli;

namespace {

const std::vector<cli::CommandSpec>& Commands() {
  static const std::vector<cli::CommandSpec> kCommands = {
      {"dev", "",
       "run everything on this machine: embedded PostgreSQL and Redis under data_dir, migrated",
       {{"once", "", "check that the system is alive, print the summary and exit"},
        {"fresh", "", "delete data_dir first and start over"},
        {"stack-only", "", "only PostgreSQL, Redis, read models and the sealer: no sample-site crawl"}},
       cli::RunDev},
      {"migrate", "", "apply pending migrations in order (each in its own transaction)",
       {{"status", "", "list applied and pending migrations instead"}},
       cli::RunMigrate},
      {"config", "", "show every setting, its value (passwords redacted) and where it came from", {},
       cli::RunConfig},
      {"events tail", "",
       "print the newest events of the log (or of one stream); --follow keeps printing new ones",
       {{"follow", "", "keep printing events as they are appended (Ctrl-C stops)"},
        {"stream", "STREAM", "only this stream, e.g. pair-<uuid>"},
        {"category", "LIST", "only these stream categories, comma-separated (job,pair,...)"},
        {"type", "LIST", "only these event types, comma-separated (PairVerified,...)"},
        {"last", "N", "how many existing events to print first (default 20)"},
        {"json", "", "one JSON object per line"}},
       cli::RunEventsTail},
      {"events show", "STREAM", "print every event of one stream with its metadata",
       {{"json", "", "one JSON object per line"}},
       cli::RunEventsShow},
      {"events state", "STREAM",
       "a stream's state (pair, job, ...) replayed from its events, now or as of a past moment",
       {{"as-of", "TIME|POSITION", "only events up to this time (2026-11-22T10:00:00Z) or log position"}},
       cli::RunEventsState},
      {"audit seal", "", "seal every event not sealed yet into the audit hash chain", {}, cli::RunAuditSeal},
      {"audit verify", "",
       "recompute the audit hash chain; exit 0 and print the head if it holds, else name the first bad event",
       {{"expect-head", "HASH", "also require this head hash (one kept outside the database)"}},
       cli::RunAuditVerify},
      {"audit head", "", "print: sealed count, last sealed position, head hash (keep it outside)", {},
       cli::RunAuditHead},
      {"jobs submit", "TYPE",
       "request a job (SCRAPE_URL, PROCESS_IMAGE_PAIR, BATCH_INFERENCE, GENERATE_QUERIES, VALIDATE_IMAGES, "
       "EXPORT_DATASET); prints its id",
       {{"payload", "JSON", "the job's input, checked against its type"},
        {"idempotency-key", "KEY", "the same key always names the same job"},
        {"priority", "N", "higher is claimed first"},
        {"max-attempts", "N", "attempts before the failure is final (default 3)"},
        {"lease-ms", "MS", "a worker's claim lapses unless renewed within this (default 30000)"},
        {"schedule-to-start-ms", "MS", "fail the job if no worker starts it within this (default: no limit)"},
        {"start-to-close-ms", "MS", "time out an attempt that runs longer (default: no limit)"},
        {"project", "ID", "the project it belongs to"}},
       cli::RunJobsSubmit},
      {"jobs show", "ID", "a job's state and its event history", {}, cli::RunJobsShow},
      {"jobs list", "", "jobs from the read model, newest first",
       {{"status", "STATUS", "PENDING, IN_PROGRESS, WAITING_RETRY, COMPLETED, FAILED or CANCELLED"},
        {"type", "TYPE", "a job type"},
        {"limit", "N", "at most N (default 50)"}},
       cli::RunJobsList},
      {"jobs cancel", "ID", "cancel a job (a running one stops at its worker's next lease renewal)",
       {{"reason", "TEXT", "why"}}, cli::RunJobsCancel},
      {"jobs retry", "ID", "give a job that failed for good one more attempt", {}, cli::RunJobsRetry},
      {"api", "",
       "serve the REST API (docs/api.md) until Ctrl-C; prints the address it listens on",
       {{"port", "N", "port to listen on (default: the api_port setting, 8080; 0: any free port)"}},
       cli::RunApi},
      {"scheduler", "",
       "time out lapsed leases and unstarted jobs, schedule retries, finish fan-outs, start follow-up jobs "
       "(one active instance; others stand by)",
       {}, cli::RunScheduler},
      {"projections status", "", "each projection's generations: version, state, checkpoint, lag, events applied",
       {}, cli::RunProjectionsStatus},
      {"projections run", "[NAME]",
       "run the live projectors (all, or NAME): standby until active, then follow the log", {},
       cli::RunProjectionsRun},
      {"projections rebuild", "NAME",
       "build a new generation from the start of the log beside the live one, then switch readers to it",
       {{"no-switch", "", "build but leave readers on the live generation"},
        {"until", "POSITION|TIME", "stop at this log position or time (needs --into)"},
        {"into", "SCHEMA", "write a snapshot of the past into this schema; the live model is untouched"}},
       cli::RunProjectionsRebuild},
      {"projections switch", "NAME GENERATION", "point readers at another generation (one transaction)", {},
       cli::RunProjectionsSwitch},
      {"projections drop", "NAME GENERATION", "drop a generation that is not live", {}, cli::RunProjectionsDrop},
      {"apikeys issue", "",
       "issue an API key for scripts; prints the key once (only its hash is stored)",
       {{"name", "NAME", "what the key is for, e.g. 'nightly export'"},
        {"roles", "LIST", "comma-separated: researcher, auditor, operator, admin"},
        {"user", "UUID", "the user it acts for (optional)"},
        {"expires-in", "DURATION", "stop working after this long: 90d, 12h, 30m (optional; default never)"}},
       cli::RunApiKeysIssue},
      {"apikeys revoke", "KEY_ID", "revoke an API key; API servers refuse it within a few seconds",
       {{"reason", "TEXT", "why (kept in the log)"}}, cli::RunApiKeysRevoke},
      {"apikeys list", "", "API keys from the read model: id, name, roles, active, expired or revoked", {},
       cli::RunApiKeysList},
      {"services run", "-- COMMAND [ARGS...]",
       "run COMMAND with a throwaway PostgreSQL and Redis (the test harness); stops them after",
       {{"dir", "DIR", "directory for the servers (default: a new temporary directory)"},
        {"keep", "", "keep the temporary directory afterwards"}},
       cli::RunServicesRun},
  };
  return kCommands;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = cli::Parse(Commands(), argc, argv);
  if (!parsed) {
    fmt::print(stderr, "furrsight: {}\n", parsed.error().message);
    return cli::kExitUsage;
  }
  if (!parsed->invocation) {
    fmt::print("{}", parsed->help_text);
    return cli::kExitOk;
  }
  cli::Invocation& inv = *parsed->invocation;
  furrsight::base::log::Level level;
  if (!furrsight::base::log::ParseLevel(inv.config.Get("log_level"), level)) {
    fmt::print(stderr, "furrsight: log_level must be debug, info, warn or error, not '{}'\n",
               inv.config.Get("log_level"));
    return cli::kExitUsage;
  }
  furrsight::base::log::SetLevel(level);
  try {
    return inv.command->run(inv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "furrsight {}: unexpected error: {}\n", inv.command->path, e.what());
    return cli::kExitFailure;
  }
}
