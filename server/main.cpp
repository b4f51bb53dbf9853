// preceptor-server: wires configuration, storage and the network together.
#include <cstdio>

#include "common/log.h"
#include "server/app.h"
#include "server/config.h"

int main(int argc, char** argv) {
  using namespace preceptor;
  auto parsed = server::parse_config(argc, argv);
  switch (parsed.kind) {
    case server::ConfigOutcome::Kind::kHelp:
      std::fputs(parsed.text.c_str(), stdout);
      return 0;
    case server::ConfigOutcome::Kind::kError:
      std::fprintf(stderr, "preceptor-server: %s\n", parsed.text.c_str());
      return 2;
    case server::ConfigOutcome::Kind::kRun:
      break;
  }
  server::Server srv(parsed.config);
  if (Status st = srv.start(); !st) {
    std::fprintf(stderr, "preceptor-server: %s%s%s\n", st.message().c_str(),
                 st.detail().empty() ? "" : " Details: ", st.detail().c_str());
    return 1;
  }
  if (parsed.config.demo) {
    std::printf("Demo program ready. Sign in with any of these (username / password):\n");
    for (const auto& l : srv.demo_logins()) {
      std::printf("  %-18s %-24s %-17s %s\n", l.username.c_str(), l.password.c_str(), l.role.c_str(),
                  l.display_name.c_str());
    }
  }
  std::printf(
      "preceptor-server listening on ws://%s:%u/v1/ws (health: /healthz, metrics: /metrics). "
      "Ctrl-C or SIGTERM stops it.\n",
      parsed.config.listen_address.c_str(), static_cast<unsigned>(srv.port()));
  if (!parsed.config.web_root.empty()) {
    // Every address: this machine's own reaches it.
    const std::string& address = parsed.config.listen_address;
    const bool any = address == "0.0.0.0" || address == "::";
    const std::string host =
        any ? "127.0.0.1" : (address.find(':') != std::string::npos ? "[" + address + "]" : address);
    std::printf("The web app: open http://%s:%u/ in a browser.\n", host.c_str(),
                static_cast<unsigned>(srv.port()));
  }
  std::fflush(stdout);
  srv.run_until_signal();
  return 0;
}
