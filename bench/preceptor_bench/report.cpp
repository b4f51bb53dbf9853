#include "bench/preceptor_bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace preceptor::bench {

std::string fmt_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

namespace {

std::string ms_number(int64_t ns) {
  const double ms = static_cast<double>(ns) / 1e6;
  if (ms < 10) return fmt_fixed(ms, 3);
  if (ms < 100) return fmt_fixed(ms, 2);
  if (ms < 1000) return fmt_fixed(ms, 1);
  return fmt_fixed(ms, 0);
}

size_t display_width(const std::string& s) {
  // UTF-8: count code points, not bytes (the table uses "→" and "≤").
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string fmt_ms(int64_t ns) {
  if (ns >= 10'000'000'000) return fmt_fixed(static_cast<double>(ns) / 1e9, 1) + " s";
  return ms_number(ns) + " ms";
}

std::string fmt_count(double v) {
  auto n = static_cast<long long>(std::llround(v));
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string fmt_rate(double per_second) { return fmt_count(per_second) + "/s"; }

std::string fmt_percentiles(const LatencyHistogram& h) {
  if (h.count() == 0) return "(no samples)";
  return "p50 " + ms_number(h.percentile(50)) + " | p90 " + ms_number(h.percentile(90)) + " | p99 " +
         ms_number(h.percentile(99)) + " | p99.9 " + ms_number(h.percentile(99.9)) + " | max " +
         ms_number(h.max()) + " ms";
}

Json histogram_json(const LatencyHistogram& h) {
  Json j = Json::object();
  auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
  j["count"] = h.count();
  j["mean_ms"] = h.mean() / 1e6;
  j["min_ms"] = ms(h.min());
  j["p50_ms"] = ms(h.percentile(50));
  j["p90_ms"] = ms(h.percentile(90));
  j["p99_ms"] = ms(h.percentile(99));
  j["p99_9_ms"] = ms(h.percentile(99.9));
  j["max_ms"] = ms(h.max());
  return j;
}

std::string Report::table() const {
  const std::vector<std::string> header = {"scenario", "figure", "value", "target (issue 4)",
                                           "ceiling / ratio"};
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = display_width(header[c]);
  for (const auto& r : rows_) {
    const std::string cells[] = {r.scenario, r.figure, r.value, r.target, r.ceiling};
    for (size_t c = 0; c < header.size(); ++c) width[c] = std::max(width[c], display_width(cells[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t c = 0; c < cells.size(); ++c) {
      out += " " + cells[c] + std::string(width[c] - display_width(cells[c]), ' ') + " |";
    }
    return out + "\n";
  };
  std::string out = line(header);
  out += "|";
  for (size_t c = 0; c < header.size(); ++c) out += std::string(width[c] + 2, '-') + "|";
  out += "\n";
  std::string last_scenario;
  for (const auto& r : rows_) {
    out += line({r.scenario == last_scenario ? "" : r.scenario, r.figure, r.value, r.target, r.ceiling});
    last_scenario = r.scenario;
  }
  for (const auto& n : notes_) out += "note: " + n + "\n";
  if (failures_.empty()) {
    out += "checks: no loss, no duplicates, no reordering, no failed requests\n";
  } else {
    for (const auto& f : failures_) out += "FAILED: " + f + "\n";
  }
  return out;
}

void Report::write_json(const std::string& path) {
  Json rows = Json::array();
  for (const auto& r : rows_) {
    Json row = Json::object();
    row["scenario"] = r.scenario;
    row["figure"] = r.figure;
    row["value"] = r.value;
    row["target"] = r.target;
    row["ceiling"] = r.ceiling;
    rows.push_back(std::move(row));
  }
  json_["table"] = std::move(rows);
  Json notes = Json::array();
  for (const auto& n : notes_) notes.push_back(n);
  json_["notes"] = std::move(notes);
  Json failures = Json::array();
  for (const auto& f : failures_) failures.push_back(f);
  json_["failures"] = std::move(failures);
  json_["ok"] = failures_.empty();
  std::ofstream out(path);
  out << json_.dump();
  if (!out) throw std::runtime_error("could not write " + path);
}

}  // namespace preceptor::bench
