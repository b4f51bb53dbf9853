#include "server/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace preceptor::server {
namespace po = boost::program_options;

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// PRECEPTOR_DATA_DIR -> data-dir
std::string env_to_option(const std::string& env, const po::options_description& desc) {
  const std::string prefix = "PRECEPTOR_";
  if (env.rfind(prefix, 0) != 0) return {};
  std::string name = env.substr(prefix.size());
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(c)); });
  return desc.find_nothrow(name, false) ? name : std::string();
}

}  // namespace

ConfigOutcome parse_config(int argc, const char* const argv[]) {
  ConfigOutcome out;
  ServerConfig& c = out.config;
  std::string origins;
  std::string trusted_proxies;
  double token_idle_days = 7, token_lifetime_days = 30;
  int64_t audit_retention_days = 365;
  std::string config_file;
  bool fast_hash = false;
  std::vector<std::string> stun_urls, turn_urls;
  std::string turn_secret_file;

  po::options_description general("General");
  general.add_options()("help,h", "Print this help and exit.")(
      "config", po::value(&config_file),
      "Read options from this INI file (`key = value` lines, same names as the flags). Flags and PRECEPTOR_* "
      "environment variables win over it.")(
      "listen-address", po::value(&c.listen_address)->default_value(c.listen_address),
      "Address to listen on. Use 0.0.0.0 to accept connections from other machines (put TLS in front).")(
      "port", po::value(&c.port)->default_value(c.port),
      "TCP port for HTTP and WebSocket (/v1/ws). 0 picks a free port and logs it.")(
      "data-dir", po::value(&c.data_dir)->default_value(c.data_dir),
      "Folder holding the RocksDB database; created if missing. Only one server may use it at a time.")(
      "demo", po::bool_switch(&c.demo),
      "Create a demo program (one director, two mentors, three mentees) if it is not there yet, and print "
      "their logins.")("log-level", po::value(&c.log_level)->default_value(c.log_level),
                       "Least severe log level printed: debug, info, warn or error.")(
      "io-threads", po::value(&c.io_threads)->default_value(c.io_threads),
      "Threads serving network I/O. The default is one less than the machine's cores (at least 1): the "
      "committer (the single writer) has its own thread.")(
      "blocking-threads", po::value(&c.blocking_threads)->default_value(c.blocking_threads),
      "Threads hashing passwords (argon2id), kept off the network threads.")(
      "scheduler-interval-ms", po::value(&c.scheduler_interval_ms)->default_value(c.scheduler_interval_ms),
      "How often timed work runs: request reminders (7 days) and expiry (14 days), check-ins due. 0 turns it "
      "off.")("redaction-interval-ms",
              po::value(&c.redaction_interval_ms)->default_value(c.redaction_interval_ms),
              "How often, at most, the text of deleted and edited messages is flushed and compacted off the "
              "disk (write-ahead log and table files). The old text is gone from the disk within about this "
              "long after the change, plus the compaction's time. 0 runs it only at shutdown.")(
      "block-cache-mb", po::value(&c.block_cache_mb)->default_value(c.block_cache_mb),
      "RocksDB block cache size in MiB.")(
      "web-root", po::value(&c.web_root),
      "Serve the files in this folder at / (the web app): index.html for folders, Content-Type by extension, "
      "ETag and Range, a strict Content-Security-Policy; hashed files under assets/ are cached for a year, "
      "the rest revalidated. Empty (the default) serves none.")(
      "ops-token", po::value(&c.ops_token),
      "/readyz and /metrics answer clients on this machine (loopback) only; with this set, other addresses "
      "get them too when they send 'Authorization: Bearer <token>' (for a load balancer or Prometheus "
      "elsewhere). Prefer the PRECEPTOR_OPS_TOKEN environment variable, so the token is not in ps.");

  po::options_description limits("Limits (see docs/protocol.md)");
  limits.add_options()(
      "max-frame-bytes", po::value(&c.max_frame_bytes)->default_value(c.max_frame_bytes),
      "Largest frame a client may send; larger ones are answered with RESOURCE_EXHAUSTED and dropped.")(
      "hard-frame-bytes", po::value(&c.hard_frame_bytes)->default_value(c.hard_frame_bytes),
      "A frame larger than this closes the connection (WebSocket code 1009).")(
      "auth-timeout-ms", po::value(&c.auth_timeout_ms)->default_value(c.auth_timeout_ms),
      "A connection must Login or Authenticate within this many milliseconds.")(
      "idle-timeout-ms", po::value(&c.idle_timeout_ms)->default_value(c.idle_timeout_ms),
      "Close a connection that sends nothing (not even a WebSocket pong) for this long; the server pings at "
      "half of it.")("rate-per-second", po::value(&c.rate_per_second)->default_value(c.rate_per_second),
                     "Requests per second each connection may make, sustained.")(
      "rate-burst", po::value(&c.rate_burst)->default_value(c.rate_burst),
      "Requests each connection may make at once before the rate applies.")(
      "outbound-queue-bytes", po::value(&c.outbound_queue_bytes)->default_value(c.outbound_queue_bytes),
      "Bytes waiting to be sent to one connection before it is considered not reading and is closed.")(
      "user-quota-mb", po::value(&c.user_quota_mb)->default_value(c.user_quota_mb),
      "What one account may keep stored, in MiB: message bodies and check-in notes, and documents (complete "
      "ones, and the declared length of unfinished uploads). A message or an upload past it is refused with "
      "RESOURCE_EXHAUSTED until the user deletes messages or abandons uploads. 0 = no limit.")(
      "max-upload-mb", po::value(&c.max_upload_mb)->default_value(c.max_upload_mb),
      "Largest document one may upload, in MiB (1-4096); a larger Upload-Length is refused with 413.")(
      "max-bad-frames", po::value(&c.max_bad_frames)->default_value(c.max_bad_frames),
      "Undecodable, text or oversized frames tolerated per connection before it is closed.")(
      "max-connections", po::value(&c.max_connections)->default_value(c.max_connections),
      "Open connections (HTTP and WebSocket) the server takes at most; more are answered 503 with "
      "Retry-After. Keep it below the process's open-file limit. 0 = no limit.")(
      "max-connections-per-address",
      po::value(&c.max_connections_per_address)->default_value(c.max_connections_per_address),
      "Open connections from one client address at most (503 beyond). Behind a reverse proxy every client "
      "has the proxy's address: set 0 there and limit at the proxy.")(
      "http-header-timeout-ms", po::value(&c.http_header_timeout_ms)->default_value(c.http_header_timeout_ms),
      "An HTTP request's head (and a keep-alive connection's next one) must arrive within this; a slow or "
      "idle "
      "client is then disconnected.")(
      "max-sessions-per-user", po::value(&c.max_sessions_per_user)->default_value(c.max_sessions_per_user),
      "Signed-in connections one user may have at once; one more sign-in is refused with RESOURCE_EXHAUSTED "
      "and closed. 0 = no limit.")(
      "allowed-origins", po::value(&origins)->default_value("http://localhost:8080,http://127.0.0.1:8080"),
      "Comma-separated browser Origins allowed to open /v1/ws; `*` allows any. Also allowed: a page of the "
      "server's own address (Origin = http:// + the Host header) when that host is an IP address, localhost "
      "or a host named here (docs/security.md). Clients that send no Origin (apps, CLI) are always allowed.")(
      "shutdown-grace-ms", po::value(&c.shutdown_grace_ms)->default_value(c.shutdown_grace_ms),
      "On SIGTERM, how long sessions get to close before the server exits anyway.")(
      "trusted-proxy-header", po::value(&c.trusted_proxy_header),
      "Behind a reverse proxy: the header naming the client, e.g. X-Forwarded-For. Its last address is "
      "taken as the client's (for the per-address sign-in limits, docs/security.md), but only on connections "
      "from --trusted-proxies; from anywhere else the header is ignored. Off by default: the TCP peer is the "
      "client.")(
      "trusted-proxies", po::value(&trusted_proxies),
      "Comma-separated IP addresses of the reverse proxies whose --trusted-proxy-header is believed. "
      "Required with --trusted-proxy-header.");

  po::options_description accounts("Accounts");
  accounts.add_options()("token-idle-days", po::value(&token_idle_days)->default_value(token_idle_days),
                         "A sign-in token unused for this many days ends (automatic logoff).")(
      "token-lifetime-days", po::value(&token_lifetime_days)->default_value(token_lifetime_days),
      "A sign-in token ends this many days after login, however much it is used.")(
      "fast-password-hashing", po::bool_switch(&fast_hash),
      "Use libsodium's minimum argon2id cost. For tests and demos only: it makes stolen hashes easy to "
      "crack.")(
      "audit-retention-days", po::value(&audit_retention_days)->default_value(audit_retention_days),
      "Entries of the audit log (sign-ins, account changes, directors' reads; docs/security.md) are "
      "deleted this many days after they were written, by the timed work.")(
      "unsafe-no-sync", po::bool_switch(&c.unsafe_no_sync),
      "Acknowledge writes before they are synced to disk, so a power cut loses acknowledged "
      "messages. Only for the power-cut test's negative control; never in production.");

  po::options_description calls("Calls (WebRTC; media never passes through the server)");
  calls.add_options()(
      "stun-url", po::value(&stun_urls),
      "A STUN server the apps use to find their public address, e.g. stun:stun.example.org:3478. Repeat the "
      "flag or give a comma-separated list. None by default.")(
      "turn-url", po::value(&turn_urls),
      "A TURN server that relays the media when the two apps cannot reach each other directly, e.g. "
      "turn:turn.example.org:3478?transport=udp or turns:turn.example.org:5349. Repeat the flag or give a "
      "comma-separated list. Needs the TURN server's shared secret. None by default: the apps then connect "
      "only directly.")(
      "turn-secret", po::value(&c.calls.turn_secret),
      "The shared secret of the TURN servers (coturn: use-auth-secret with static-auth-secret=<this>); each "
      "user gets a short-lived credential made from it. Prefer the PRECEPTOR_TURN_SECRET environment "
      "variable or --turn-secret-file, so the secret is not in ps.")(
      "turn-secret-file", po::value(&turn_secret_file),
      "Read the TURN shared secret from this file (its first line; surrounding spaces and the line end are "
      "left out).")("turn-ttl-seconds",
                    po::value(&c.calls.turn_ttl_seconds)->default_value(c.calls.turn_ttl_seconds),
                    "How long a TURN credential handed to an app is good for, in seconds (60-604800).");

  po::options_description all;
  all.add(general).add(limits).add(accounts).add(calls);

  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, all), vm);
    po::store(po::parse_environment(all, [&](const std::string& env) { return env_to_option(env, all); }),
              vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) {
        out.kind = ConfigOutcome::Kind::kError;
        out.text = "Cannot read the config file " + path + "; check the path given to --config.";
        return out;
      }
      po::store(po::parse_config_file(file, all), vm);
    }
    if (vm.count("help")) {
      std::ostringstream help;
      help << "preceptor-server: the Preceptor chat and meeting server for mentorship programs.\n\n"
           << "Usage: preceptor-server [options]\n\n"
           << "Serves HTTP and WebSocket on one port: /v1/ws (protocol: docs/protocol.md), /healthz,\n"
           << "/readyz and /metrics (Prometheus; loopback or --ops-token only), and the web app from\n"
           << "--web-root at /. Data lives in\n"
           << "--data-dir (embedded RocksDB).\n"
           << "Every option can also be given as an environment variable (--data-dir -> PRECEPTOR_DATA_DIR)\n"
           << "or in the --config file; flags win over the environment, which wins over the file.\n\n"
           << "Example: preceptor-server --demo --data-dir ./data --port 8080\n"
           << all;
      out.kind = ConfigOutcome::Kind::kHelp;
      out.text = help.str();
      return out;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    out.kind = ConfigOutcome::Kind::kError;
    out.text = std::string(e.what()) + ". Run preceptor-server --help to see every option.";
    return out;
  }

  c.allowed_origins = split_list(origins);
  for (const std::string& item : stun_urls) {
    for (std::string& url : split_list(item)) c.calls.stun_urls.push_back(std::move(url));
  }
  for (const std::string& item : turn_urls) {
    for (std::string& url : split_list(item)) c.calls.turn_urls.push_back(std::move(url));
  }
  c.trusted_proxies = split_list(trusted_proxies);
  auto fail = [&](std::string msg) {
    out.kind = ConfigOutcome::Kind::kError;
    out.text = std::move(msg);
    return out;
  };
  if (c.io_threads < 1 || c.io_threads > 64) return fail("--io-threads must be between 1 and 64.");
  if (c.blocking_threads < 1 || c.blocking_threads > 64)
    return fail("--blocking-threads must be between 1 and 64.");
  if (c.max_frame_bytes < 1024) return fail("--max-frame-bytes must be at least 1024.");
  if (c.max_upload_mb < 1 || c.max_upload_mb > 4096)
    return fail("--max-upload-mb must be between 1 and 4096.");
  if (c.hard_frame_bytes < c.max_frame_bytes)
    return fail("--hard-frame-bytes must be at least --max-frame-bytes.");
  if (c.rate_per_second <= 0 || c.rate_burst < 1)
    return fail("--rate-per-second must be above 0 and --rate-burst at least 1.");
  if (c.auth_timeout_ms < 100 || c.idle_timeout_ms < 1000)
    return fail("--auth-timeout-ms must be at least 100 and --idle-timeout-ms at least 1000.");
  if (token_idle_days <= 0 || token_lifetime_days <= 0)
    return fail("--token-idle-days and --token-lifetime-days must be above 0.");
  if (audit_retention_days < 1 || audit_retention_days > 36'500)
    return fail("--audit-retention-days must be between 1 and 36500 (100 years).");
  std::error_code fs_error;
  if (!c.web_root.empty() && !std::filesystem::is_directory(c.web_root, fs_error))
    return fail("--web-root " + c.web_root +
                " is not a folder; give the folder holding the web app's index.html.");
  if (c.trusted_proxy_header.empty() != c.trusted_proxies.empty())
    return fail(
        "--trusted-proxy-header and --trusted-proxies go together: name the header and the proxies that set "
        "it.");
  for (const std::string& proxy : c.trusted_proxies) {
    in6_addr v6{};
    in_addr v4{};
    if (inet_pton(AF_INET, proxy.c_str(), &v4) != 1 && inet_pton(AF_INET6, proxy.c_str(), &v6) != 1)
      return fail("--trusted-proxies: " + proxy + " is not an IP address; list the proxies' addresses.");
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error")
    return fail("--log-level must be debug, info, warn or error.");
  if (!turn_secret_file.empty()) {
    if (!c.calls.turn_secret.empty())
      return fail("--turn-secret and --turn-secret-file both name the TURN secret; give one of them.");
    std::ifstream file(turn_secret_file);
    std::string line;
    if (!file || !std::getline(file, line))
      return fail("Cannot read the TURN secret from " + turn_secret_file +
                  "; check the path given to --turn-secret-file.");
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line.empty())
      return fail("--turn-secret-file " + turn_secret_file + " holds no secret on its first line.");
    c.calls.turn_secret = std::move(line);
  }
  if (Status calls_ok = services::check_call_options(c.calls); !calls_ok) return fail(calls_ok.message());
  c.accounts.token_idle_timeout_ms = static_cast<int64_t>(token_idle_days * 24 * 3600 * 1000);
  c.accounts.token_lifetime_ms = static_cast<int64_t>(token_lifetime_days * 24 * 3600 * 1000);
  c.audit.retention_ms = audit_retention_days * 24 * 3600 * 1000;
  if (fast_hash) {
    c.accounts.pwhash_opslimit = 1;
    c.accounts.pwhash_memlimit_bytes = 8192;
  }
  return out;
}

}  // namespace preceptor::server
