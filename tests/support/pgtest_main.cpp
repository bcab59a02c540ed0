// main() of every *_pgtest program: refuses to run, with the command to use,
// when the harness's services are not there (rather than failing each test).
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (std::getenv("FURRSIGHT_TEST_ADMIN_URL") == nullptr) {
    std::fprintf(stderr,
                 "this is a *_pgtest: it needs the real PostgreSQL and Redis of the test harness.\n"
                 "Run it through the harness: scripts/test, or\n"
                 "  build/bin/furrsight services run -- ctest --test-dir build\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}
