// The load generator's HTTP client and its upload of a document
// (docs/protocol.md "Documents"), held against Beast's server side over
// real loopback sockets: a document in several PATCH bodies arrives whole
// and in order, a server that closes after every answer is reconnected to,
// a refusal comes back with its status and sentence.
#include "bench/preceptor_bench/http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "bench/preceptor_bench/work_load.h"

namespace preceptor::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One upload at a time, as the protocol says: POST gives /v1/uploads/42,
// PATCH at the server's offset appends, the last byte gets 201 and the
// document; GET /v1/documents/42 gives it back.
struct FakeUploads {
  std::string token = "tok";
  uint64_t length = 0;
  std::string stored;
  bool close_after_each = false;
  bool refuse_type = false;
  int connections = 0;
  int patches = 0;

  http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    http::response<http::string_body> res;
    res.version(11);
    auto json = [&](http::status s, std::string body) {
      res.result(s);
      res.set(http::field::content_type, "application/json");
      res.body() = std::move(body);
    };
    if (req[http::field::authorization] != "Bearer " + token) {
      json(http::status::unauthorized, R"({"code":"UNAUTHENTICATED","message":"Sign in."})");
    } else if (req.method() == http::verb::post && req.target() == "/v1/mentorships/7/uploads") {
      length = std::stoull(std::string(req["Upload-Length"]));
      stored.clear();
      res.set(http::field::location, "/v1/uploads/42");
      json(http::status::created, R"({"upload_id":"42","offset":0,"expires_ms":1})");
    } else if (req.method() == http::verb::patch && req.target() == "/v1/uploads/42") {
      ++patches;
      const uint64_t offset = std::stoull(std::string(req["Upload-Offset"]));
      if (refuse_type) {
        json(
            http::status::unsupported_media_type,
            R"({"code":"INVALID_ARGUMENT","message":"This is not a PDF, Word, OpenDocument or text file."})");
      } else if (offset != stored.size()) {
        res.set("Upload-Offset", std::to_string(stored.size()));
        json(http::status::conflict, R"({"code":"ABORTED","message":"Not where the upload stands."})");
      } else {
        stored += req.body();
        if (stored.size() == length) {
          json(http::status::created,
               R"({"document":{"id":"42","mentorship_id":"7","name":"cv.pdf","size":)" +
                   std::to_string(length) +
                   R"(,"content_type":"application/pdf","sha256":"ab","created_ms":5}})");
        } else {
          res.result(http::status::no_content);
        }
        res.set("Upload-Offset", std::to_string(stored.size()));
      }
    } else if (req.method() == http::verb::get && req.target() == "/v1/documents/42") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "application/pdf");
      res.set("X-Content-Type-Options", "nosniff");
      res.body() = stored;
    } else {
      json(http::status::not_found, R"({"code":"NOT_FOUND","message":"No such thing."})");
    }
    res.keep_alive(!close_after_each);
    res.prepare_payload();
    return res;
  }
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_.port = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, serve(), asio::detached);
  }

  asio::awaitable<void> serve() {
    for (;;) {
      tcp::socket sock = co_await acceptor_.async_accept(asio::use_awaitable);
      ++fake_.connections;
      asio::co_spawn(io_, session(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket sock) {
    beast::flat_buffer buffer;
    try {
      for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(64 << 20);
        co_await http::async_read(sock, buffer, parser, asio::use_awaitable);
        auto res = fake_.handle(parser.get());
        co_await http::async_write(sock, res, asio::use_awaitable);
        if (!res.keep_alive()) break;
      }
    } catch (const std::exception&) {
    }
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
  }

  // Runs `fn` to its end (or 20 s).
  template <class Fn>
  void run(Fn fn) {
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          co_await fn();
          done = true;
          io_.stop();
        },
        asio::detached);
    io_.run_for(std::chrono::seconds(20));
    ASSERT_TRUE(done) << "did not finish";
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  Endpoint endpoint_;
  FakeUploads fake_;
};

TEST_F(HttpClientTest, ADocumentInSeveralPatchesArrivesWholeOverOneConnectionAndDownloadsTheSame) {
  std::string content = make_pdf_like((3 << 20) + 100, 9);
  stamp_pdf_like(content, 0xabc);
  ASSERT_EQ(content.rfind("%PDF-1.7\n", 0), 0u);
  ASSERT_NE(content.find("0000000000000abc\n"), std::string::npos);
  ASSERT_EQ(content.substr(content.size() - 7), "\n%%EOF\n");
  UploadOutcome up;
  std::optional<HttpAnswer> got;
  HttpClient http(io_, endpoint_);
  run([&]() -> asio::awaitable<void> {
    // (Named arguments: GCC 12 destroys temporaries in a co_await expression twice.)
    const Uploader who{"tok", 7};
    const std::string name = "cv.pdf";
    UploadOutcome u = co_await upload_document(http, who, name, content, 1 << 20);
    up = std::move(u);
    HttpClient::Headers h;
    h.emplace_back("Authorization", "Bearer tok");
    HttpAnswer a = co_await http.request("GET", "/v1/documents/42", h);
    got = std::move(a);
  });
  ASSERT_TRUE(up.ok) << up.error;
  EXPECT_EQ(up.document_id, 42u);
  EXPECT_EQ(up.content_type, "application/pdf");
  EXPECT_EQ(up.size, content.size());
  EXPECT_EQ(up.patches, 4u);
  EXPECT_EQ(fake_.stored, content);
  EXPECT_EQ(fake_.connections, 1);  // kept alive: POST, four PATCHes and the GET
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, content);
  EXPECT_EQ(got->header("x-content-type-options"), "nosniff");
}

TEST_F(HttpClientTest, AServerThatClosesAfterEveryAnswerIsReconnectedTo) {
  fake_.close_after_each = true;
  const std::string content = make_pdf_like(5000, 1);
  UploadOutcome up;
  HttpClient http(io_, endpoint_);
  run([&]() -> asio::awaitable<void> {
    const Uploader who{"tok", 7};
    const std::string name = "cv.pdf";
    UploadOutcome u = co_await upload_document(http, who, name, content, 2000);
    up = std::move(u);
  });
  ASSERT_TRUE(up.ok) << up.error;
  EXPECT_EQ(fake_.stored, content);
  EXPECT_EQ(fake_.connections, 4);  // the POST and three PATCHes
}

TEST_F(HttpClientTest, ARefusalComesBackWithItsStatusAndSentence) {
  fake_.refuse_type = true;
  UploadOutcome up, stranger;
  HttpClient http(io_, endpoint_);
  run([&]() -> asio::awaitable<void> {
    const Uploader who{"tok", 7}, other{"other", 7};
    const std::string name = "cv.pdf", content = make_pdf_like(100, 1);
    UploadOutcome u = co_await upload_document(http, who, name, content, 50);
    up = std::move(u);
    UploadOutcome v = co_await upload_document(http, other, name, content, 50);
    stranger = std::move(v);
  });
  EXPECT_FALSE(up.ok);
  EXPECT_EQ(up.status, 415);
  EXPECT_NE(up.error.find("not a PDF"), std::string::npos) << up.error;
  EXPECT_EQ(fake_.patches, 1);  // no second piece after a refusal
  EXPECT_FALSE(stranger.ok);
  EXPECT_EQ(stranger.status, 401);
}

TEST(JsonField, ReadsStringsAndNumbersOfTheServersAnswers) {
  const std::string doc =
      R"({"document":{"id":"42","mentorship_id":"7","name":"a \"b\".pdf","size":123,"content_type":"application/pdf"}})";
  EXPECT_EQ(json_field(doc, "id"), "42");
  EXPECT_EQ(json_field(doc, "mentorship_id"), "7");
  EXPECT_EQ(json_field(doc, "name"), "a \"b\".pdf");
  EXPECT_EQ(json_field(doc, "size"), "123");
  EXPECT_EQ(json_field(doc, "content_type"), "application/pdf");
  EXPECT_EQ(json_field(doc, "sha256"), "");
}

}  // namespace
}  // namespace preceptor::bench
