// The only translation unit of the SDK that includes Beast's HTTP and TLS.
#include "preceptor/client/http_transport.h"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <limits>

namespace preceptor::client {

std::optional<std::string> http_field(const HttpFields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return std::nullopt;
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::redirect_error;
using asio::use_awaitable;

constexpr size_t kPiece = 64 * 1024;          // bytes moved per read or write of a body
constexpr size_t kMaxKeptBody = 1024 * 1024;  // an answer kept in memory (JSON, an error)

class BeastHttpTransport final : public HttpTransport {
 public:
  BeastHttpTransport(HttpAddress address, HttpTransportOptions options)
      : address_(std::move(address)), options_(std::move(options)), ssl_ctx_(ssl::context::tls_client) {
    if (address_.tls) {
      boost::system::error_code ec;
      ssl_ctx_.set_default_verify_paths(ec);
      if (!options_.ca_file.empty()) {
        ssl_ctx_.load_verify_file(options_.ca_file, ca_error_);
      }
      ssl_ctx_.set_verify_mode(options_.verify_peer ? ssl::verify_peer : ssl::verify_none);
    }
    piece_ = std::make_unique<char[]>(kPiece);
  }

  Result<HttpIn> exchange(const HttpOut& out, const std::function<bool(const HttpIn&)>& take_body,
                          const std::function<Status(std::string_view)>& on_body) override {
    // A kept-alive connection the server has meanwhile closed fails before
    // any answer arrives; a request without a body is then sent once more
    // on a new connection.
    const bool reused = open_;
    Result<HttpIn> r = run_once(out, take_body, on_body);
    if (!r && reused && out.body_length == 0 && failure_ == HttpFailure::kTransfer && !answer_started_) {
      r = run_once(out, take_body, on_body);
    }
    return r;
  }

  HttpFailure last_failure() const override { return failure_; }

  void close() override {
    boost::system::error_code ec;
    if (plain_) plain_->socket().close(ec);
    if (secure_) beast::get_lowest_layer(*secure_).socket().close(ec);
    plain_.reset();
    secure_.reset();
    buffer_.clear();
    open_ = false;
  }

 private:
  Result<HttpIn> run_once(const HttpOut& out, const std::function<bool(const HttpIn&)>& take_body,
                          const std::function<Status(std::string_view)>& on_body) {
    Result<HttpIn> result = internal_error("The HTTP exchange did not finish.");
    failure_ = HttpFailure::kNone;
    answer_started_ = false;
    asio::co_spawn(io_, run(out, take_body, on_body, &result), [&](std::exception_ptr e) {
      if (e) {
        result = internal_error("The HTTP exchange failed unexpectedly.");
        failure_ = HttpFailure::kLocal;
      }
    });
    close_after_ = false;
    io_.restart();
    io_.run();
    if (!result || close_after_) close();
    return result;
  }

  std::string where() const { return address_.to_string(); }

  Status fail(HttpFailure kind, Status why) {
    failure_ = kind;
    return why;
  }

  Status network(HttpFailure kind, const std::string& doing, const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) {
      return fail(kind, Status(v1::ERROR_CODE_DEADLINE_EXCEEDED,
                               "No answer from " + where() + " while " + doing + " (timed out)."));
    }
    return fail(kind, unavailable("The connection to " + where() + " failed while " + doing + ": " +
                                  ec.message() + "."));
  }

  asio::awaitable<Status> connect() {
    close();
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    auto results = co_await resolver.async_resolve(address_.host, std::to_string(address_.port),
                                                   redirect_error(use_awaitable, ec));
    if (ec) {
      co_return fail(HttpFailure::kConnect,
                     unavailable("Could not resolve " + address_.host + ": " + ec.message() + "."));
    }
    if (address_.tls) {
      if (ca_error_) {
        co_return fail(HttpFailure::kConnect,
                       invalid_argument("Could not read the certificates in " + options_.ca_file + ": " +
                                            ca_error_.message() + ".",
                                        "ca_file"));
      }
      secure_.emplace(io_, ssl_ctx_);
      auto& lowest = beast::get_lowest_layer(*secure_);
      lowest.expires_after(options_.connect_timeout);
      co_await lowest.async_connect(results, redirect_error(use_awaitable, ec));
      if (ec) co_return network(HttpFailure::kConnect, "connecting", ec);
      if (!SSL_set_tlsext_host_name(secure_->native_handle(), address_.host.c_str())) {
        co_return fail(HttpFailure::kConnect,
                       unavailable("Could not set the TLS server name " + address_.host + "."));
      }
      if (options_.verify_peer) secure_->set_verify_callback(ssl::host_name_verification(address_.host));
      lowest.expires_after(options_.connect_timeout);
      co_await secure_->async_handshake(ssl::stream_base::client, redirect_error(use_awaitable, ec));
      if (ec) {
        co_return fail(HttpFailure::kConnect,
                       unavailable("The TLS handshake with " + where() + " failed: " + ec.message() +
                                   " (is it an https server, with a certificate this machine trusts?)."));
      }
    } else {
      plain_.emplace(io_);
      plain_->expires_after(options_.connect_timeout);
      co_await plain_->async_connect(results, redirect_error(use_awaitable, ec));
      if (ec) {
        co_return fail(HttpFailure::kConnect,
                       unavailable("Could not connect to " + where() + ": " + ec.message() + "."));
      }
    }
    open_ = true;
    co_return Status::ok();
  }

  asio::awaitable<void> run(const HttpOut& out, const std::function<bool(const HttpIn&)>& take_body,
                            const std::function<Status(std::string_view)>& on_body, Result<HttpIn>* result) {
    if (!open_) {
      Status st = co_await connect();
      if (!st) {
        *result = st;
        co_return;
      }
    }
    if (secure_) {
      *result = co_await exchange_on(*secure_, out, take_body, on_body);
    } else {
      *result = co_await exchange_on(*plain_, out, take_body, on_body);
    }
  }

  template <class Stream>
  asio::awaitable<Result<HttpIn>> exchange_on(Stream& stream, const HttpOut& out,
                                              const std::function<bool(const HttpIn&)>& take_body,
                                              const std::function<Status(std::string_view)>& on_body) {
    auto& lowest = beast::get_lowest_layer(stream);
    boost::system::error_code ec;
    http::request<http::buffer_body> req{http::string_to_verb(out.method), out.target, 11};
    const bool v6 = address_.host.find(':') != std::string::npos;
    req.set(http::field::host,
            (v6 ? "[" + address_.host + "]" : address_.host) + ":" + std::to_string(address_.port));
    req.set(http::field::user_agent, "preceptor-client-cpp");
    for (const auto& [name, value] : out.fields) req.set(name, value);
    if (out.body_length > 0 || out.method == "POST" || out.method == "PATCH" || out.method == "PUT") {
      req.content_length(out.body_length);
    }
    req.keep_alive(true);
    req.body().data = nullptr;
    req.body().size = 0;
    req.body().more = out.body_length > 0;
    http::request_serializer<http::buffer_body> sr{req};
    lowest.expires_after(options_.io_timeout);
    co_await http::async_write_header(stream, sr, redirect_error(use_awaitable, ec));
    if (ec) co_return network(HttpFailure::kTransfer, "sending the request", ec);

    uint64_t left = out.body_length;
    bool write_broke = false;
    while (left > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kPiece, left));
      Result<size_t> got = out.body ? out.body(piece_.get(), want) : Result<size_t>(size_t{0});
      if (!got) co_return fail(HttpFailure::kLocal, got.status());
      if (*got == 0 || *got > want) {
        co_return fail(HttpFailure::kLocal,
                       internal_error("The upload's source ended " + std::to_string(left) +
                                      " bytes before the length it announced."));
      }
      left -= *got;
      req.body().data = piece_.get();
      req.body().size = *got;
      req.body().more = left > 0;
      lowest.expires_after(options_.io_timeout);
      co_await http::async_write(stream, sr, redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        // The server may have answered early (a refusal) and stopped
        // reading: its answer can still be waiting to be read.
        write_broke = true;
        break;
      }
    }

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (out.method == "HEAD") parser.skip(true);
    lowest.expires_after(write_broke ? std::chrono::milliseconds(2'000) : options_.io_timeout);
    co_await http::async_read_header(stream, buffer_, parser, redirect_error(use_awaitable, ec));
    if (ec) {
      co_return network(HttpFailure::kTransfer,
                        write_broke ? "sending the request body" : "reading the answer", ec);
    }
    answer_started_ = true;
    HttpIn in;
    in.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      in.fields.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    const bool streaming = take_body && on_body && take_body(in);
    while (!parser.is_done()) {
      parser.get().body().data = piece_.get();
      parser.get().body().size = kPiece;
      lowest.expires_after(options_.io_timeout);
      co_await http::async_read(stream, buffer_, parser, redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return network(HttpFailure::kTransfer, "reading the answer", ec);
      const size_t n = kPiece - parser.get().body().size;
      if (n == 0) continue;
      in.body_length += n;
      if (streaming) {
        if (Status st = on_body(std::string_view(piece_.get(), n)); !st)
          co_return fail(HttpFailure::kLocal, st);
      } else {
        if (in.body.size() + n > kMaxKeptBody) {
          co_return fail(HttpFailure::kTransfer,
                         unavailable("The answer from " + where() + " is larger than expected (over " +
                                     std::to_string(kMaxKeptBody) + " bytes)."));
        }
        in.body.append(piece_.get(), n);
      }
    }
    close_after_ = write_broke || !parser.get().keep_alive();
    co_return in;
  }

  HttpAddress address_;
  HttpTransportOptions options_;
  asio::io_context io_{1};
  ssl::context ssl_ctx_;
  boost::system::error_code ca_error_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
  std::unique_ptr<char[]> piece_;
  bool open_ = false;
  bool answer_started_ = false;
  bool close_after_ = false;  // the server will not take another request on this connection
  HttpFailure failure_ = HttpFailure::kNone;
};

}  // namespace

std::unique_ptr<HttpTransport> make_http_transport(HttpAddress address, HttpTransportOptions options) {
  return std::make_unique<BeastHttpTransport>(std::move(address), std::move(options));
}

}  // namespace preceptor::client
