// An LD_PRELOAD library for the power-cut test: it records, in the file named
// by POWER_CUT_LOG, how long each file was when it was last synced
// (fsync/fdatasync) and every rename, so the test can later throw away what a
// power cut would lose: every byte written after a file's last sync.
//
// With POWER_CUT_FAIL_FLAG set to a path, every fsync/fdatasync fails with
// EIO (without syncing) while a file exists at that path: a disk that stops
// taking writes, for the write-error test.
//
// Lines (each one write(2) with O_APPEND, so lines of threads never mix):
//   S <size> <path>      the file at <path> was synced at <size> bytes
//   R <old> <new>        rename(2) of <old> to <new> succeeded
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_fd = -2;  // -2: not opened yet; -1: no log asked for

static int log_file(void) {
  if (log_fd == -2) {
    const char* path = getenv("POWER_CUT_LOG");
    log_fd = path != NULL ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
  }
  return log_fd;
}

static void log_line(const char* line, size_t n) {
  const int fd = log_file();
  if (fd >= 0 && write(fd, line, n) < 0) {
    // Nothing to do: the test then sees a missing record and fails loudly.
  }
}

static void record_sync(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = '\0';
  char line[PATH_MAX + 64];
  const int len = snprintf(line, sizeof line, "S %lld %s\n", (long long)st.st_size, path);
  if (len > 0 && (size_t)len < sizeof line) log_line(line, (size_t)len);
}

// True while the test wants syncs to fail.
static int failing(void) {
  const char* flag = getenv("POWER_CUT_FAIL_FLAG");
  return flag != NULL && access(flag, F_OK) == 0;
}

// fsync and fdatasync: fail when asked to, else sync and record the file.
static int sync_through(const char* name, int (**real)(int), int fd) {
  if (*real == NULL) *real = (int (*)(int))dlsym(RTLD_NEXT, name);
  if (failing()) {
    errno = EIO;
    return -1;
  }
  const int r = (*real)(fd);
  if (r == 0) record_sync(fd);
  return r;
}

int fsync(int fd) {
  static int (*real)(int) = NULL;
  return sync_through("fsync", &real, fd);
}

int fdatasync(int fd) {
  static int (*real)(int) = NULL;
  return sync_through("fdatasync", &real, fd);
}

int rename(const char* from, const char* to) {
  static int (*real)(const char*, const char*) = NULL;
  if (real == NULL) real = (int (*)(const char*, const char*))dlsym(RTLD_NEXT, "rename");
  const int r = real(from, to);
  if (r == 0) {
    char a[PATH_MAX], b[PATH_MAX];
    if (realpath(to, b) != NULL) {
      // `from` is gone now: make it absolute by the folder of `to` when relative.
      if (from[0] == '/') {
        snprintf(a, sizeof a, "%s", from);
      } else {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", b);
        char* slash = strrchr(dir, '/');
        if (slash != NULL) *slash = '\0';
        const char* base = strrchr(from, '/');
        snprintf(a, sizeof a, "%s/%s", dir, base != NULL ? base + 1 : from);
      }
      char line[2 * PATH_MAX + 8];
      const int len = snprintf(line, sizeof line, "R %s %s\n", a, b);
      if (len > 0 && (size_t)len < sizeof line) log_line(line, (size_t)len);
    }
  }
  return r;
}
