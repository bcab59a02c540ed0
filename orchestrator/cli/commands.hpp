// The furrsight subcommands. Each takes the parsed Invocation and returns
// the process exit code; main.cpp holds the command table.
#pragma once

#include "orchestrator/cli/command_line.hpp"

namespace furrsight::orchestrator::cli {

int RunMigrate(Invocation& inv);
int RunConfig(Invocation& inv);
int RunServicesRun(Invocation& inv);
int RunDev(Invocation& inv);
int RunEventsTail(Invocation& inv);
int RunEventsShow(Invocation& inv);
int RunEventsState(Invocation& inv);
int RunAuditSeal(Invocation& inv);
int RunAuditVerify(Invocation& inv);
int RunAuditHead(Invocation& inv);
int RunProjectionsStatus(Invocation& inv);
int RunProjectionsRun(Invocation& inv);
int RunProjectionsRebuild(Invocation& inv);
int RunProjectionsSwitch(Invocation& inv);
int RunProjectionsDrop(Invocation& inv);
int RunJobsSubmit(Invocation& inv);
int RunJobsShow(Invocation& inv);
int RunJobsList(Invocation& inv);
int RunJobsCancel(Invocation& inv);
int RunJobsRetry(Invocation& inv);
int RunScheduler(Invocation& inv);
int RunApiKeysIssue(Invocation& inv);
int RunApiKeysRevoke(Invocation& inv);
int RunApiKeysList(Invocation& inv);
int RunApi(Invocation& inv);

// Prints "furrsight: <message>" to stderr and returns kExitFailure.
int ReportError(const base::Error& error);

// The URL migrations and operator commands use: admin_database_url, or database_url.
std::string AdminUrl(const base::Config& config);

}  // namespace furrsight::orchestrator::cli
