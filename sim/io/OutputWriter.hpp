#pragma once
/// Writes an ensemble to one HDF5 file that is also a netCDF-4 file (docs/output-format.md):
/// dimension scales, CF attributes, trajectories of the stored runs streamed block by block.
/// The file follows the output rule (OutputPath.hpp): written under a temporary name and renamed
/// when finished; if the writer is destroyed unfinished (an error), nothing is left. The run
/// dimensions grow block by block, so an interrupted file is finished at once, whatever --runs.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "BlockPacker.hpp"
#include "OutputPath.hpp"
#include "engine/Ensemble.hpp"
#include "scenario/Scenario.hpp"

namespace alignsim {

/// Where the parameters of a posterior ensemble's runs come from (`ensemble --posterior`).
struct PosteriorRunInfo {
  std::string path;     ///< the posterior file, as given
  std::string sha256;   ///< of its bytes
  std::uint64_t draws = 0;  ///< its parameter sets
  std::string kept;     ///< entries of the scenario's parameter vector the posterior does not give (comma-separated)
  std::string unused;   ///< free numbers of the posterior the scenario does not have (comma-separated)
  std::function<std::int64_t(std::uint64_t)> run_draw;  ///< the draw run r took
};

struct OutputInfo {
  std::string scenario_toml;        ///< the resolved scenario, stored verbatim
  std::uint64_t seed = 0;
  std::uint64_t runs = 0;           ///< runs requested
  std::uint64_t stored_runs = 0;    ///< runs whose W is stored (the first ones)
  std::vector<double> quantiles;
  int deflate = 1;                  ///< deflate level for `alignment` (0: uncompressed)
  int block_runs = 256;             ///< the engine's block size: chunks of per-run datasets match blocks
  std::string history;              ///< the command line, for the CF `history` attribute
  std::optional<PosteriorRunInfo> posterior;  ///< a posterior ensemble: `run_draw` and the posterior's attributes
};

class PartialOutput;

class OutputWriter final : public BlockSink {
 public:
  /// Writes the temporary file of `out`, which finish() commits; throws OutputError.
  OutputWriter(OutputPath& out, const Scenario& scenario, const Model& model, OutputInfo info);
  /// The same with an OutputPath of its own: no inputs, no --overwrite (tests and benchmarks).
  OutputWriter(const std::filesystem::path& path, const Scenario& scenario, const Model& model, OutputInfo info);
  ~OutputWriter() override;
  OutputWriter(const OutputWriter&) = delete;
  OutputWriter& operator=(const OutputWriter&) = delete;

  /// Compresses the block's chunks (shuffle + deflate, as HDF5's filters would): runs on worker threads.
  void prepare(RunBlock& block) override;
  /// Writes the block's chunks directly (H5Dwrite_chunk), in run order.
  void write_block(const RunBlock& block) override;
  /// Writes a block that another process packed (BlockPacker::pack with raw_alignment): blocks may
  /// come in any order; finish() keeps the first `runs_done` runs.
  void write_packed(const unsigned char* data, std::size_t size);

  /// Copies the runs of a partial file (checked by PartialOutput against these options) as they are
  /// stored, and keeps its creation time and history: the engine goes on from from.runs_done().
  void copy_runs(const PartialOutput& from);
  /// The summaries' exact state, saved in the file if it is finished as partial, for --resume.
  void keep_resume_state(const SummaryAccumulator& accumulator);

  /// Writes the summaries and attributes of runs 0 .. runs_done - 1 (status "partial" unless
  /// complete), closes the file and renames it to its final name.
  void finish(const Summary& summary, const std::vector<std::uint64_t>& event_count, std::uint64_t runs_done,
              bool complete);

  /// The software version and git commit this program was built from.
  static std::string software_version();
  static std::string git_commit();

 private:
  void write(const PackedBlock& block, const RunBlock* raw);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Hex SHA-256 of a text (OpenSSL).
std::string sha256_hex(const std::string& text);

}  // namespace alignsim
