#pragma once
/// The posterior side of output files: which draw of a posterior each run of a posterior ensemble
/// took (`run_draw`, docs/output-format.md).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "EnsembleReader.hpp"

namespace alignsim {

/// Reads `run_draw` and the posterior's attributes of an ensemble file, in blocks of runs.
class RunDrawReader {
 public:
  /// Opens the file; throws OutputError if it cannot be read.
  explicit RunDrawReader(const std::filesystem::path& path);
  ~RunDrawReader();
  RunDrawReader(const RunDrawReader&) = delete;
  RunDrawReader& operator=(const RunDrawReader&) = delete;

  /// The file is a posterior ensemble (it has `run_draw`).
  bool present() const;
  const std::string& posterior() const;  ///< the posterior file as given to `ensemble --posterior`
  const std::string& sha256() const;     ///< its SHA-256
  std::uint64_t draws() const;           ///< its parameter sets
  /// The draws of runs first .. first + count - 1.
  void read(std::uint64_t first, std::uint64_t count, std::vector<std::int32_t>& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alignsim
