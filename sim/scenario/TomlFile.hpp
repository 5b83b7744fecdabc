#pragma once
/// Reading the project's TOML files (scenarios, overlays, targets) from disk, within limits that
/// keep time and memory linear in the input: a scenario (all its files together) or a targets file
/// holds at most kMaxTomlBytes, no line is longer than kMaxTomlLineBytes, and nothing nests deeper
/// than kMaxTomlNesting (arrays, inline tables and the parts of dotted keys together). A folder, a missing file or one over a limit is a
/// diagnostic with the file (and line), never a crash.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "TomlFields.hpp"

namespace alignsim::detail {

/// Bytes a scenario (every file it reads, together) or a targets file may hold: 4 MiB, about 25
/// times the baseline (reading TOML takes about 2 s per MiB and 40 bytes of memory per byte).
inline constexpr std::size_t kMaxTomlBytes = std::size_t{4} << 20;
/// Levels of nesting: the scenario format uses 3 (`dyads = [{ a = ... }]` in [events.decision]).
inline constexpr int kMaxTomlNesting = 32;
/// Bytes on one line (the parser's work per value grows with the length of its line); the
/// project's longest line is under 700.
inline constexpr std::size_t kMaxTomlLineBytes = 4096;

/// Reads and parses one TOML file, charging its size to `budget` (bytes left for the scenario).
/// `shown` names the file in messages; `site` (an `include` or `extends` value) is where a file
/// that cannot be read is reported, if given. On any problem adds diagnostics and returns nullopt.
std::optional<Value> read_toml_file(const std::filesystem::path& path, const std::string& shown, const Value* site,
                                    std::size_t& budget, Diagnostics& d, const char* what = "scenario file");

/// Parses TOML text under the same limits (`name` stands for the file in messages).
std::optional<Value> parse_toml_text(const std::string& text, const std::string& name, Diagnostics& d);

/// Where text nests deeper than kMaxTomlNesting: 1-based line and column, or {0, 0} if nowhere.
std::pair<int, int> too_deep(const std::string& text);

}  // namespace alignsim::detail
