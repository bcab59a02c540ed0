// furrsight events tail / show: the log, for people.
#include <csignal>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "orchestrator/cli/commands.hpp"
#include "events/store/store_context.hpp"
#include "projections/stream_state.hpp"

namespace furrsight::orchestrator::cli {

using events::StoreContext;
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

std::string Actor(const events::RecordedEvent& e) {
  auto md = boost::json::parse(e.metadata_json);
  if (const auto* actor = md.as_object().if_contains("actor")) return std::string(actor->as_string());
  return "?";
}

void PrintEvent(const events::RecordedEvent& e, bool json) {
  if (json) {
    fmt::print(R"({{"global_position":{},"tx_id":"{}","event_id":"{}","stream_id":"{}","stream_version":{},"type":"{}","schema_version":{},"recorded_at":"{}","metadata":{},"payload":{}}})"
               "\n",
               e.position.global_position, e.position.tx_id, e.event_id, e.stream_id, e.stream_version, e.type,
               e.schema_version, e.recorded_at, e.metadata_json, e.payload_json);
  } else {
    fmt::print("{:>8}  {}  {}@{}  {}  by {}  {}\n", e.position.global_position, e.recorded_at, e.stream_id,
               e.stream_version, e.type, Actor(e), e.payload_json);
  }
  std::fflush(stdout);
}

std::vector<std::string> SplitList(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text) return out;
  size_t start = 0;
  while (start <= text->size()) {
    size_t comma = text->find(',', start);
    if (comma == std::string::npos) comma = text->size();
    if (comma > start) out.push_back(text->substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

base::Result<int> PositiveInt(const std::optional<std::string>& text, int fallback, std::string_view flag) {
  if (!text) return fallback;
  try {
    size_t used = 0;
    int v = std::stoi(*text, &used);
    if (used == text->size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  return base::Fail(base::ErrorCode::kInvalidArgument, fmt::format("--{} must be a positive number, not '{}'", flag, *text));
}

}  // namespace

int RunEventsTail(Invocation& inv) {
  events::ReadFilter filter{SplitList(inv.Option("category")), SplitList(inv.Option("type"))};
  auto stream = inv.Option("stream");
  if (stream) filter.categories = {events::CategoryOf(*stream)};
  auto last = PositiveInt(inv.Option("last"), 20, "last");
  if (!last) return ReportError(last.error());
  const bool json = inv.Flag("json");

  StoreContext ctx(inv.config);
  auto matches = [&](const events::RecordedEvent& e) { return !stream || e.stream_id == *stream; };
  events::LogPosition from;
  if (stream) {
    auto tail = ctx.store->ReadStream(*stream, std::numeric_limits<std::int64_t>::max(), events::Direction::kBackward,
                                      *last);
    if (!tail) return ReportError(tail.error());
    for (auto it = tail->rbegin(); it != tail->rend(); ++it) PrintEvent(*it, json);
    if (!tail->empty()) from = tail->front().position;
  } else {
    auto tail = ctx.store->ReadLast(filter, *last);
    if (!tail) return ReportError(tail.error());
    for (const auto& e : *tail) PrintEvent(e, json);
    if (!tail->empty()) from = tail->back().position;
  }
  if (!inv.Flag("follow")) return kExitOk;

  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  auto waker = ctx.MakeWaker(filter);
  // A stream is followed through its category from the log's start, printing
  // only versions newer than those already shown.
  events::Subscription sub(*ctx.store, waker.get(),
                           {.from = stream ? events::LogPosition{} : from, .filter = filter,
                            .poll_interval = ctx.poll_interval()});
  std::int64_t skip_through = 0;  // a stream's events already printed
  if (stream) {
    auto version = ctx.store->StreamVersion(*stream);
    if (!version) return ReportError(version.error());
    skip_through = *version;
  }
  while (!g_interrupted) {
    auto batch = sub.Next(std::chrono::milliseconds(500));
    if (!batch) return ReportError(batch.error());
    for (const auto& e : *batch)
      if (matches(e) && !(stream && e.stream_version <= skip_through)) PrintEvent(e, json);
  }
  return kExitOk;
}

int RunEventsShow(Invocation& inv) {
  if (inv.args.size() != 1) {
    fmt::print(stderr, "furrsight: events show needs one STREAM, e.g. furrsight events show pair-<uuid>\n");
    return kExitUsage;
  }
  StoreContext ctx(inv.config);
  const std::string& stream = inv.args[0];
  std::int64_t from = 1;
  int shown = 0;
  for (;;) {
    auto batch = ctx.store->ReadStream(stream, from, events::Direction::kForward, 1000);
    if (!batch) return ReportError(batch.error());
    for (const auto& e : *batch) PrintEvent(e, inv.Flag("json"));
    shown += static_cast<int>(batch->size());
    if (batch->size() < 1000) break;
    from = batch->back().stream_version + 1;
  }
  if (shown == 0) {
    fmt::print(stderr, "furrsight: stream {} has no events (stream ids look like job-<uuid>, pair-<uuid>)\n", stream);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli

namespace furrsight::orchestrator::cli {

int RunEventsState(Invocation& inv) {
  if (inv.args.size() != 1) {
    fmt::print(stderr, "furrsight: events state needs one STREAM, e.g. furrsight events state pair-<uuid> --as-of "
                       "2026-11-22T10:00:00Z\n");
    return kExitUsage;
  }
  projections::AsOf as_of;
  if (auto text = inv.Option("as-of")) {
    auto parsed = projections::ParseAsOf(*text);
    if (!parsed) return ReportError(parsed.error());
    as_of = *parsed;
  }
  StoreContext ctx(inv.config);
  auto state = projections::StateAsOf(*ctx.store, inv.args[0], as_of);
  if (!state) return ReportError(state.error());
  fmt::print("{}\n", boost::json::serialize(*state));
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
