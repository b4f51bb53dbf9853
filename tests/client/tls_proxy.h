#pragma once

// GCC 12 warns falsely where one Asio coroutine here calls another that it
// inlines (the sanitizer build's -O1): it sees the frame's operator new and
// operator delete (Asio's recycling allocator) both inlined and cannot pair
// them.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// A TLS front for a plain local server, as an operator puts one before
// Preceptor: accepts https on 127.0.0.1 with a throwaway self-signed
// certificate (for 127.0.0.1 and localhost) and forwards the bytes to a
// local port. The certificate's PEM file is what a client is told to trust.

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace preceptor::testing {

// Writes a self-signed certificate and its key (PEM) for 127.0.0.1 and
// localhost; false when OpenSSL refused.
inline bool write_self_signed(const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  bool ok = key && x;
  if (ok) {
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      ok = ok && ext && X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
  }
  if (ok) {
    FILE* c = std::fopen(cert_pem.c_str(), "w");
    FILE* k = std::fopen(key_pem.c_str(), "w");
    ok =
        c && k && PEM_write_X509(c, x) && PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
    if (c) std::fclose(c);
    if (k) std::fclose(k);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

class TlsProxy {
 public:
  TlsProxy(uint16_t target_port, const std::filesystem::path& folder)
      : target_port_(target_port), cert_(folder / "proxy-cert.pem"), key_(folder / "proxy-key.pem") {
    ok_ = write_self_signed(cert_, key_);
    if (ok_) {
      tls_.use_certificate_chain_file(cert_.string());
      tls_.use_private_key_file(key_.string(), boost::asio::ssl::context::pem);
    }
    acceptor_.open(tcp::v4());
    acceptor_.bind({boost::asio::ip::address_v4::loopback(), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsProxy() {
    io_.stop();
    thread_.join();
  }

  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }
  const std::filesystem::path& certificate() const { return cert_; }

 private:
  using tcp = boost::asio::ip::tcp;
  using Tls = boost::asio::ssl::stream<tcp::socket>;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s =
          co_await acceptor_.async_accept(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return;
      boost::asio::co_spawn(io_, serve(std::move(s)), boost::asio::detached);
    }
  }

  awaitable<void> serve(tcp::socket s) {
    auto front = std::make_shared<Tls>(std::move(s), tls_);
    auto back = std::make_shared<tcp::socket>(io_);
    boost::system::error_code ec;
    co_await front->async_handshake(boost::asio::ssl::stream_base::server,
                                    boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec) co_return;
    co_await back->async_connect({boost::asio::ip::address_v4::loopback(), target_port_},
                                 boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec) co_return;
    boost::asio::co_spawn(io_, pump(front, back, true), boost::asio::detached);
    co_await pump(front, back, false);
  }

  // One direction: from the client (to_server) or to it.
  static awaitable<void> pump(std::shared_ptr<Tls> front, std::shared_ptr<tcp::socket> back, bool to_server) {
    char buf[16 * 1024];
    boost::system::error_code ec;
    for (;;) {
      size_t n = 0;
      if (to_server) {
        n = co_await front->async_read_some(boost::asio::buffer(buf),
                                            boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) break;
        co_await boost::asio::async_write(*back, boost::asio::buffer(buf, n),
                                          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      } else {
        n = co_await back->async_read_some(boost::asio::buffer(buf),
                                           boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) break;
        co_await boost::asio::async_write(*front, boost::asio::buffer(buf, n),
                                          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      }
      if (ec) break;
    }
    boost::system::error_code ignored;
    back->close(ignored);
    front->lowest_layer().close(ignored);
  }

  uint16_t target_port_;
  std::filesystem::path cert_, key_;
  bool ok_ = false;
  boost::asio::io_context io_{1};
  boost::asio::ssl::context tls_{boost::asio::ssl::context::tls_server};
  tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace preceptor::testing
