#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/preceptor_bench/histogram.h"
#include "bench/preceptor_bench/json.h"

namespace preceptor::bench {

// The results of a suite run: a table for people (stdout) and a JSON tree
// for machines (--json). Scenarios add rows and JSON sections as they finish;
// correctness problems (loss, duplicates, failed requests) are recorded as
// failures and make the tool exit non-zero. One thread.
class Report {
 public:
  struct Row {
    std::string scenario;  // e.g. "chat 10k/s"
    std::string figure;    // what was measured
    std::string value;     // formatted, with unit
    std::string target;    // from issue 4, e.g. "G4 p99 <= 3 ms"; may be empty
    std::string ceiling;   // same-run ceiling or ratio to it; may be empty
  };

  void add(Row row) { rows_.push_back(std::move(row)); }
  void fail(const std::string& what) { failures_.push_back(what); }
  void note(const std::string& what) { notes_.push_back(what); }

  Json& json() { return json_; }
  const std::vector<std::string>& failures() const { return failures_; }

  std::string table() const;
  // Writes json() with the rows, notes and failures included.
  void write_json(const std::string& path);

 private:
  std::vector<Row> rows_;
  std::vector<std::string> failures_;
  std::vector<std::string> notes_;
  Json json_ = Json::object();
};

// Formatting for the table.
std::string fmt_ms(int64_t ns);                          // "0.412 ms", "12.3 ms", "1.94 s"
std::string fmt_count(double v);                         // "12 345"
std::string fmt_rate(double per_second);                 // "12 345/s"
std::string fmt_percentiles(const LatencyHistogram& h);  // "p50 0.41 | p90 … | p99 … | p99.9 … | max … ms"
std::string fmt_fixed(double v, int decimals);

// Histogram summary for JSON: count, mean and percentiles in milliseconds.
Json histogram_json(const LatencyHistogram& h);

}  // namespace preceptor::bench
