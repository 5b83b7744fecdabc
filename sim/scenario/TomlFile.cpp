#include "TomlFile.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

namespace alignsim::detail {

namespace {

/// The scanner behind too_deep(): a small TOML lexer that knows strings, comments, table headers,
/// keys and values, so that it counts arrays, inline tables and the parts of dotted keys, and
/// nothing inside strings or numbers. Malformed text is left to the parser.
class NestingScanner {
 public:
  explicit NestingScanner(const std::string& text) : s_(text) {}

  /// The first place that breaks a limit, and which: 'd' too deep, 'l' too long a line.
  std::tuple<int, int, char> run() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (i_ - line_start_ >= kMaxTomlLineBytes && c != '\n') return {line_, column_, 'l'};
      if (c == '\n') {
        newline();
        continue;
      }
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') advance();
        continue;
      }
      if (c == '"' || c == '\'') {
        skip_string(c);
        continue;
      }
      if (step(c)) return {line_, column_, 'd'};
      advance();
    }
    return {0, 0, 0};
  }

 private:
  enum class Mode { Key, Header, Value };

  /// One structural character; true when it nests too deep.
  bool step(char c) {
    if (mode_ == Mode::Value) {
      if (c == '[' || c == '{') {
        stack_.push_back(c);
        if (c == '{') start_key();
        return static_cast<int>(stack_.size()) > kMaxTomlNesting;
      }
      if ((c == ']' || c == '}') && !stack_.empty()) {
        stack_.pop_back();
      } else if (c == ',' && !stack_.empty() && stack_.back() == '{') {
        start_key();
      }
      return false;
    }
    if (c == '.') return static_cast<int>(stack_.size()) + ++dots_ + 1 > kMaxTomlNesting;
    if (mode_ == Mode::Key && c == '=') {
      mode_ = Mode::Value;
    } else if (mode_ == Mode::Key && c == '[' && stack_.empty() && line_blank_) {
      mode_ = Mode::Header;
      dots_ = 0;
    } else if (mode_ == Mode::Header && c == ']') {
      mode_ = Mode::Key;
      dots_ = 0;
    } else if (mode_ == Mode::Key && c == '}' && !stack_.empty() && stack_.back() == '{') {
      stack_.pop_back();  // an empty inline table, or a trailing comma
      mode_ = Mode::Value;
    }
    return false;
  }

  void start_key() {
    mode_ = Mode::Key;
    dots_ = 0;
  }

  void advance() {
    if (s_[i_] != ' ' && s_[i_] != '\t' && s_[i_] != '[') line_blank_ = false;
    ++i_;
    ++column_;
  }

  void newline() {
    ++i_;
    line_start_ = i_;
    ++line_;
    column_ = 1;
    line_blank_ = true;
    if (stack_.empty()) start_key();
  }

  void skip_string(char quote) {
    line_blank_ = false;
    const bool multi = s_.compare(i_, 3, std::string(3, quote)) == 0;
    const std::size_t open = multi ? 3 : 1;
    for (std::size_t k = 0; k < open; ++k) advance();
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\\' && quote == '"') {
        advance();
        if (i_ < s_.size() && s_[i_] != '\n') advance();
        continue;
      }
      if (i_ - line_start_ >= kMaxTomlLineBytes) return;  // run() reports it
      if (c == '\n') {
        if (!multi) return;  // unterminated: the parser will say so
        ++i_;
        line_start_ = i_;
        ++line_;
        column_ = 1;
        continue;
      }
      if (c == quote && (!multi || s_.compare(i_, 3, std::string(3, quote)) == 0)) {
        for (std::size_t k = 0; k < open; ++k) advance();
        // Up to two more quotes may close a multi-line string ("""a"""").
        for (int extra = 0; multi && extra < 2 && i_ < s_.size() && s_[i_] == quote; ++extra) advance();
        return;
      }
      advance();
    }
  }

  const std::string& s_;
  std::size_t i_ = 0, line_start_ = 0;
  int line_ = 1, column_ = 1;
  bool line_blank_ = true;
  Mode mode_ = Mode::Key;
  int dots_ = 0;
  std::vector<char> stack_;
};

/// The first byte that does not begin or continue a valid UTF-8 character (TOML text is UTF-8;
/// anything else would reach the output files and the analysis scripts): its line and column.
std::pair<int, int> invalid_utf8(const std::string& s) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t min = 0;
    if (c < 0x80) n = 1;
    else if ((c & 0xE0) == 0xC0) n = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000;
    else return {line, column};
    if (i + n > s.size()) return {line, column};
    std::uint32_t code = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return {line, column};
      code = (code << 6) | (next & 0x3F);
    }
    if (n > 1 && (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))) return {line, column};
    if (c == '\n') {
      ++line;
      column = 0;
    }
    i += n;
    ++column;
  }
  return {0, 0};
}

std::string limit_text() { return std::to_string(kMaxTomlBytes >> 20) + " MiB"; }

}  // namespace

std::pair<int, int> too_deep(const std::string& text) {
  const auto [line, column, what] = NestingScanner(text).run();
  return what == 'd' ? std::pair{line, column} : std::pair{0, 0};
}

std::optional<Value> parse_toml_text(const std::string& text, const std::string& name, Diagnostics& d) {
  if (text.size() > kMaxTomlBytes) {
    d.in_file(name, "too large: " + std::to_string(text.size()) + " bytes, more than the " + limit_text() +
                        " a scenario or targets file may hold");
    return std::nullopt;
  }
  if (const auto [line, column] = invalid_utf8(text); line > 0) {
    d.add({name, line, column, "invalid TOML: the text is not UTF-8 (a byte here begins no UTF-8 character)"});
    return std::nullopt;
  }
  if (const auto [line, column, what] = NestingScanner(text).run(); line > 0) {
    d.add({name, line, column,
           what == 'd' ? "nested more than " + std::to_string(kMaxTomlNesting) +
                             " levels deep (arrays, inline tables and the parts of dotted keys together); the format "
                             "needs at most 3"
                       : "a line longer than " + std::to_string(kMaxTomlLineBytes) +
                             " bytes; break it (TOML arrays and multi-line strings may span lines)"});
    return std::nullopt;
  }
  std::istringstream in(text);
  try {
    return toml::parse<toml::discard_comments, std::map, std::vector>(in, name);
  } catch (const toml::exception& e) {
    d.add(syntax_diagnostic(e));
  } catch (const std::exception& e) {
    d.in_file(name, std::string("invalid TOML: ") + e.what());
  }
  return std::nullopt;
}

std::optional<Value> read_toml_file(const std::filesystem::path& path, const std::string& shown, const Value* site,
                                    std::size_t& budget, Diagnostics& d, const char* what) {
  const auto report = [&](const std::string& why) {
    const std::string message = std::string("cannot open ") + what + " '" + shown + "': " + why;
    if (site) d.at(*site, message); else d.in_file(shown, message);
  };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    report("no such file");
    return std::nullopt;
  }
  if (ec) {
    report(ec.message());
    return std::nullopt;
  }
  if (std::filesystem::is_directory(status)) {
    report("it is a folder, not a file");
    return std::nullopt;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    report(errno ? std::strerror(errno) : "cannot open it");
    return std::nullopt;
  }
  // Read at most one byte past what the scenario has left, whatever the file claims to hold (it
  // may be a device or a pipe).
  std::string text;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > budget) {
      report("too large: a scenario's files together, or a targets file, may hold at most " + limit_text() + " (" +
             std::to_string(kMaxTomlBytes) + " bytes)");
      return std::nullopt;
    }
  }
  if (in.bad()) {
    report("a read failed");
    return std::nullopt;
  }
  budget -= text.size();
  return parse_toml_text(text, shown, d);
}

}  // namespace alignsim::detail
