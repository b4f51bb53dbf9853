// Documents against a real server, over real sockets: resumable uploads
// (POST /v1/mentorships/<id>/uploads, PATCH/HEAD/DELETE /v1/uploads/<id>),
// the type decided by the content, limits and quota, expiry on the manual
// clock, downloads with Range, who may do what, and a kill -9 of the real
// binary in the middle of an upload.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/keys.h"
#include "storage/store.h"
#include "tests/support/test_client.h"
#include "tests/support/test_server.h"

namespace preceptor::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using F = v1::ClientFrame;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr int64_t kHourMs = 60LL * 60 * 1000;
constexpr auto kTimeout = 20s;

// ------------------------------------------------------------- content

// Bytes with no short period, so a piece stored twice or at the wrong
// offset changes the hash.
std::string pattern(uint64_t seed, uint64_t length) {
  std::string out(length, '\0');
  for (uint64_t i = 0; i < length; ++i)
    out[i] = static_cast<char>((i * 131 + i / 4099 + (i >> 16) + seed) & 0xff);
  return out;
}

std::string pdf(uint64_t length, uint64_t seed = 1) {
  std::string out = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
  out += pattern(seed, length - out.size());
  return out;
}

std::string png(uint64_t length) {
  std::string out("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0", 29);
  out += pattern(3, length - out.size());
  return out;
}

uint32_t crc32(std::string_view s) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char ch : s) {
    crc ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A ZIP archive with its files stored (not compressed), as office formats
// are zipped: enough for a tiny but valid .docx or .odt.
std::string zip_stored(const std::vector<std::pair<std::string, std::string>>& files) {
  auto u16 = [](std::string& out, uint32_t v) {
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
  };
  auto u32 = [&](std::string& out, uint32_t v) {
    u16(out, v & 0xffff);
    u16(out, v >> 16);
  };
  std::string body, central;
  for (const auto& [name, data] : files) {
    const uint32_t offset = static_cast<uint32_t>(body.size());
    const uint32_t crc = crc32(data);
    u32(body, 0x04034b50);
    u16(body, 20), u16(body, 0), u16(body, 0), u16(body, 0), u16(body, 33);
    u32(body, crc), u32(body, static_cast<uint32_t>(data.size())),
        u32(body, static_cast<uint32_t>(data.size()));
    u16(body, static_cast<uint32_t>(name.size())), u16(body, 0);
    body += name + data;
    u32(central, 0x02014b50);
    u16(central, 20), u16(central, 20), u16(central, 0), u16(central, 0), u16(central, 0), u16(central, 33);
    u32(central, crc), u32(central, static_cast<uint32_t>(data.size())),
        u32(central, static_cast<uint32_t>(data.size()));
    u16(central, static_cast<uint32_t>(name.size())), u16(central, 0), u16(central, 0), u16(central, 0),
        u16(central, 0);
    u32(central, 0), u32(central, offset);
    central += name;
  }
  std::string out = body + central;
  u32(out, 0x06054b50);
  u16(out, 0), u16(out, 0), u16(out, static_cast<uint32_t>(files.size())),
      u16(out, static_cast<uint32_t>(files.size()));
  u32(out, static_cast<uint32_t>(central.size())), u32(out, static_cast<uint32_t>(body.size()));
  u16(out, 0);
  return out;
}

std::string docx() {
  return zip_stored({
      {"[Content_Types].xml",
       "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types "
       "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" "
       "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" "
       "ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" "
       "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
       "</Types>"},
      {"_rels/.rels",
       "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships "
       "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" "
       "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
       "Target=\"word/document.xml\"/></Relationships>"},
      {"word/document.xml",
       "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document "
       "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>Wei "
       "Chen, curriculum vitae</w:t></w:r></w:p></w:body></w:document>"},
  });
}

std::string odt() {
  return zip_stored({
      {"mimetype", "application/vnd.oasis.opendocument.text"},
      {"content.xml",
       "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content "
       "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
       "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "
       "office:version=\"1.2\"><office:body><office:text><text:p>Study protocol, draft 2</text:p>"
       "</office:text></office:body></office:document-content>"},
      {"META-INF/manifest.xml",
       "<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest "
       "xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\"><manifest:file-entry "
       "manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.text\"/>"
       "</manifest:manifest>"},
  });
}

// ------------------------------------------------------------- HTTP client

struct Reply {
  int status = 0;                              // 0: no reply (error says why)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // A string field of a JSON body ("name":"value" or "name":number).
  std::string json(const std::string& name) const {
    const std::string key = "\"" + name + "\":";
    size_t at = body.find(key);
    if (at == std::string::npos) return {};
    at += key.size();
    if (body[at] == '"') {
      const size_t end = body.find('"', at + 1);
      return body.substr(at + 1, end - at - 1);
    }
    size_t end = at;
    while (end < body.size() && (std::isdigit(static_cast<unsigned char>(body[end])) || body[end] == '-'))
      ++end;
    return body.substr(at, end - at);
  }
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// One HTTP/1.1 connection that sends bytes as given and reads replies;
// every call is bounded by kTimeout.
class Connection {
 public:
  explicit Connection(uint16_t port) : stream_(io_) {
    boost::system::error_code ec;
    stream_.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    connected_ = !ec;
  }
  bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    boost::system::error_code ec = asio::error::timed_out;
    stream_.expires_after(kTimeout);
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                      [&](boost::system::error_code e, size_t) { ec = e; });
    run();
    return !ec;
  }

  Reply read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * kMiB);
    if (head) parser.skip(true);
    boost::system::error_code ec = asio::error::timed_out;
    stream_.expires_after(kTimeout);
    http::async_read(stream_, buffer_, parser, [&](boost::system::error_code e, size_t) { ec = e; });
    run();
    Reply r;
    if (ec) {
      r.error = ec.message();
      return r;
    }
    auto msg = parser.release();
    r.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
    r.body = std::move(msg.body());
    return r;
  }

  void close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void run() {
    io_.restart();
    io_.run();
  }
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

std::string head_of(std::string_view method, std::string_view target, const std::string& token,
                    const std::string& extra) {
  std::string h = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) h += "Authorization: Bearer " + token + "\r\n";
  return h + extra + "\r\n";
}

Reply failed(std::string why) {
  Reply r;
  r.error = std::move(why);
  return r;
}

// One request on a fresh connection; `body` with its Content-Length.
Reply request(uint16_t port, std::string_view method, std::string_view target, const std::string& token,
              std::string extra = {}, std::string_view body = {}) {
  Connection c(port);
  if (!c.connected()) return failed("cannot connect");
  if (!body.empty() || method == "PATCH") extra += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!c.send(head_of(method, target, token, extra)) || !c.send(body)) return failed("cannot send");
  return c.read(method == "HEAD");
}

// Sends `head` and then `body` from another thread, as fast as the server
// reads, while this thread waits for the reply: the reply, and how many
// body bytes had been sent when it came (a raw socket, so that sending and
// reading overlap).
struct Streamed {
  int status = 0;
  std::string response;  // head and body as received
  uint64_t sent_before_reply = 0;
};
Streamed stream_and_read(uint16_t port, const std::string& head, std::string_view body) {
  Streamed out;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return out;
  }
  std::atomic<uint64_t> sent{0};
  std::thread sender([&] {
    if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(head.size())) return;
    while (sent < body.size()) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(64 * kKiB, body.size() - sent));
      const ssize_t w = ::send(fd, body.data() + sent, n, MSG_NOSIGNAL);
      if (w <= 0) return;  // the server closed
      sent += static_cast<uint64_t>(w);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  char buf[4096];
  for (;;) {
    const size_t end = out.response.find("\r\n\r\n");
    if (end != std::string::npos) {
      const std::string lowered = lower(out.response.substr(0, end));
      const size_t cl = lowered.find("content-length:");
      const uint64_t length = cl == std::string::npos ? 0 : std::stoull(lowered.substr(cl + 15));
      if (out.response.size() >= end + 4 + length) break;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.response.append(buf, static_cast<size_t>(n));
  }
  out.sent_before_reply = sent;
  ::shutdown(fd, SHUT_RDWR);
  sender.join();
  ::close(fd);
  if (out.response.size() > 12 && out.response.compare(0, 5, "HTTP/") == 0)
    out.status = std::stoi(out.response.substr(9, 3));
  return out;
}

// Percent-encodes a file name for Upload-Name.
std::string encode_name(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      out.push_back(ch);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// --------------------------------------------------------------- fixture

struct Member {
  v1::User user;
  std::string token;
  std::unique_ptr<TestClient> ws;

  v1::Response get_document(uint64_t id) {
    v1::ClientFrame f;
    f.set_request_id(ws->next_request_id());
    f.mutable_get_document()->set_document_id(id);
    return ws->call(f).value_or(v1::Response());
  }
};

class Documents : public ::testing::Test {
 protected:
  void start(uint64_t user_quota_mb = 256, uint64_t max_upload_mb = 25) {
    server::ServerConfig config = test_config(dir_.path());
    config.user_quota_mb = user_quota_mb;
    config.max_upload_mb = max_upload_mb;
    config.scheduler_interval_ms = 0;  // timed work when the test says
    server_ = std::make_unique<TestServer>(std::move(config), &clock_);
    mentor_ = sign_in(server_->add_user("mentor.erik", v1::ROLE_MENTOR));
    mentee_ = sign_in(server_->add_user("wei.chen", v1::ROLE_MENTEE));
    stranger_ = sign_in(server_->add_user("lucia", v1::ROLE_MENTEE));
    director_ = sign_in(server_->add_user("director.okafor", v1::ROLE_PROGRAM_DIRECTOR));
    mentorship_ = pair(mentee_, mentor_);
  }

  Member sign_in(const v1::User& user) {
    Member m;
    m.user = user;
    m.ws = std::make_unique<TestClient>();
    EXPECT_EQ(m.ws->connect(server_->port()), "");
    auto login = m.ws->login(user.username(), TestServer::password_of(user.username()));
    EXPECT_TRUE(login.has_login()) << login.DebugString();
    m.token = login.login().token();
    return m;
  }

  // The mentee asks, the mentor accepts: an active mentorship.
  uint64_t pair(Member& mentee, Member& mentor) {
    v1::ClientFrame ask;
    ask.set_request_id(mentee.ws->next_request_id());
    ask.mutable_request_mentorship()->set_mentor_id(mentor.user.id());
    ask.mutable_request_mentorship()->set_purpose(v1::PURPOSE_CAREER);
    auto asked = mentee.ws->call(ask);
    EXPECT_TRUE(asked && has_mentorship(*asked)) << (asked ? asked->DebugString() : "no reply");
    v1::ClientFrame accept;
    accept.set_request_id(mentor.ws->next_request_id());
    accept.mutable_accept_mentorship()->set_mentorship_id(mentorship_of(*asked).id());
    auto accepted = mentor.ws->call(accept);
    EXPECT_TRUE(accepted && has_mentorship(*accepted)) << (accepted ? accepted->DebugString() : "no reply");
    return mentorship_of(*accepted).id();
  }

  uint16_t port() const { return server_->port(); }

  Reply post(const Member& who, uint64_t length, const std::string& name, uint64_t mentorship = 0) {
    return request(
        port(), "POST",
        "/v1/mentorships/" + std::to_string(mentorship ? mentorship : mentorship_) + "/uploads", who.token,
        "Upload-Length: " + std::to_string(length) + "\r\nUpload-Name: " + encode_name(name) + "\r\n");
  }
  Reply patch(const Member& who, uint64_t id, uint64_t offset, std::string_view body) {
    return request(port(), "PATCH", "/v1/uploads/" + std::to_string(id), who.token,
                   "Upload-Offset: " + std::to_string(offset) + "\r\n", body);
  }
  // PATCH as a client does after a drop: a 409 with Retry-After (the cut
  // body has not let go of the upload yet) is asked again; bounded.
  Reply patch_after_drop(const Member& who, uint64_t id, uint64_t offset, std::string_view body) {
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    Reply r = patch(who, id, offset, body);
    while (r.status == 409 && !r.header("retry-after").empty() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      r = patch(who, id, offset, body);
    }
    return r;
  }
  Reply head(const Member& who, uint64_t id) {
    return request(port(), "HEAD", "/v1/uploads/" + std::to_string(id), who.token);
  }
  Reply get(const Member& who, uint64_t id, std::string extra = {}) {
    return request(port(), "GET", "/v1/documents/" + std::to_string(id), who.token, std::move(extra));
  }

  // POST, then the content in PATCHes of `piece` bytes; the last reply.
  Reply upload(const Member& who, const std::string& name, std::string_view content, uint64_t piece = 0,
               uint64_t* id_out = nullptr) {
    Reply started = post(who, content.size(), name);
    if (started.status != 201) return started;
    const uint64_t id = std::stoull(started.json("upload_id"));
    if (id_out) *id_out = id;
    if (piece == 0) piece = content.size();
    Reply last;
    for (uint64_t at = 0; at < content.size(); at += piece) {
      last = patch(who, id, at, content.substr(at, std::min<uint64_t>(piece, content.size() - at)));
      if (last.status != 204 && last.status != 201) return last;
    }
    return last;
  }

  TempDir dir_;
  ManualClock clock_{SystemClock().now_ms()};
  std::unique_ptr<TestServer> server_;
  Member mentor_, mentee_, stranger_, director_;
  uint64_t mentorship_ = 0;
};

uint64_t id_of(const Reply& r) { return std::stoull(r.json("id").empty() ? "0" : r.json("id")); }

// ------------------------------------------------------------------ tests

TEST_F(Documents, TwentyFiveMiBUploadIsStoredWholeAndDownloadsTheSame) {
  start();
  const std::string content = pdf(25 * kMiB);
  Reply started = post(mentee_, content.size(), "CV 2026.pdf");
  ASSERT_EQ(started.status, 201) << started.body;
  const uint64_t id = std::stoull(started.json("upload_id"));
  EXPECT_EQ(started.header("location"), "/v1/uploads/" + std::to_string(id));
  EXPECT_EQ(started.json("offset"), "0");
  EXPECT_GT(std::stoll(started.json("expires_ms")), clock_.now_ms());

  // One body, chunked: the server takes it piece by piece.
  Connection c(port());
  ASSERT_TRUE(c.send(head_of("PATCH", "/v1/uploads/" + std::to_string(id), mentee_.token,
                             "Upload-Offset: 0\r\nTransfer-Encoding: chunked\r\n")));
  for (uint64_t at = 0; at < content.size(); at += 300 * kKiB) {
    const uint64_t n = std::min<uint64_t>(300 * kKiB, content.size() - at);
    char size[32];
    std::snprintf(size, sizeof size, "%llx\r\n", static_cast<unsigned long long>(n));
    ASSERT_TRUE(c.send(size + content.substr(at, n) + "\r\n"));
  }
  ASSERT_TRUE(c.send("0\r\n\r\n"));
  Reply done = c.read();
  ASSERT_EQ(done.status, 201) << done.error << done.body;
  EXPECT_EQ(done.header("upload-offset"), std::to_string(content.size()));
  EXPECT_EQ(id_of(done), id);
  EXPECT_EQ(done.json("sha256"), sha256_hex(content));
  EXPECT_EQ(done.json("content_type"), "application/pdf");
  EXPECT_EQ(done.json("size"), std::to_string(content.size()));
  EXPECT_EQ(done.json("name"), "CV 2026.pdf");

  Reply got = get(mentee_, id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body.size(), content.size());
  EXPECT_TRUE(got.body == content) << "the download differs from the upload";
  EXPECT_EQ(got.header("content-type"), "application/pdf");
  EXPECT_EQ(got.header("etag"), "\"" + sha256_hex(content) + "\"");

  // The metadata over the WebSocket, for both members.
  for (Member* m : {&mentee_, &mentor_}) {
    auto meta = m->get_document(id);
    ASSERT_TRUE(meta.has_get_document()) << meta.DebugString();
    const v1::Document& d = meta.get_document().document();
    EXPECT_EQ(d.size(), content.size());
    EXPECT_EQ(d.sha256(), sha256_hex(content));
    EXPECT_EQ(d.owner_id(), mentee_.user.id());
    EXPECT_EQ(d.mentorship_id(), mentorship_);
    EXPECT_EQ(d.content_type(), "application/pdf");
    EXPECT_EQ(d.name(), "CV 2026.pdf");
    EXPECT_GT(d.created_ms(), 0);
  }
  // A client whose 201 was lost asks again at the end, with no body.
  Reply again = patch(mentee_, id, content.size(), "");
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.json("sha256"), sha256_hex(content));
}

TEST_F(Documents, BodyCutInTheMiddleResumesFromHeadsOffset) {
  start();
  const std::string content = pdf(6 * kMiB + 12345, 7);
  Reply started = post(mentee_, content.size(), "protocol.pdf");
  ASSERT_EQ(started.status, 201);
  const uint64_t id = std::stoull(started.json("upload_id"));
  const std::string target = "/v1/uploads/" + std::to_string(id);

  // The whole length announced, a bit more than half sent, then the connection drops.
  const uint64_t sent = 3 * kMiB + 777;
  {
    Connection c(port());
    ASSERT_TRUE(
        c.send(head_of("PATCH", target, mentee_.token,
                       "Upload-Offset: 0\r\nContent-Length: " + std::to_string(content.size()) + "\r\n")));
    ASSERT_TRUE(c.send(std::string_view(content).substr(0, sent)));
    c.close();
  }
  // What arrived is made durable and recorded: HEAD says where to go on
  // (asked until the server has noticed the drop; bounded).
  Reply where;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  do {
    where = head(mentee_, id);
    ASSERT_EQ(where.status, 200) << where.error;
  } while (where.header("upload-offset") != std::to_string(sent) &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(where.header("upload-offset"), std::to_string(sent));
  EXPECT_EQ(where.header("upload-length"), std::to_string(content.size()));
  EXPECT_EQ(get(mentee_, id).status, 404) << "half a document is visible";

  // The wrong offset: 409 with the server's.
  Reply wrong = patch_after_drop(mentee_, id, 0, content.substr(0, 100));
  EXPECT_EQ(wrong.status, 409);
  EXPECT_EQ(wrong.header("upload-offset"), std::to_string(sent));
  EXPECT_NE(wrong.body.find("\"code\":\"ABORTED\""), std::string::npos) << wrong.body;

  // The rest in two more bodies.
  Reply next = patch_after_drop(mentee_, id, sent, content.substr(sent, kMiB));
  ASSERT_EQ(next.status, 204) << next.body;
  EXPECT_EQ(next.header("upload-offset"), std::to_string(sent + kMiB));
  Reply done = patch(mentee_, id, sent + kMiB, content.substr(sent + kMiB));
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(done.json("sha256"), sha256_hex(content));
  Reply got = get(mentor_, id);
  ASSERT_EQ(got.status, 200);
  EXPECT_TRUE(got.body == content);
  // Complete: HEAD says so, DELETE does not apply.
  Reply finished = head(mentee_, id);
  EXPECT_EQ(finished.header("upload-offset"), std::to_string(content.size()));
  EXPECT_EQ(finished.header("location"), "/v1/documents/" + std::to_string(id));
  EXPECT_EQ(request(port(), "DELETE", target, mentee_.token).status, 409);
}

TEST_F(Documents, OverTheLimitIsRefusedWith413) {
  start();
  Reply big = post(mentee_, 25 * kMiB + 1, "thesis.pdf");
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_NE(big.body.find("RESOURCE_EXHAUSTED"), std::string::npos);
  EXPECT_NE(big.body.find("25 MiB"), std::string::npos) << big.body;
  EXPECT_EQ(post(mentee_, 0, "empty.pdf").status, 400);
  EXPECT_EQ(request(port(), "POST", "/v1/mentorships/" + std::to_string(mentorship_) + "/uploads",
                    mentee_.token, "Upload-Length: 10\r\n")
                .status,
            400)
      << "a name is required";

  // A body longer than what is left of the declared length.
  Reply started = post(mentee_, 1000, "short.pdf");
  ASSERT_EQ(started.status, 201);
  const uint64_t id = std::stoull(started.json("upload_id"));
  Reply longer = patch(mentee_, id, 0, pdf(1001));
  EXPECT_EQ(longer.status, 413) << longer.body;
  EXPECT_EQ(head(mentee_, id).header("upload-offset"), "0");
}

TEST_F(Documents, PdfNameWithOtherBytesIsRefusedWith415AndTheUploadEnds) {
  start(/*user_quota_mb=*/30);
  const std::string image = png(24 * kMiB);
  Reply started = post(mentee_, image.size(), "cv.pdf");
  ASSERT_EQ(started.status, 201);
  const uint64_t id = std::stoull(started.json("upload_id"));
  // Refused on the first bytes: the answer comes while the body is still
  // being sent.
  Streamed refused =
      stream_and_read(port(),
                      head_of("PATCH", "/v1/uploads/" + std::to_string(id), mentee_.token,
                              "Upload-Offset: 0\r\nContent-Length: " + std::to_string(image.size()) + "\r\n"),
                      image);
  EXPECT_EQ(refused.status, 415) << refused.response;
  EXPECT_LT(refused.sent_before_reply, image.size()) << "refused only after the whole file";
  EXPECT_NE(refused.response.find("image/png"), std::string::npos) << refused.response;
  EXPECT_NE(refused.response.find("PDF"), std::string::npos) << refused.response;
  // The upload is over: gone, its bytes and quota given back.
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (head(mentee_, id).status != 404 && std::chrono::steady_clock::now() < deadline) {
  }
  EXPECT_EQ(head(mentee_, id).status, 404);
  EXPECT_EQ(post(mentee_, 29 * kMiB - 1, "real.pdf").status, 413) << "(over the size limit, not the quota)";
  EXPECT_EQ(post(mentee_, 25 * kMiB, "real.pdf").status, 201) << "the refused upload's quota came back";
  bool bytes_left = false;
  ASSERT_TRUE(server_->server()
                  .store()
                  .scan_prefix(storage::Cf::kDocumentChunks, storage::keys::PairKey::prefix(id),
                               [&](std::string_view, std::string_view) {
                                 bytes_left = true;
                                 return false;
                               })
                  .is_ok());
  EXPECT_FALSE(bytes_left);

  // Text in another encoding (Latin-1) is refused too.
  Reply latin = upload(mentee_, "notes.txt",
                       "caf\xe9 cr\xe8me br\xfb"
                       "l\xe9"
                       "e, " +
                           std::string(200, 'x') + "\n");
  EXPECT_EQ(latin.status, 415) << latin.body;
}

TEST_F(Documents, DocxOdtTextAndMarkdownAreTypedByContent) {
  start();
  struct Case {
    std::string name;
    std::string content;
    std::string type;
  };
  const std::string notes = "Goals for the rotation\n- présenter le cas\n- 症例発表\n";
  const std::vector<Case> cases = {
      {"CV.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"protocol.odt", odt(), "application/vnd.oasis.opendocument.text"},
      {"notes.txt", notes, "text/plain"},
      {"plan.MD", "# Plan\n\n*Read* the **guideline** first.\n", "text/markdown"},
      {"plan.markdown", "# Plan\n", "text/markdown"},
      {"docx-named.pdf", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"long.txt", std::string(100 * kKiB, 'a') + "é\n", "text/plain"},
  };
  for (const Case& c : cases) {
    Reply done = upload(mentee_, c.name, c.content, 4096);
    ASSERT_EQ(done.status, 201) << c.name << ": " << done.body;
    EXPECT_EQ(done.json("content_type"), c.type) << c.name;
    EXPECT_EQ(done.json("sha256"), sha256_hex(c.content)) << c.name;
    Reply got = get(mentor_, id_of(done));
    EXPECT_EQ(got.header("content-type"), c.type) << c.name;
    EXPECT_EQ(got.body, c.content) << c.name;
  }
  // Text that starts as text but is not UTF-8 further on (past the first
  // 64 KiB the type is decided on): refused once the whole file is in.
  std::string bad = std::string(70 * kKiB, 'b') + "\xff\xfe" + "tail\n";
  Reply refused = upload(mentee_, "notes2.txt", bad, 32 * kKiB);
  EXPECT_EQ(refused.status, 415) << refused.body;
  EXPECT_NE(refused.body.find("UTF-8"), std::string::npos) << refused.body;
  Reply nul = upload(mentee_, "nul.txt", std::string("abc\0def\n", 8));
  EXPECT_EQ(nul.status, 415) << nul.body;
}

TEST_F(Documents, RangesHeadersAndConditionalRequests) {
  start();
  const std::string content = pdf(300 * kKiB + 5, 11);
  const std::string name = "Lebenslauf für Wei \"final\".pdf";
  Reply done = upload(mentee_, name, content);
  ASSERT_EQ(done.status, 201) << done.body;
  const uint64_t id = id_of(done);
  const std::string size = std::to_string(content.size());

  Reply whole = get(mentor_, id);
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.header("content-length"), size);
  EXPECT_EQ(whole.header("accept-ranges"), "bytes");
  EXPECT_EQ(whole.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(whole.header("content-disposition"),
            "attachment; filename=\"Lebenslauf f_r Wei _final_.pdf\"; "
            "filename*=UTF-8''Lebenslauf%20f%C3%BCr%20Wei%20%22final%22.pdf");
  EXPECT_NE(whole.header("cache-control").find("no-store"), std::string::npos);
  const std::string etag = whole.header("etag");
  EXPECT_EQ(etag, "\"" + sha256_hex(content) + "\"");

  Reply part = get(mentor_, id, "Range: bytes=100000-199999\r\n");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("content-range"), "bytes 100000-199999/" + size);
  EXPECT_TRUE(part.body == content.substr(100000, 100000));
  EXPECT_NE(part.header("content-disposition").find("attachment"), std::string::npos);

  Reply tail = get(mentor_, id, "Range: bytes=-10\r\n");
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, content.substr(content.size() - 10));

  Reply across = get(mentee_, id, "Range: bytes=262140-262150\r\n");  // across two stored pieces
  EXPECT_EQ(across.status, 206);
  EXPECT_EQ(across.body, content.substr(262140, 11));

  Reply past = get(mentor_, id, "Range: bytes=" + size + "-\r\n");
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.header("content-range"), "bytes */" + size);

  Reply stale_if_range = get(mentor_, id, "Range: bytes=0-9\r\nIf-Range: \"other\"\r\n");
  EXPECT_EQ(stale_if_range.status, 200);
  Reply fresh_if_range = get(mentor_, id, "Range: bytes=0-9\r\nIf-Range: " + etag + "\r\n");
  EXPECT_EQ(fresh_if_range.status, 206);

  Reply unchanged = get(mentor_, id, "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_TRUE(unchanged.body.empty());

  Reply headers_only = request(port(), "HEAD", "/v1/documents/" + std::to_string(id), mentor_.token);
  EXPECT_EQ(headers_only.status, 200);
  EXPECT_EQ(headers_only.header("content-length"), size);
  EXPECT_EQ(headers_only.header("content-type"), "application/pdf");
}

TEST_F(Documents, OnlyMembersSeeDocumentsAndOnlyTheUploaderWritesTheUpload) {
  start();
  const std::string content = pdf(100 * kKiB);
  uint64_t done_id = 0;
  ASSERT_EQ(upload(mentee_, "cv.pdf", content, 0, &done_id).status, 201);
  Reply pending = post(mentee_, 50 * kKiB, "draft.pdf");
  ASSERT_EQ(pending.status, 201);
  const uint64_t pending_id = std::stoull(pending.json("upload_id"));
  ASSERT_EQ(patch(mentee_, pending_id, 0, pdf(10 * kKiB)).status, 204);
  const std::string missing = "999999";

  // A stranger gets the same answer as for an id that does not exist.
  Member other_mentor = sign_in(server_->add_user("mentor.priya", v1::ROLE_MENTOR));
  for (Member* outsider : {&stranger_, &other_mentor}) {
    for (uint64_t id : {done_id, pending_id, uint64_t{999999}}) {
      EXPECT_EQ(get(*outsider, id).status, 404);
      EXPECT_EQ(head(*outsider, id).status, 404);
      EXPECT_EQ(patch(*outsider, id, 0, "x").status, 404);
      EXPECT_EQ(request(port(), "DELETE", "/v1/uploads/" + std::to_string(id), outsider->token).status, 404);
      EXPECT_EQ(outsider->get_document(id).error().code(), v1::ERROR_CODE_NOT_FOUND);
    }
    EXPECT_EQ(post(*outsider, 10, "x.pdf").status, 404);
  }
  EXPECT_EQ(get(stranger_, done_id).body.find("cv.pdf"), std::string::npos);
  EXPECT_EQ(post(mentee_, 10, "x.pdf", 424242).status, 404);

  // Directors see counts only.
  EXPECT_EQ(get(director_, done_id).status, 403);
  EXPECT_EQ(get(director_, 999999).status, 403);
  EXPECT_EQ(post(director_, 10, "x.pdf").status, 403);
  EXPECT_EQ(head(director_, pending_id).status, 403);
  EXPECT_EQ(director_.get_document(done_id).error().code(), v1::ERROR_CODE_PERMISSION_DENIED);

  // The other member downloads; only the uploader continues or abandons.
  EXPECT_EQ(get(mentor_, done_id).status, 200);
  EXPECT_TRUE(mentor_.get_document(done_id).has_get_document());
  EXPECT_EQ(patch(mentor_, pending_id, 10 * kKiB, "x").status, 403);
  EXPECT_EQ(head(mentor_, pending_id).status, 403);
  EXPECT_EQ(request(port(), "DELETE", "/v1/uploads/" + std::to_string(pending_id), mentor_.token).status,
            403);

  // Unfinished: no document for anyone, the uploader included.
  EXPECT_EQ(get(mentee_, pending_id).status, 404);
  EXPECT_EQ(mentee_.get_document(pending_id).error().code(), v1::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(mentor_.get_document(pending_id).error().code(), v1::ERROR_CODE_NOT_FOUND);

  // No token: 401.
  EXPECT_EQ(request(port(), "GET", "/v1/documents/" + std::to_string(done_id), "").status, 401);
  EXPECT_EQ(request(port(), "PATCH", "/v1/uploads/" + std::to_string(pending_id), "", "Upload-Offset: 0\r\n")
                .status,
            401);
  // The uploader abandons.
  EXPECT_EQ(request(port(), "DELETE", "/v1/uploads/" + std::to_string(pending_id), mentee_.token).status,
            204);
  EXPECT_EQ(head(mentee_, pending_id).status, 404);
}

TEST_F(Documents, QuotaAndFourUnfinishedUploadsPerUser) {
  start(/*user_quota_mb=*/2);
  // The declared length is reserved at POST.
  Reply first = post(mentee_, 1200 * kKiB, "a.pdf");
  ASSERT_EQ(first.status, 201);
  Reply over = post(mentee_, 900 * kKiB, "b.pdf");
  EXPECT_EQ(over.status, 507) << over.body;
  EXPECT_NE(over.body.find("--user-quota-mb"), std::string::npos) << over.body;
  EXPECT_EQ(post(mentor_, 1900 * kKiB, "mine.pdf").status, 201) << "a quota is per user";
  // Abandoning gives it back.
  const std::string first_id = first.json("upload_id");
  EXPECT_EQ(request(port(), "DELETE", "/v1/uploads/" + first_id, mentee_.token).status, 204);
  Reply again = post(mentee_, 900 * kKiB, "b.pdf");
  EXPECT_EQ(again.status, 201);

  // At most four unfinished; a finished one does not count.
  std::vector<std::string> ids = {again.json("upload_id")};
  for (int i = 0; i < 3; ++i) {
    Reply r = post(mentee_, 10 * kKiB, "small" + std::to_string(i) + ".pdf");
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(r.json("upload_id"));
  }
  Reply fifth = post(mentee_, 10 * kKiB, "fifth.pdf");
  EXPECT_EQ(fifth.status, 429) << fifth.body;
  EXPECT_NE(fifth.body.find("unfinished uploads"), std::string::npos) << fifth.body;
  ASSERT_EQ(patch(mentee_, std::stoull(ids[1]), 0, pdf(10 * kKiB)).status, 201);
  EXPECT_EQ(post(mentee_, 10 * kKiB, "fifth.pdf").status, 201);
}

TEST_F(Documents, UnfinishedUploadExpiresADayAfterItsLastByte) {
  start(/*user_quota_mb=*/1);
  Reply started = post(mentee_, 600 * kKiB, "draft.pdf");
  ASSERT_EQ(started.status, 201);
  const uint64_t id = std::stoull(started.json("upload_id"));
  EXPECT_EQ(std::stoll(started.json("expires_ms")), clock_.now_ms() + 24 * kHourMs);

  clock_.advance_ms(20 * kHourMs);
  ASSERT_EQ(patch(mentee_, id, 0, pdf(300 * kKiB)).status, 204);  // the last byte moves the expiry
  clock_.advance_ms(23 * kHourMs);
  server_->server().run_scheduler_once();
  Reply alive = head(mentee_, id);
  ASSERT_EQ(alive.status, 200) << "expired 24 h after the start instead of after the last byte";
  EXPECT_EQ(alive.header("upload-offset"), std::to_string(300 * kKiB));
  EXPECT_EQ(post(mentee_, 600 * kKiB, "other.pdf").status, 507) << "still reserved";

  clock_.advance_ms(2 * kHourMs);
  server_->server().run_scheduler_once();
  EXPECT_EQ(head(mentee_, id).status, 404);
  EXPECT_EQ(patch(mentee_, id, 300 * kKiB, pattern(5, 10)).status, 404);
  bool bytes_left = false;
  ASSERT_TRUE(server_->server()
                  .store()
                  .scan_prefix(storage::Cf::kDocumentChunks, storage::keys::PairKey::prefix(id),
                               [&](std::string_view, std::string_view) {
                                 bytes_left = true;
                                 return false;
                               })
                  .is_ok());
  EXPECT_FALSE(bytes_left) << "an expired upload's bytes stay on disk";
  EXPECT_EQ(post(mentee_, 900 * kKiB, "other.pdf").status, 201) << "the quota came back";
  // A complete document never expires.
  Reply kept = upload(mentee_, "kept.pdf", pdf(50 * kKiB));
  ASSERT_EQ(kept.status, 201);
  clock_.advance_ms(48 * kHourMs);
  server_->server().run_scheduler_once();
  EXPECT_EQ(get(mentor_, id_of(kept)).status, 200);
}

TEST_F(Documents, TheLimitIsTheMaxUploadMbFlag) {
  start(/*user_quota_mb=*/256, /*max_upload_mb=*/1);
  EXPECT_EQ(post(mentee_, kMiB + 1, "a.pdf").status, 413);
  EXPECT_EQ(post(mentee_, kMiB, "a.pdf").status, 201);
}

TEST(DocumentsConfig, MaxUploadMbDefaultsTo25AndIsBounded) {
  {
    const char* argv[] = {"preceptor-server"};
    auto out = server::parse_config(1, argv);
    ASSERT_EQ(out.kind, server::ConfigOutcome::Kind::kRun) << out.text;
    EXPECT_EQ(out.config.max_upload_mb, 25u);
  }
  {
    const char* argv[] = {"preceptor-server", "--max-upload-mb", "100"};
    auto out = server::parse_config(3, argv);
    ASSERT_EQ(out.kind, server::ConfigOutcome::Kind::kRun) << out.text;
    EXPECT_EQ(out.config.max_upload_mb, 100u);
  }
  for (const char* bad : {"0", "4097"}) {
    const char* argv[] = {"preceptor-server", "--max-upload-mb", bad};
    auto out = server::parse_config(3, argv);
    EXPECT_EQ(out.kind, server::ConfigOutcome::Kind::kError) << bad;
    EXPECT_NE(out.text.find("--max-upload-mb"), std::string::npos) << out.text;
  }
}

// The real binary, killed (SIGKILL) in the middle of a body: the offset the
// server acknowledged is there after the restart, the bytes before it are
// intact (the upload finishes with the right SHA-256), and no half document
// is ever visible.
TEST(DocumentsCrash, Kill9DuringAnUploadLosesNothingAcknowledged) {
  TempDir dir;
  v1::User mentee_user;
  uint64_t mentorship_id = 0;
  {
    TestServer setup(test_config(dir.path()));
    const v1::User mentor = setup.add_user("mentor.erik", v1::ROLE_MENTOR);
    mentee_user = setup.add_user("wei.chen", v1::ROLE_MENTEE);
    TestClient mentee, mentor_ws;
    ASSERT_EQ(mentee.connect(setup.port()), "");
    ASSERT_EQ(mentor_ws.connect(setup.port()), "");
    ASSERT_TRUE(mentee.login("wei.chen", TestServer::password_of("wei.chen")).has_login());
    ASSERT_TRUE(mentor_ws.login("mentor.erik", TestServer::password_of("mentor.erik")).has_login());
    v1::ClientFrame ask;
    ask.set_request_id(mentee.next_request_id());
    ask.mutable_request_mentorship()->set_mentor_id(mentor.id());
    ask.mutable_request_mentorship()->set_purpose(v1::PURPOSE_RESEARCH);
    auto asked = mentee.call(ask);
    ASSERT_TRUE(asked && has_mentorship(*asked));
    v1::ClientFrame accept;
    accept.set_request_id(mentor_ws.next_request_id());
    accept.mutable_accept_mentorship()->set_mentorship_id(mentorship_of(*asked).id());
    ASSERT_TRUE(mentor_ws.call(accept).has_value());
    mentorship_id = mentorship_of(*asked).id();
  }
  const std::string content = pdf(16 * kMiB, 21);
  std::string token;
  uint64_t id = 0;
  uint64_t acknowledged = 0;
  {
    ServerProcess server(PRECEPTOR_SERVER_PATH, dir.path(), {"--log-level", "warn"});
    ASSERT_GT(server.port(), 0) << server.output();
    TestClient ws;
    ASSERT_EQ(ws.connect(server.port()), "");
    auto login = ws.login("wei.chen", TestServer::password_of("wei.chen"));
    ASSERT_TRUE(login.has_login());
    token = login.login().token();
    Reply started =
        request(server.port(), "POST", "/v1/mentorships/" + std::to_string(mentorship_id) + "/uploads", token,
                "Upload-Length: " + std::to_string(content.size()) + "\r\nUpload-Name: cv.pdf\r\n");
    ASSERT_EQ(started.status, 201) << started.body;
    id = std::stoull(started.json("upload_id"));
    Reply first = request(server.port(), "PATCH", "/v1/uploads/" + std::to_string(id), token,
                          "Upload-Offset: 0\r\n", std::string_view(content).substr(0, 5 * kMiB));
    ASSERT_EQ(first.status, 204) << first.body;
    acknowledged = std::stoull(first.header("upload-offset"));
    ASSERT_EQ(acknowledged, 5 * kMiB);

    // A second body: 6 MiB of the 11 announced, and the connection stays open.
    Connection c(server.port());
    ASSERT_TRUE(c.send(head_of("PATCH", "/v1/uploads/" + std::to_string(id), token,
                               "Upload-Offset: " + std::to_string(acknowledged) + "\r\nContent-Length: " +
                                   std::to_string(content.size() - acknowledged) + "\r\n")));
    ASSERT_TRUE(c.send(std::string_view(content).substr(acknowledged, 6 * kMiB)));
    // Once the server has recorded part of it (a flush every few MiB), it
    // is killed with the rest still in memory.
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    for (;;) {
      Reply where = request(server.port(), "HEAD", "/v1/uploads/" + std::to_string(id), token);
      ASSERT_EQ(where.status, 200);
      acknowledged = std::stoull(where.header("upload-offset"));
      if (acknowledged > 5 * kMiB || std::chrono::steady_clock::now() > deadline) break;
    }
    EXPECT_GT(acknowledged, 5 * kMiB) << "nothing of the second body was recorded";
    server.send_signal(SIGKILL);
    ASSERT_NE(server.wait_exit(std::chrono::milliseconds(10'000)), -1);
  }
  ServerProcess server(PRECEPTOR_SERVER_PATH, dir.path(), {"--log-level", "warn"});
  ASSERT_GT(server.port(), 0) << server.output();
  const std::string target = "/v1/uploads/" + std::to_string(id);
  Reply where = request(server.port(), "HEAD", target, token);
  ASSERT_EQ(where.status, 200) << where.body;
  const uint64_t offset = std::stoull(where.header("upload-offset"));
  EXPECT_GE(offset, acknowledged) << "an acknowledged offset was lost";
  EXPECT_LT(offset, content.size());
  // No half document, over HTTP or the WebSocket.
  EXPECT_EQ(request(server.port(), "GET", "/v1/documents/" + std::to_string(id), token).status, 404);
  TestClient ws;
  ASSERT_EQ(ws.connect(server.port()), "");
  ASSERT_TRUE(ws.authenticate(token).has_authenticate());
  v1::ClientFrame f;
  f.set_request_id(ws.next_request_id());
  f.mutable_get_document()->set_document_id(id);
  auto meta = ws.call(f);
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->error().code(), v1::ERROR_CODE_NOT_FOUND);
  // The bytes before the offset are intact: the rest completes the right file.
  Reply done =
      request(server.port(), "PATCH", target, token, "Upload-Offset: " + std::to_string(offset) + "\r\n",
              std::string_view(content).substr(offset));
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(done.json("sha256"), sha256_hex(content));
  Reply got = request(server.port(), "GET", "/v1/documents/" + std::to_string(id), token);
  EXPECT_TRUE(got.body == content);
}

}  // namespace
}  // namespace preceptor::testing
