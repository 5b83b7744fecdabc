#pragma once
/// Reading TOML tables strictly, for the scenario loader and the other readers of project files
/// (the calibration targets): every lookup checks type and range, every problem is collected with
/// its file, line and column, and keys nobody asked for are reported as unknown.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <toml.hpp>
#include <vector>

#include "Month.hpp"
#include "ScenarioError.hpp"

namespace alignsim::detail {

using Value = toml::basic_value<toml::discard_comments, std::map, std::vector>;

inline const char* type_name(const Value& v) {
  switch (v.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a float";
    case toml::value_t::string: return "a string";
    case toml::value_t::array: return "an array";
    case toml::value_t::table: return "a table";
    case toml::value_t::empty: return "nothing";
    default: return "a date or time";
  }
}

/// The shortest text that reads back as exactly `x` (1.0000001 stays 1.0000001, not 1).
inline std::string format_number(double x) {
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
  return std::string(buffer, end);
}

/// Collects every problem found, each tied to the place in a file that caused it. Past the first
/// kMaxDiagnostics only their number is kept (finding a line costs a pass over the file).
class Diagnostics {
 public:
  static constexpr std::size_t kMaxDiagnostics = 100;

  void at(const Value& v, std::string message) {
    if (full()) return;
    const auto loc = v.location();
    list_.push_back({loc.file_name(), static_cast<int>(loc.line()), static_cast<int>(loc.column()),
                     std::move(message)});
  }
  void in_file(std::string file, std::string message) {
    if (!full()) list_.push_back({std::move(file), 0, 0, std::move(message)});
  }
  void add(Diagnostic d) {
    if (!full()) list_.push_back(std::move(d));
  }
  bool empty() const { return list_.empty(); }
  void throw_if_any() {
    if (list_.empty()) return;
    if (dropped_ > 0) {
      list_.push_back({list_.back().file, 0, 0,
                       "and " + std::to_string(dropped_) + " more error(s); only the first " +
                           std::to_string(kMaxDiagnostics) + " are listed"});
    }
    throw ScenarioError(std::move(list_));
  }

 private:
  bool full() {
    if (list_.size() < kMaxDiagnostics) return false;
    ++dropped_;
    return true;
  }

  std::vector<Diagnostic> list_;
  std::size_t dropped_ = 0;
};

/// A toml11 syntax error as a diagnostic: its place, and toml11's own message with the offending line.
inline Diagnostic syntax_diagnostic(const toml::exception& e) {
  const auto& loc = e.location();
  std::string message = e.what();
  const auto first = message.find('\n');
  std::string headline = message.substr(0, first);
  if (headline.rfind("[error] ", 0) == 0) headline = headline.substr(8);
  return {loc.file_name(), static_cast<int>(loc.line()), static_cast<int>(loc.column()),
          "invalid TOML: " + headline + (first == std::string::npos ? "" : message.substr(first))};
}

inline std::string where(const Value& v) {
  const auto loc = v.location();
  return loc.file_name() + ":" + std::to_string(loc.line());
}

/// Reads the keys of one table, checking types and ranges, and reports keys it never asked for.
class Fields {
 public:
  /// With check_unknown, keys of the table that were never asked for are reported as unknown.
  Fields(const Value& table, std::string context, Diagnostics& d, bool check_unknown = true)
      : table_(table), context_(std::move(context)), d_(d), check_unknown_(check_unknown) {}
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;
  ~Fields() {
    if (check_unknown_) report_unknown();
  }

  const Value& table() const { return table_; }
  /// Reports no unknown keys: when a table could not be read as what it is, its keys cannot be judged.
  void skip_unknown() { check_unknown_ = false; }
  const std::string& context() const { return context_; }

  const Value* find(const std::string& key) {
    known_.push_back(key);
    const auto& t = table_.as_table();
    const auto it = t.find(key);
    return it == t.end() ? nullptr : &it->second;
  }

  const Value* need(const std::string& key, const std::string& what) {
    const Value* v = find(key);
    if (!v) d_.at(table_, context_ + ": missing '" + key + "' (" + what + ")");
    return v;
  }

  std::optional<std::string> string(const std::string& key, bool required,
                                     const std::string& what = "a string") {
    const Value* v = required ? need(key, what) : find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      d_.at(*v, context_ + ": '" + key + "' must be " + what + ", found " + type_name(*v));
      return std::nullopt;
    }
    return v->as_string().str;
  }

  std::optional<double> number(const std::string& key, bool required, double lo, double hi,
                               const std::string& what) {
    const Value* v = required ? need(key, what) : find(key);
    if (!v) return std::nullopt;
    return check_number(*v, key, lo, hi, what);
  }

  std::optional<double> check_number(const Value& v, const std::string& key, double lo, double hi,
                                     const std::string& what) {
    double x = 0;
    if (v.is_integer()) {
      x = static_cast<double>(v.as_integer());
    } else if (v.is_floating()) {
      x = v.as_floating();
    } else {
      d_.at(v, context_ + ": '" + key + "' must be " + what + ", found " + type_name(v));
      return std::nullopt;
    }
    if (!std::isfinite(x) || x < lo || x > hi) {
      // The bound that was crossed, when `what` does not say it ("a number > 0" also has a largest).
      std::string bound;
      if (x > hi && what.find(format_number(hi)) == std::string::npos) bound = " (at most " + format_number(hi) + ")";
      if (x < lo && what.find(format_number(lo)) == std::string::npos) bound = " (at least " + format_number(lo) + ")";
      d_.at(v, context_ + ": '" + key + "' must be " + what + bound + ", found " + format_number(x));
      return std::nullopt;
    }
    return x;
  }

  std::optional<long long> integer(const std::string& key, bool required, long long lo, long long hi,
                                   const std::string& what) {
    const Value* v = required ? need(key, what) : find(key);
    if (!v) return std::nullopt;
    if (!v->is_integer() || v->as_integer() < lo || v->as_integer() > hi) {
      d_.at(*v, context_ + ": '" + key + "' must be " + what + ", found " +
                    (v->is_integer() ? std::to_string(v->as_integer()) : std::string(type_name(*v))));
      return std::nullopt;
    }
    return v->as_integer();
  }

  std::optional<bool> boolean(const std::string& key) {
    const Value* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      d_.at(*v, context_ + ": '" + key + "' must be true or false, found " + type_name(*v));
      return std::nullopt;
    }
    return v->as_boolean();
  }

  std::optional<Month> month(const std::string& key, bool required) {
    const Value* v = required ? need(key, "a month \"YYYY-MM\"") : find(key);
    if (!v) return std::nullopt;
    return check_month(*v, key);
  }

  std::optional<Month> check_month(const Value& v, const std::string& key) {
    std::optional<Month> m;
    if (v.is_string()) m = Month::parse(v.as_string().str);
    if (!m) {
      d_.at(v, context_ + ": '" + key + "' must be a month \"YYYY-MM\", found " +
                   (v.is_string() ? "\"" + v.as_string().str + "\"" : std::string(type_name(v))));
    }
    return m;
  }

  /// The elements of an array value, or nothing (with an error) if it is not an array.
  const std::vector<Value>* array(const std::string& key, bool required, const std::string& what) {
    const Value* v = required ? need(key, what) : find(key);
    if (!v) return nullptr;
    if (!v->is_array()) {
      d_.at(*v, context_ + ": '" + key + "' must be " + what + ", found " + type_name(*v));
      return nullptr;
    }
    return &v->as_array();
  }

  /// An array of exactly two elements (a window, a band), or nullptr with an error.
  const std::vector<Value>* pair(const std::string& key, const std::string& what) {
    const Value* v = need(key, what);
    if (!v) return nullptr;
    if (!v->is_array() || v->as_array().size() != 2) {
      d_.at(*v, context_ + ": '" + key + "' must be " + what + ", found " +
                    (v->is_array() ? "an array of " + std::to_string(v->as_array().size()) : std::string(type_name(*v))));
      return nullptr;
    }
    return &v->as_array();
  }

  /// Calls fn(table) for each table of an array of tables.
  void tables(const std::string& key, const std::string& what,
              const std::function<void(const Value&)>& fn) {
    const auto* items = array(key, false, what);
    if (!items) return;
    for (const auto& item : *items) {
      if (!item.is_table()) {
        d_.at(item, context_ + ": each element of '" + key + "' must be a table (" + what + "), found " +
                        type_name(item));
        continue;
      }
      fn(item);
    }
  }

 private:
  void report_unknown() {
    for (const auto& [key, value] : table_.as_table()) {
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string expected;
      for (const auto& k : known_) {
        if (expected.find("'" + k + "'") != std::string::npos) continue;
        expected += (expected.empty() ? "'" : ", '") + k + "'";
      }
      d_.at(value, context_ + ": unknown key '" + key + "'; expected one of " + expected);
    }
  }

  const Value& table_;
  std::string context_;
  Diagnostics& d_;
  bool check_unknown_;
  std::vector<std::string> known_;
};

}  // namespace alignsim::detail
