#include "server/net/net_config.h"

#include <algorithm>
#include <thread>

namespace preceptor::server {

int default_io_threads() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores - 1, 1, 64);
}

}  // namespace preceptor::server
