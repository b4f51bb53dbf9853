// Documents over HTTP through preceptor::client::Documents against a real
// server with real sockets: uploads with progress, an upload cut off in the
// middle and resumed, downloads that equal the file, and the server's
// refusals as the user reads them.
#include "preceptor/client/documents.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "preceptor/client/server_url.h"
#include "tests/client/client_test_util.h"
#include "tests/client/cut_proxy.h"
#include "tests/client/scripted_upload_server.h"
#include "tests/client/tls_proxy.h"

namespace preceptor::testing {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `bytes` of Markdown-looking UTF-8 text, different in every line.
std::string text_of(size_t bytes, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  static const char* const kWords[] = {"cardiology", "résumé",   "fellowship", "protocol", "abstract",
                                       "mentor",     "rotation", "research",   "clinic",   "draft"};
  std::string out = "# Curriculum vitae\n\n";
  size_t line = 0;
  while (out.size() < bytes) {
    out += "- " + std::to_string(++line) + " ";
    for (int w = 0; w < 8; ++w) out += std::string(kWords[rng() % 10]) + " ";
    out += "\n";
  }
  // Cut without splitting a character: trailing non-ASCII bytes become spaces.
  out.resize(bytes);
  size_t i = out.size();
  while (i > 0 && (static_cast<unsigned char>(out[i - 1]) & 0x80)) out[--i] = ' ';
  out.back() = '\n';
  return out;
}

class DocumentsTest : public ClientFixture {
 protected:
  DocumentsTest() {
    server_->add_user("mentor.erik", v1::ROLE_MENTOR);
    server_->add_user("mentee.wei", v1::ROLE_MENTEE);
    server_->add_user("mentee.other", v1::ROLE_MENTEE);
    mentee_ = signed_in("mentee.wei");
    mentor_ = signed_in("mentor.erik");
    v1::RequestMentorship req;
    req.set_mentor_id(mentor_->user().id());
    req.set_purpose(v1::PURPOSE_CAREER);
    auto requested = mentee_->request_mentorship_sync(req);
    EXPECT_TRUE(requested) << requested.status().to_string();
    v1::AcceptMentorship accept;
    accept.set_mentorship_id(requested ? requested->mentorship().id() : 0);
    auto accepted = mentor_->accept_mentorship_sync(accept);
    EXPECT_TRUE(accepted) << accepted.status().to_string();
    mentorship_ = accept.mentorship_id();
  }

  client::DocumentsOptions options_for(const Client& c, uint16_t port = 0) const {
    client::DocumentsOptions o;
    o.url = "ws://127.0.0.1:" + std::to_string(port ? port : server_->port()) + "/v1/ws";
    o.token = c.token();
    o.initial_backoff = 10ms;
    o.max_backoff = 100ms;
    o.io_timeout = 10s;
    return o;
  }

  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    const auto p = dir_.path() / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  std::unique_ptr<Client> mentee_, mentor_;
  uint64_t mentorship_ = 0;
};

TEST(HttpUrl, TheWebSocketAddressAnswersHttpToo) {
  auto a = client::parse_http_url("ws://127.0.0.1:8080/v1/ws");
  ASSERT_TRUE(a) << a.status().to_string();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->prefix, "");
  auto b = client::parse_http_url("wss://chat.example.org/preceptor/v1/ws");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, 443);
  EXPECT_EQ(b->prefix, "/preceptor");
  EXPECT_EQ(b->to_string(), "https://chat.example.org:443/preceptor");
  auto c = client::parse_http_url("https://[::1]:8443/");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 8443);
  EXPECT_TRUE(c->tls);
  auto d = client::parse_http_url("chat.example.org:9000");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 9000);
  for (const char* bad : {"ftp://x", "http://:80", "https://host:0", "ws://host:x"}) {
    auto r = client::parse_http_url(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.status().field(), "url") << bad;
    }
  }
}

TEST(ContentDisposition, GivesAPlainFileNameNeverAPath) {
  EXPECT_EQ(client::content_disposition_file_name("attachment; filename=\"cv.pdf\""), "cv.pdf");
  EXPECT_EQ(client::content_disposition_file_name(
                "attachment; filename=\"cv.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20v2.pdf"),
            "Résumé v2.pdf");
  EXPECT_EQ(client::content_disposition_file_name("attachment; filename=\"a;b.txt\""), "a;b.txt");
  EXPECT_EQ(client::content_disposition_file_name("attachment; filename=\"../../etc/passwd\""), "passwd");
  EXPECT_EQ(client::content_disposition_file_name("attachment; filename*=UTF-8''..%2F..%2Fx"), "x");
  EXPECT_EQ(client::content_disposition_file_name("attachment; filename=\"..\""), "");
  EXPECT_EQ(client::content_disposition_file_name("attachment"), "");
  EXPECT_EQ(client::percent_encode("Résumé v2.pdf"), "R%C3%A9sum%C3%A9%20v2.pdf");
}

TEST(Documents, ABadAddressIsRefusedBeforeAnyTransfer) {
  client::DocumentsOptions o;
  o.url = "ftp://127.0.0.1";
  client::Documents docs(o);
  EXPECT_EQ(docs.valid().field(), "url");
  std::istringstream in("hello");
  auto r = docs.upload(1, in, 5, "a.txt");
  EXPECT_EQ(r.status().code(), v1::ERROR_CODE_INVALID_ARGUMENT);
}

TEST_F(DocumentsTest, UploadReportsGrowingProgressAndDownloadsTheSameBytes) {
  const std::string bytes = text_of(3 * 1024 * 1024 + 123);
  const auto file = write("cv.md", bytes);
  auto o = options_for(*mentee_);
  o.min_piece_bytes = o.max_piece_bytes = 256 * 1024;
  client::Documents docs(o);
  std::vector<uint64_t> seen;
  auto doc = docs.upload(mentorship_, file, "", [&](const client::TransferProgress& p) {
    EXPECT_EQ(p.total, bytes.size());
    seen.push_back(p.done);
  });
  ASSERT_TRUE(doc) << doc.status().to_string();
  EXPECT_NE(doc->id(), 0u);
  EXPECT_EQ(doc->name(), "cv.md");
  EXPECT_EQ(doc->size(), bytes.size());
  EXPECT_EQ(doc->content_type(), "text/markdown");
  EXPECT_EQ(doc->sha256().size(), 64u);
  ASSERT_GE(seen.size(), 8u) << "one report per piece of 256 KiB";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()) &&
              std::adjacent_find(seen.begin(), seen.end()) == seen.end())
      << "progress went back or repeated";
  EXPECT_EQ(seen.back(), bytes.size());

  // The other member downloads it: the same bytes, checked against the hash.
  client::Documents theirs(options_for(*mentor_));
  std::vector<uint64_t> down;
  auto got = theirs.download(doc->id(), dir_.path() / "copy.md", std::nullopt,
                             [&](const client::TransferProgress& p) { down.push_back(p.done); });
  ASSERT_TRUE(got) << got.status().to_string();
  EXPECT_EQ(read_file(dir_.path() / "copy.md"), bytes);
  EXPECT_EQ(got->sha256, doc->sha256());
  EXPECT_EQ(got->file_name, "cv.md");
  EXPECT_FALSE(got->partial);
  ASSERT_FALSE(down.empty());
  EXPECT_EQ(down.back(), bytes.size());

  // A range of it.
  std::ostringstream part;
  auto ranged = theirs.download(doc->id(), part, client::ByteRange{1000, 1999});
  ASSERT_TRUE(ranged) << ranged.status().to_string();
  EXPECT_TRUE(ranged->partial);
  EXPECT_EQ(ranged->total, bytes.size());
  EXPECT_EQ(part.str(), bytes.substr(1000, 1000));

  // A range past the end: the server's sentence, and no file left behind.
  auto outside =
      theirs.download(doc->id(), dir_.path() / "nothing.md", client::ByteRange{bytes.size() + 10, {}});
  EXPECT_EQ(outside.status().code(), v1::ERROR_CODE_OUT_OF_RANGE) << outside.status().to_string();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "nothing.md"));

  // GetDocument over the WebSocket describes the same document.
  v1::GetDocument get;
  get.set_document_id(doc->id());
  auto meta = mentor_->get_document_sync(get);
  ASSERT_TRUE(meta) << meta.status().to_string();
  EXPECT_EQ(meta->document().sha256(), doc->sha256());
}

TEST_F(DocumentsTest, AnUploadCutOffInTheMiddleResumesWhereTheServerStopped) {
  const std::string bytes = text_of(4 * 1024 * 1024, 7);
  const auto file = write("protocol.txt", bytes);
  CutProxy proxy(server_->port(), 1536 * 1024);  // 1.5 MiB into the upload
  auto o = options_for(*mentee_, proxy.port());
  o.min_piece_bytes = o.max_piece_bytes = 1024 * 1024;
  client::Documents docs(o);
  std::vector<client::TransferProgress> seen;
  auto doc = docs.upload(mentorship_, file, "protocol.txt",
                         [&](const client::TransferProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(doc) << doc.status().to_string();
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_GE(proxy.connections(), 2) << "it reconnected to resume";
  ASSERT_FALSE(seen.empty());
  EXPECT_GE(seen.back().retries, 1);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i].done, seen[i - 1].done) << "progress went back";
  EXPECT_EQ(seen.back().done, bytes.size());
  // Resuming sent again at most the piece that was cut (1 MiB) and the request headers.
  EXPECT_LT(proxy.forwarded(), bytes.size() + 1024 * 1024 + 64 * 1024);

  client::Documents theirs(options_for(*mentor_));
  auto got = theirs.download(doc->id(), dir_.path() / "back.txt");
  ASSERT_TRUE(got) << got.status().to_string();
  EXPECT_EQ(read_file(dir_.path() / "back.txt"), bytes);
  EXPECT_EQ(got->sha256, doc->sha256());
}

TEST_F(DocumentsTest, AStreamThatCannotSeekIsUploadedPieceByPiece) {
  const std::string bytes = text_of(700 * 1024, 3);
  std::istringstream in(bytes);
  auto o = options_for(*mentee_);
  o.min_piece_bytes = o.max_piece_bytes = 256 * 1024;
  client::Documents docs(o);
  auto doc = docs.upload(mentorship_, in, bytes.size(), "notes.txt");
  ASSERT_TRUE(doc) << doc.status().to_string();
  EXPECT_EQ(doc->content_type(), "text/plain");
  std::ostringstream back;
  auto got = client::Documents(options_for(*mentee_)).download(doc->id(), back);
  ASSERT_TRUE(got) << got.status().to_string();
  EXPECT_EQ(back.str(), bytes);
}

TEST_F(DocumentsTest, APdfNameOnOtherBytesIsRefusedWithTheServersSentence) {
  std::string junk(200 * 1024, '\0');
  std::mt19937 rng(5);
  for (auto& c : junk) c = static_cast<char>(rng());
  const auto file = write("cv.pdf", junk);
  client::Documents docs(options_for(*mentee_));
  auto doc = docs.upload(mentorship_, file);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.status().code(), v1::ERROR_CODE_INVALID_ARGUMENT) << doc.status().to_string();
  EXPECT_EQ(doc.status().field(), "content");
  EXPECT_FALSE(doc.status().message().empty());
}

TEST_F(DocumentsTest, OnlyTheTwoMembersSeeADocument) {
  const auto file = write("cv.txt", text_of(10 * 1024));
  auto doc = client::Documents(options_for(*mentee_)).upload(mentorship_, file);
  ASSERT_TRUE(doc) << doc.status().to_string();

  auto stranger = signed_in("mentee.other");
  auto got = client::Documents(options_for(*stranger)).download(doc->id(), dir_.path() / "stolen.txt");
  EXPECT_EQ(got.status().code(), v1::ERROR_CODE_NOT_FOUND) << got.status().to_string();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "stolen.txt"));
  // Nor can they upload to the mentorship.
  auto up = client::Documents(options_for(*stranger)).upload(mentorship_, file);
  EXPECT_EQ(up.status().code(), v1::ERROR_CODE_NOT_FOUND) << up.status().to_string();

  // Without a valid token: UNAUTHENTICATED, with the server's sentence.
  auto o = options_for(*mentee_);
  o.token = "not-a-token";
  auto refused = client::Documents(o).download(doc->id(), dir_.path() / "x.txt");
  EXPECT_EQ(refused.status().code(), v1::ERROR_CODE_UNAUTHENTICATED) << refused.status().to_string();
}

TEST_F(DocumentsTest, HttpsCarriesTheSameTransfersAndChecksTheCertificate) {
  TlsProxy tls(server_->port(), dir_.path());
  ASSERT_TRUE(tls.ok()) << "could not make a test certificate";
  const std::string bytes = text_of(600 * 1024, 11);
  const auto file = write("tls.txt", bytes);
  auto o = options_for(*mentee_);
  o.url = "https://127.0.0.1:" + std::to_string(tls.port());
  o.ca_file = tls.certificate().string();
  client::Documents docs(o);
  auto doc = docs.upload(mentorship_, file);
  ASSERT_TRUE(doc) << doc.status().to_string();
  std::ostringstream back;
  auto got = docs.download(doc->id(), back);
  ASSERT_TRUE(got) << got.status().to_string();
  EXPECT_EQ(back.str(), bytes);

  // A certificate this machine does not trust is refused, and said so.
  o.ca_file.clear();
  o.max_retries = 0;
  auto refused = client::Documents(o).upload(mentorship_, file);
  EXPECT_EQ(refused.status().code(), v1::ERROR_CODE_UNAVAILABLE) << refused.status().to_string();
  EXPECT_NE(refused.status().message().find("TLS handshake"), std::string::npos)
      << refused.status().message();
}

TEST(Documents, AnUnreachableServerFailsAfterBoundedRetries) {
  client::DocumentsOptions o;
  o.url = "ws://127.0.0.1:1";  // nothing listens on port 1
  o.token = "token";
  o.max_retries = 2;
  o.initial_backoff = 10ms;
  std::istringstream in(text_of(1024));
  const auto began = std::chrono::steady_clock::now();
  auto doc = client::Documents(o).upload(7, in, 1024, "cv.txt");
  EXPECT_EQ(doc.status().code(), v1::ERROR_CODE_UNAVAILABLE) << doc.status().to_string();
  EXPECT_NE(doc.status().message().find("Could not connect"), std::string::npos) << doc.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
}

// ---- recovery paths, against a server that misbehaves on cue ----

class DocumentsRecovery : public ::testing::Test {
 protected:
  client::DocumentsOptions options(const ScriptedUploadServer& server) const {
    client::DocumentsOptions o;
    o.url = server.url();
    o.token = "token";
    o.min_piece_bytes = o.max_piece_bytes = 256 * 1024;
    o.initial_backoff = 10ms;
    o.max_backoff = 50ms;
    o.io_timeout = 10s;
    return o;
  }
  // Uploads `bytes`; checks that progress only grew and ended at the size.
  Result<v1::Document> upload(client::Documents& docs, const std::string& bytes,
                              std::vector<client::TransferProgress>* seen) {
    std::istringstream in(bytes);
    auto doc = docs.upload(4, in, bytes.size(), "draft.txt",
                           [&](const client::TransferProgress& p) { seen->push_back(p); });
    for (size_t i = 1; i < seen->size(); ++i) {
      EXPECT_GT((*seen)[i].done, (*seen)[i - 1].done) << "progress went back at report " << i;
    }
    if (doc) {
      EXPECT_FALSE(seen->empty());
      if (!seen->empty()) {
        EXPECT_EQ(seen->back().done, bytes.size());
      }
    }
    return doc;
  }
};

TEST_F(DocumentsRecovery, ADropInTheMiddleOfABodyGoesOnFromTheServersOffset) {
  ScriptedUploadServer server({.drop_after_body_bytes = 300 * 1024});
  client::Documents docs(options(server));
  const std::string bytes = text_of(1024 * 1024 + 17, 21);
  std::vector<client::TransferProgress> seen;
  auto doc = upload(docs, bytes, &seen);
  ASSERT_TRUE(doc) << doc.status().to_string();
  EXPECT_EQ(server.drops(), 1);
  EXPECT_GE(server.heads(), 1) << "it asked where the server stood";
  EXPECT_EQ(server.stored(doc->id()), bytes);
  EXPECT_EQ(seen.back().retries, 1);
}

TEST_F(DocumentsRecovery, ALostCompletionIsAskedForAgain) {
  ScriptedUploadServer server({.lose_completion = true});
  client::Documents docs(options(server));
  const std::string bytes = text_of(600 * 1024, 22);
  std::vector<client::TransferProgress> seen;
  auto doc = upload(docs, bytes, &seen);
  ASSERT_TRUE(doc) << doc.status().to_string();
  EXPECT_EQ(server.drops(), 1);
  EXPECT_EQ(doc->size(), bytes.size());
  EXPECT_EQ(server.stored(doc->id()), bytes);
}

TEST_F(DocumentsRecovery, AnEarlierPieceStillArrivingIsWaitedOut) {
  ScriptedUploadServer server({.drop_after_body_bytes = 100 * 1024, .busy_after_drop = true});
  auto o = options(server);
  o.max_retries = 1;  // the wait for the earlier piece is not a failure
  client::Documents docs(o);
  const std::string bytes = text_of(400 * 1024, 23);
  std::vector<client::TransferProgress> seen;
  auto doc = upload(docs, bytes, &seen);
  ASSERT_TRUE(doc) << doc.status().to_string();
  EXPECT_EQ(server.stored(doc->id()), bytes);
}

TEST_F(DocumentsRecovery, ABusyServerIsAskedAgainAndAGoneOneGivenUpOn) {
  {
    ScriptedUploadServer server({.unavailable = 2});
    client::Documents docs(options(server));
    const std::string bytes = text_of(300 * 1024, 24);
    std::vector<client::TransferProgress> seen;
    auto doc = upload(docs, bytes, &seen);
    ASSERT_TRUE(doc) << doc.status().to_string();
    EXPECT_EQ(seen.back().retries, 2);
  }
  ScriptedUploadServer server({.unavailable = 1000});
  auto o = options(server);
  o.max_retries = 3;
  client::Documents docs(o);
  std::vector<client::TransferProgress> seen;
  auto doc = upload(docs, text_of(300 * 1024, 25), &seen);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.status().code(), v1::ERROR_CODE_UNAVAILABLE) << doc.status().to_string();
  EXPECT_NE(doc.status().message().find("4 failed attempts in a row"), std::string::npos)
      << doc.status().message();
  EXPECT_NE(doc.status().message().find("The disk is busy"), std::string::npos) << doc.status().message();
  EXPECT_EQ(server.patches(), 4);
}

}  // namespace
}  // namespace preceptor::testing
