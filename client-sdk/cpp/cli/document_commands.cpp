// preceptor-cli's commands that move files over HTTP: upload, submit (upload
// and SubmitVersion), download, export (the portfolio).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.h"
#include "preceptor/client/documents.h"
#include "work_text.h"

namespace preceptor::cli {

namespace {

using client::Documents;
using client::TransferProgress;

std::string bytes_text(double n) {
  char buf[32];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%.0f B", n);
  } else if (n < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024);
  } else if (n < 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", n / (1024 * 1024));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", n / (1024.0 * 1024 * 1024));
  }
  return buf;
}

// A progress bar on stderr: percentage, bytes and rate. On a terminal it is
// redrawn in place (at most 10 times a second); otherwise (a pipe, a log) a
// line is written at every quarter and at the end.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label)
      : label_(std::move(label)), tty_(isatty(STDERR_FILENO) != 0), began_(Clock::now()) {}

  void update(const TransferProgress& p) {
    const auto now = Clock::now();
    const bool last = p.total != 0 && p.done >= p.total;
    if (tty_) {
      if (!last && now - drawn_ < std::chrono::milliseconds(100)) return;
    } else {
      const int quarter = p.total == 0 ? 0 : static_cast<int>(p.done * 4 / p.total);
      if (!last && quarter <= quarter_) return;
      quarter_ = quarter;
    }
    drawn_ = now;
    const double seconds = std::max(1e-3, std::chrono::duration<double>(now - began_).count());
    std::ostringstream line;
    line << label_ << " ";
    if (p.total != 0) {
      const int percent = static_cast<int>(p.done * 100 / p.total);
      const int filled = percent / 5;
      line << "[" << std::string(static_cast<size_t>(filled), '#')
           << std::string(static_cast<size_t>(20 - filled), '-') << "] " << percent << "%  "
           << bytes_text(static_cast<double>(p.done)) << " of " << bytes_text(static_cast<double>(p.total));
    } else {
      line << bytes_text(static_cast<double>(p.done));
    }
    line << "  " << bytes_text(static_cast<double>(p.done) / seconds) << "/s";
    if (p.retries > 0)
      line << "  (resumed after " << p.retries << " interruption" << (p.retries == 1 ? "" : "s") << ")";
    if (tty_) {
      std::cerr << "\r" << line.str() << "\033[K" << std::flush;
      open_line_ = !last;
      if (last) std::cerr << "\n";
    } else {
      std::cerr << line.str() << "\n";
    }
  }

  // Ends a bar left mid-line (after a failure).
  ~ProgressBar() {
    if (open_line_) std::cerr << "\n";
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  bool tty_;
  Clock::time_point began_;
  Clock::time_point drawn_{};
  int quarter_ = -1;
  bool open_line_ = false;
};

client::DocumentsOptions documents_options(const Global& g) {
  client::DocumentsOptions o;
  o.url = g.server;
  o.token = read_token(g.token_file);
  o.connect_timeout = g.timeout;
  return o;
}

std::unique_ptr<Documents> documents_for(const Global& g) {
  auto d = std::make_unique<Documents>(documents_options(g));
  if (Status st = d->valid(); !st) throw UsageError{st.message()};
  return d;
}

// Uploads `file` to the mentorship with a progress bar on stderr and says
// what was stored; a refusal throws Failed with what to do next.
v1::Document upload_with_bar(const Global& g, uint64_t mentorship_id, const std::filesystem::path& file,
                             const std::string& name) {
  auto docs = documents_for(g);
  ProgressBar bar("Uploading " + name);
  auto doc = docs->upload(mentorship_id, file, name, [&](const TransferProgress& p) { bar.update(p); });
  if (!doc) {
    std::string then = next_step(doc.status());
    if (doc.status().field() == "content") {
      then = "Save it as PDF, DOCX, ODT, plain text or Markdown and upload that.";
    } else if (doc.status().code() == v1::ERROR_CODE_RESOURCE_EXHAUSTED && then.empty()) {
      then = "Make the file smaller, or remove documents you no longer need.";
    } else if (doc.status().code() == v1::ERROR_CODE_UNAVAILABLE ||
               doc.status().code() == v1::ERROR_CODE_DEADLINE_EXCEEDED) {
      then =
          "Run the same command again when the connection is back; the server keeps what it has for a day.";
    }
    throw Failed{"The upload of " + file.string() + " failed: " + doc.status().message() +
                 (then.empty() ? "" : " " + then)};
  }
  std::cout << "Uploaded " << doc->name() << " as document " << doc->id() << " (" << doc->size() << " bytes, "
            << doc->content_type() << ", SHA-256 " << doc->sha256() << ").\n";
  return *doc;
}

std::filesystem::path existing_file(const std::string& path) {
  std::filesystem::path file = path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw UsageError{"There is no file " + file.string() + "."};
  return file;
}

}  // namespace

int cmd_upload(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("upload options");
  options.add_options()("help,h", "show this help")("file", po::value<std::string>()->required(),
                                                    "the file: PDF, DOCX, ODT, plain text or Markdown")(
      "mentorship", po::value<std::string>()->required(), "the mentorship id (see 'mentorships')")(
      "name", po::value<std::string>(), "the name the file is shown under (default: its own name)");
  po::positional_options_description positional;
  positional.add("file", 1);
  auto vm = parse_command("upload", options, positional, args);
  if (help_requested(
          vm, "upload", "FILE --mentorship ID [--name NAME]",
          "preceptor-cli upload protocol-draft.docx --mentorship 3\n"
          "\n"
          "Uploads the file to the mentorship over HTTP (same server and token) with a progress bar on\n"
          "stderr and prints the document's id; only the two members of the mentorship can download it.\n"
          "An upload cut off by the network resumes by itself from the last byte the server stored.\n"
          "Submit it to an assignment later with 'preceptor-cli submit --document ID --assignment A'.",
          options)) {
    return kExitOk;
  }
  const uint64_t mentorship = parse_id("--mentorship", vm["mentorship"].as<std::string>());
  const std::filesystem::path file = existing_file(vm["file"].as<std::string>());
  const std::string name = vm.count("name") ? vm["name"].as<std::string>() : file.filename().string();
  const v1::Document doc = upload_with_bar(g, mentorship, file, name);
  std::cout << "Submit it to an assignment with: preceptor-cli submit --document " << doc.id()
            << " --assignment ID\n";
  return kExitOk;
}

int cmd_submit(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("submit options");
  options.add_options()("help,h", "show this help")("file", po::value<std::string>(),
                                                    "the file: PDF, DOCX, ODT, plain text or Markdown")(
      "assignment", po::value<std::string>()->required(), "the assignment id (see 'assign list')")(
      "note", po::value<std::string>()->default_value(""), "a note with this version (up to 4000 bytes)")(
      "name", po::value<std::string>(), "the name the file is shown under (default: its own name)")(
      "document", po::value<std::string>(), "submit a document already uploaded (its id) instead of a file");
  po::positional_options_description positional;
  positional.add("file", 1);
  auto vm = parse_command("submit", options, positional, args);
  if (help_requested(
          vm, "submit", "FILE --assignment ID [--note TEXT] [--name NAME]",
          "preceptor-cli submit cv-v2.pdf --assignment 8 --note \"Shortened the research section\"\n"
          "\n"
          "Uploads the file to the assignment's mentorship over HTTP (same server and token), showing a\n"
          "progress bar on stderr, then submits it as the assignment's next version. An upload cut off\n"
          "by the network resumes by itself from the last byte the server stored. The server decides\n"
          "the type from the content: PDF, DOCX, ODT, plain text and Markdown are accepted.",
          options)) {
    return kExitOk;
  }
  if (vm.count("file") == vm.count("document")) {
    throw UsageError{"submit needs a FILE to upload (or --document ID of one uploaded before), not both."};
  }
  const uint64_t assignment = parse_id("--assignment", vm["assignment"].as<std::string>());
  std::filesystem::path file;
  if (vm.count("file")) file = existing_file(vm["file"].as<std::string>());
  Session s(g, true);
  v1::GetAssignment get;
  get.set_assignment_id(assignment);
  get.set_review_limit(1);
  auto a = must(s.client().get_assignment_sync(get, s.timeout()),
                "Check the id with 'preceptor-cli assign list --mentorship ID'.")
               .assignment();
  uint64_t document_id = 0;
  if (vm.count("document")) {
    document_id = parse_id("--document", vm["document"].as<std::string>());
  } else {
    const std::string name = vm.count("name") ? vm["name"].as<std::string>() : file.filename().string();
    document_id = upload_with_bar(g, a.mentorship_id(), file, name).id();
  }
  v1::SubmitVersion req;
  req.set_assignment_id(assignment);
  req.set_document_id(document_id);
  req.set_note(vm["note"].as<std::string>());
  auto r = s.client().submit_version_sync(req, s.timeout());
  if (!r) {
    std::string then = next_step(r.status());
    if (then.empty()) {
      then = "The document is stored: submit it again later with 'preceptor-cli submit --document " +
             std::to_string(document_id) + " --assignment " + std::to_string(assignment) + "'.";
    }
    throw Failed{"Submitting document " + std::to_string(document_id) + " failed: " + r.status().message() +
                 " " + then};
  }
  std::cout << "Submitted version " << r->version().version() << " of assignment " << assignment << " ("
            << r->assignment().title() << "); it is " << assignment_state_name(r->assignment().state())
            << ".\n";
  return kExitOk;
}

int cmd_download(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("download options");
  options.add_options()("help,h", "show this help")("id", po::value<std::string>()->required(),
                                                    "the document id (see 'assign show ID')")(
      "out", po::value<std::string>(), "where to save it (default: the document's name, in this folder)")(
      "range", po::value<std::string>(), "only bytes FIRST-LAST (or FIRST-) of it");
  po::positional_options_description positional;
  positional.add("id", 1);
  auto vm = parse_command("download", options, positional, args);
  if (help_requested(
          vm, "download", "DOCUMENT_ID [--out FILE] [--range FIRST-LAST]",
          "preceptor-cli download 21 --out cv-v2.pdf\n"
          "\n"
          "Only the two members of the document's mentorship can download it. A whole download is checked\n"
          "against the server's SHA-256; the file appears only once it is complete.",
          options)) {
    return kExitOk;
  }
  const uint64_t id = parse_id("The document id", vm["id"].as<std::string>());
  std::optional<client::ByteRange> range;
  if (vm.count("range")) {
    const std::string text = vm["range"].as<std::string>();
    unsigned long long first = 0, last = 0;
    char dash = 0;
    int n = std::sscanf(text.c_str(), "%llu%c%llu", &first, &dash, &last);
    if (n < 2 || dash != '-' || (n == 3 && last < first) ||
        text.find_first_not_of("0123456789-") != std::string::npos) {
      throw UsageError{"--range must look like 0-1023 or 1024-, not '" + text + "'."};
    }
    range = client::ByteRange{first, n == 3 ? std::optional<uint64_t>(last) : std::nullopt};
  }
  std::filesystem::path out;
  if (vm.count("out")) {
    out = vm["out"].as<std::string>();
  } else {
    Session s(g, true);
    v1::GetDocument get;
    get.set_document_id(id);
    auto doc = must(s.client().get_document_sync(get, s.timeout()),
                    "Find document ids with 'preceptor-cli assign show ASSIGNMENT_ID'.");
    out = std::filesystem::path(doc.document().name()).filename();
    if (out.empty() || out == "." || out == "..") out = "document-" + std::to_string(id);
    std::error_code ec;
    if (std::filesystem::exists(out, ec)) {
      throw UsageError{out.string() + " exists already; choose where to save with --out FILE."};
    }
  }
  auto docs = documents_for(g);
  ProgressBar bar("Downloading " + out.filename().string());
  auto got = docs->download(id, out, range, [&](const TransferProgress& p) { bar.update(p); });
  if (!got) {
    std::string then = next_step(got.status());
    if (got.status().code() == v1::ERROR_CODE_NOT_FOUND) {
      then =
          "Only the two members of its mentorship can download it; check the id with 'preceptor-cli assign "
          "show "
          "ASSIGNMENT_ID'.";
    }
    throw Failed{"The download of document " + std::to_string(id) + " failed: " + got.status().message() +
                 (then.empty() ? "" : " " + then)};
  }
  std::cout << "Saved " << out.string() << " (" << got->bytes << " bytes"
            << (got->partial ? " of " + std::to_string(got->total) : "") << ", " << got->content_type
            << (got->partial ? "" : ", SHA-256 " + got->sha256) << ").\n";
  return kExitOk;
}

int cmd_export(const Global& g, const std::vector<std::string>& args) {
  po::options_description options("export options");
  options.add_options()("help,h", "show this help")("id", po::value<std::string>()->required(),
                                                    "the mentorship id (see 'mentorships')")(
      "out", po::value<std::string>(), "where to save the .zip (default: portfolio-<id>.zip here)");
  po::positional_options_description positional;
  positional.add("id", 1);
  auto vm = parse_command("export", options, positional, args);
  if (help_requested(
          vm, "export", "MENTORSHIP_ID [--out FILE]",
          "preceptor-cli export 3 --out portfolio.zip\n"
          "\n"
          "The portfolio holds the approved versions, every review and comment, the goal history and the\n"
          "reassessments, with an index file. Only the mentee and mentor of the mentorship can export it,\n"
          "at any time (also after it ended).",
          options)) {
    return kExitOk;
  }
  const uint64_t id = parse_id("The mentorship id", vm["id"].as<std::string>());
  const std::filesystem::path out = vm.count("out")
                                        ? std::filesystem::path(vm["out"].as<std::string>())
                                        : std::filesystem::path("portfolio-" + std::to_string(id) + ".zip");
  auto docs = documents_for(g);
  ProgressBar bar("Exporting " + out.filename().string());
  auto got = docs->download_portfolio(id, out, [&](const TransferProgress& p) { bar.update(p); });
  if (!got) {
    const Status& st = got.status();
    if (st.code() == v1::ERROR_CODE_UNIMPLEMENTED) {
      throw Failed{"Could not export mentorship " + std::to_string(id) +
                   ": this server cannot export portfolios yet (it answered: " + st.message() +
                   "). Ask its operator to update it."};
    }
    if (st.code() == v1::ERROR_CODE_NOT_FOUND) {
      throw Failed{
          "The server has no portfolio of mentorship " + std::to_string(id) +
          " for you (it answered: " + st.message() +
          "). Only its mentee and mentor can export it: check the id with 'preceptor-cli mentorships'. If "
          "the id is right, this server may not export portfolios yet."};
    }
    const std::string then = next_step(st);
    throw Failed{"The export of mentorship " + std::to_string(id) + " failed: " + st.message() +
                 (then.empty() ? "" : " " + then)};
  }
  std::cout << "Saved the portfolio of mentorship " << id << " as " << out.string() << " (" << got->bytes
            << " bytes).\n";
  return kExitOk;
}

}  // namespace preceptor::cli
