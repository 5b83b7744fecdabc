#pragma once
/// A partial output file (status "partial", left by an interrupted `run` or `ensemble`) opened to
/// be completed with `--resume`. It is checked against the command that would complete it: the
/// same build of alignsim, scenario, seed, runs and output options, or it is refused with every
/// difference named. It holds the exact state of its summaries, so that the completed file has the
/// same data, bit for bit, as a run never interrupted.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "OutputPath.hpp"
#include "OutputWriter.hpp"
#include "engine/Summary.hpp"

namespace H5 {
class H5File;
}

namespace alignsim {

/// One stored chunk of a dataset, as HDF5 holds it (compressed or not).
struct RawChunk {
  std::uint32_t filter_mask = 0;
  std::vector<unsigned char> bytes;
};

class PartialOutput {
 public:
  /// Opens `path` and checks it against the file that `info` describes (with `bins` histogram bins).
  /// Throws OutputRefused saying why it cannot be resumed.
  PartialOutput(const std::filesystem::path& path, const OutputInfo& info, int bins);
  ~PartialOutput();
  PartialOutput(const PartialOutput&) = delete;
  PartialOutput& operator=(const PartialOutput&) = delete;

  std::uint64_t runs_done() const;    ///< runs 0 .. runs_done - 1 are in the file
  std::uint64_t stored_runs() const;  ///< runs whose W is stored
  const SummaryAccumulator::State& summary() const;
  const std::vector<std::uint64_t>& event_count() const;
  const std::string& created() const;  ///< when the file was started
  const std::string& history() const;

  /// The chunk of `dataset` that starts at `offset`. Throws OutputError.
  RawChunk chunk(const std::string& dataset, const std::vector<std::uint64_t>& offset) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {
/// Writes the group /resume of a partial file (the summaries' exact state, the event counts and the
/// options a resume must match) into an open output file. Read by PartialOutput.
void write_resume_state(H5::H5File& file, const SummaryAccumulator::State& state,
                        const std::vector<std::uint64_t>& event_count, const OutputInfo& info);
}  // namespace detail

}  // namespace alignsim
