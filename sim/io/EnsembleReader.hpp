#pragma once
/// Reads what comparisons need from an ensemble output file, in blocks of runs so that memory does
/// not grow with the number of runs. Errors (a missing, damaged, foreign or malformed file) are
/// OutputError naming the file; the shapes of what is read are checked when the file is opened.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace alignsim {

struct EnsembleHeader {
  std::string path;
  std::string title;
  std::string status;  ///< "complete" or "partial"
  std::uint64_t seed = 0;
  std::uint64_t runs = 0;
  std::string scenario_sha256;
  std::vector<std::string> agents, events, eras;
};

class EnsembleReader {
 public:
  explicit EnsembleReader(const std::filesystem::path& path);
  ~EnsembleReader();
  EnsembleReader(const EnsembleReader&) = delete;
  EnsembleReader& operator=(const EnsembleReader&) = delete;

  const EnsembleHeader& header() const;
  /// Runs to read at a time so that one read's data takes at most `bytes` (at most 65536 runs).
  std::uint64_t runs_per_read(std::size_t bytes = std::size_t{256} << 20) const;
  /// Runs first .. first + count - 1 (within the file's runs): event months [run][event] and era
  /// means [run][era][agent][other].
  void read(std::uint64_t first, std::uint64_t count, std::vector<std::int16_t>& event_month,
            std::vector<float>& era_alignment) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {
/// Why HDF5 could not open `path` (call right after it failed): truncated, damaged or not HDF5.
std::string unreadable_reason(const std::filesystem::path& path);
/// Why a file HDF5 opened has unreadable metadata: never closed (a killed writer's file).
std::string never_closed_reason(const std::filesystem::path& path);
}  // namespace detail

/// One row of a comparison: an estimate of CF - BASE with paired and unpaired intervals.
struct Difference {
  double base = 0, cf = 0, difference = 0;
  double low = 0, high = 0;                    ///< paired interval
  double unpaired_low = 0, unpaired_high = 0;  ///< as if the runs were independent
};

struct ComparisonTable {
  std::string base_path, cf_path;
  std::uint64_t runs = 0, seed = 0;
  double level = 0.95;
  std::vector<std::string> agents, eras, events;
  std::vector<Difference> era_dyads;  ///< [era][agent][other]; symmetric, NaN-free off the diagonal
  std::vector<Difference> event_probability;  ///< [event]: difference in the probability that it happened
};

/// Writes the comparison as group /comparison of an HDF5 file at `path`, truncating it: the
/// temporary file of an OutputPath, which the caller commits. Errors name `shown` (default: path).
void write_comparison_h5(const std::filesystem::path& path, const ComparisonTable& table, const std::string& shown = "");

}  // namespace alignsim
