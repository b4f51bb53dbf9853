#include "bench/preceptor_bench/json.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace preceptor::bench {
namespace {

void escape(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void newline(std::string& out, int indent) {
  out += '\n';
  out.append(static_cast<size_t>(indent) * 2, ' ');
}

}  // namespace

Json& Json::operator[](const std::string& key) {
  if (std::holds_alternative<std::nullptr_t>(v_)) v_ = Object{};
  assert(std::holds_alternative<Object>(v_));
  auto& obj = std::get<Object>(v_);
  for (auto& [k, v] : obj) {
    if (k == key) return v;
  }
  obj.emplace_back(key, Json());
  return obj.back().second;
}

void Json::push_back(Json v) {
  if (std::holds_alternative<std::nullptr_t>(v_)) v_ = Array{};
  assert(std::holds_alternative<Array>(v_));
  std::get<Array>(v_).push_back(std::move(v));
}

std::string Json::dump() const {
  std::string out;
  dump_to(out, 0);
  out += '\n';
  return out;
}

void Json::dump_to(std::string& out, int indent) const {
  if (std::holds_alternative<std::nullptr_t>(v_)) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&v_)) {
    out += *b ? "true" : "false";
  } else if (const double* d = std::get_if<double>(&v_)) {
    if (!std::isfinite(*d)) {
      out += "null";
    } else if (*d == std::floor(*d) && std::fabs(*d) < 9.0e15) {
      out += std::to_string(static_cast<int64_t>(*d));
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", *d);
      out += buf;
    }
  } else if (const std::string* s = std::get_if<std::string>(&v_)) {
    escape(out, *s);
  } else if (const Array* a = std::get_if<Array>(&v_)) {
    // Arrays of plain numbers stay on one line (per-second series).
    bool flat = true;
    for (const auto& e : *a) flat = flat && std::holds_alternative<double>(e.v_);
    out += '[';
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) out += flat ? ", " : ",";
      if (!flat) newline(out, indent + 1);
      (*a)[i].dump_to(out, indent + 1);
    }
    if (!flat && !a->empty()) newline(out, indent);
    out += ']';
  } else {
    const auto& o = std::get<Object>(v_);
    out += '{';
    for (size_t i = 0; i < o.size(); ++i) {
      if (i) out += ',';
      newline(out, indent + 1);
      escape(out, o[i].first);
      out += ": ";
      o[i].second.dump_to(out, indent + 1);
    }
    if (!o.empty()) newline(out, indent);
    out += '}';
  }
}

}  // namespace preceptor::bench
