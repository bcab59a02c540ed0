// A PostgreSQL restart under a running projector and an appending client:
// no accepted event is lost, the projector waits it out and catches up.
#include <thread>

#include "events/base/uuid.hpp"
#include "orchestrator/embedded/embedded_stack.hpp"
#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::projections {
namespace {

using namespace std::chrono_literals;

TEST(PostgresRestart, ProjectorWaitsItOutAndNoAcceptedEventIsLost) {
  const auto dir = testing::Services().dir / ("restart-" + std::to_string(::getpid()));
  auto stack = orchestrator::EmbeddedStack::Start({.dir = dir, .database = "furrsight", .ephemeral = true});
  ASSERT_TRUE(stack.has_value()) << stack.error().message;
  const int port = (*stack)->postgres().port();
  const std::string admin = (*stack)->AdminUrl(), service = (*stack)->ServiceUrl();
  events::PgPool pool(service, 4, events::EventStore::PrepareStatements);
  events::EventStore store(pool);
  FurrSightProjection projection;

  std::set<std::string> accepted;
  auto append_pairs = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto e = testing::TestEvent("pair-" + base::NewUuid(), "PairProposed",
                                  R"({"before_image_url":"blob://b","after_image_url":"blob://a"})");
      for (int tries = 0; tries < 200; ++tries) {  // retry while the server is away
        auto r = store.Append(e.stream_id, events::ExpectedVersion::Any(), std::vector{e});
        if (r) {
          accepted.insert(e.stream_id.substr(5));
          break;
        }
        std::this_thread::sleep_for(50ms);
      }
    }
  };
  append_pairs(100);

  std::atomic<bool> stop{false};
  std::thread runner([&] {
    Projector projector(admin, store, nullptr, projection, {.poll_interval = 50ms});
    auto ok = projector.Run(stop);  // must not throw or return early while the server is away
    EXPECT_TRUE(ok.has_value());
  });
  auto caught_up = [&](std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        pqxx::connection conn(admin);
        pqxx::read_transaction tx(conn);
        auto rows = tx.exec("SELECT count(*) FROM grooming_pairs");
        if (rows[0][0].as<size_t>() == accepted.size()) return true;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  ASSERT_TRUE(caught_up(30s));

  (*stack)->postgres().Stop();
  std::this_thread::sleep_for(1s);
  auto restarted = orchestrator::PostgresServer::Start({.dir = dir / "postgres", .port = port, .ephemeral = true});
  ASSERT_TRUE(restarted.has_value()) << restarted.error().message;
  append_pairs(100);
  EXPECT_EQ(accepted.size(), 200u);
  EXPECT_TRUE(caught_up(60s)) << "the projector did not recover from the restart";
  stop = true;
  runner.join();

  pqxx::connection conn(admin);
  pqxx::read_transaction tx(conn);
  std::set<std::string> stored;
  for (const auto& r : tx.exec("SELECT id::text FROM grooming_pairs")) stored.insert(r[0].c_str());
  EXPECT_EQ(stored, accepted) << "an accepted event is missing after the restart";
}

}  // namespace
}  // namespace furrsight::projections
