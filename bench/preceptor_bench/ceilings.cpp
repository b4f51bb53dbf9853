#include "bench/preceptor_bench/ceilings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/preceptor_bench/async_util.h"
#include "bench/preceptor_bench/report.h"

namespace preceptor::bench {

Json FsyncResult::to_json() const {
  Json j = Json::object();
  j["syncs"] = syncs;
  j["seconds"] = seconds;
  j["per_second"] = per_second;
  j["bytes_per_write"] = static_cast<uint64_t>(bytes);
  j["latency"] = histogram_json(latency);
  return j;
}

FsyncResult measure_fdatasync(const std::string& dir, double seconds, size_t bytes) {
  FsyncResult r;
  r.bytes = bytes;
  const std::string path = dir + "/fdatasync-probe.tmp";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  std::vector<char> block(bytes, 'f');
  constexpr off_t kWrap = 64 << 20;  // like a WAL: append, start over every 64 MiB
  off_t offset = 0;
  const int64_t t0 = now_ns();
  const int64_t t_end = t0 + static_cast<int64_t>(seconds * 1e9);
  int64_t now = t0;
  while (now < t_end) {
    const int64_t start = now;
    if (::pwrite(fd, block.data(), block.size(), offset) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      throw std::runtime_error("write/fdatasync on " + path + ": " + err);
    }
    offset = (offset + static_cast<off_t>(bytes)) % kWrap;
    now = now_ns();
    r.latency.record(now - start);
    ++r.syncs;
  }
  ::close(fd);
  ::unlink(path.c_str());
  r.seconds = static_cast<double>(now - t0) / 1e9;
  r.per_second = static_cast<double>(r.syncs) / r.seconds;
  return r;
}

}  // namespace preceptor::bench
