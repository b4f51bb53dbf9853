// The storage test binary's main: runs the tests, or, with --child=<name>,
// one of the child processes the tests start (see storage_test_util.h).

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "tests/storage/storage_test_util.h"

int main(int argc, char** argv) {
  std::string child;
  std::string arg;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--child=")) child = a.substr(8);
    if (a.starts_with("--child-arg=")) arg = a.substr(12);
  }
  if (!child.empty()) {
    auto& registry = preceptor::storage::testing::child_registry();
    auto it = registry.find(child);
    if (it == registry.end()) {
      std::fprintf(stderr, "storage_tests: no child named %s\n", child.c_str());
      return 2;
    }
    return it->second(arg, preceptor::storage::testing::kChildPipeFd);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
