#pragma once
/// Ensembles and calibrations split among MPI ranks (docs/cluster.md). This module is the only code
/// that includes mpi.h; it is built with -DALIGNSIM_MPI=ON.
///
/// Rank r of P simulates blocks r, r + P, r + 2P, ... of the ensemble on its own threads. Rank 0
/// writes the one output file: its own blocks and those the other ranks pack (compressed) and send
/// it, in run order, which keeps the ranks within a few blocks of each other. The summaries are
/// exact integer sums, added up at the end in any order: the file holds the same data, bit for bit,
/// as one process's. A signal to any rank stops them all: they agree on a prefix of whole blocks,
/// finish it, and rank 0 writes a partial file of exactly those runs, as one process does.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "engine/Ensemble.hpp"
#include "engine/EnsembleParts.hpp"

namespace alignsim::detail {

/// A failure of the distributed run itself: a rank that stopped answering, an MPI call that failed.
class MpiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class MpiEnsemble final : public EnsembleParts {
 public:
  /// Whether an MPI launcher (mpirun, srun) started this process: only then is MPI initialised, so
  /// that the program started alone behaves as the serial build does.
  static bool launched();

  /// Initialises MPI (calls from one thread at a time); throws MpiError if it cannot.
  MpiEnsemble(int& argc, char**& argv);
  ~MpiEnsemble() override;  ///< finalises MPI
  MpiEnsemble(const MpiEnsemble&) = delete;
  MpiEnsemble& operator=(const MpiEnsemble&) = delete;

  int part() const override { return rank_; }
  int parts() const override { return size_; }
  bool root() const { return rank_ == 0; }

  /// Adds up the ranks' summaries at rank 0, which finishes and broadcasts the total; adds up the
  /// event counts, runs and `counts` on every rank.
  Summary combine(EnsembleResult& result, std::vector<std::uint64_t>& counts,
                  const std::vector<double>& quantiles) override;
  bool any(bool flag) override;
  /// The highest of every rank's value (collective): the job's exit code is its worst rank's.
  int agree(int value);
  /// Ends every rank of the job at once, with this exit code.
  [[noreturn]] void abort(int code);

  /// Where the blocks of a distributed ensemble go.
  struct Destination {
    BlockSink* sink = nullptr;  ///< rank 0: takes its own blocks (prepare on worker threads, then write)
    std::function<void(const unsigned char*, std::size_t)> write_packed;  ///< rank 0: writes a block packed elsewhere
    std::function<std::vector<unsigned char>(const RunBlock&)> pack;      ///< other ranks: packs a block (any thread)
  };

  /// Simulates runs 0 .. options.runs - 1 split among the ranks (options.part and parts are set
  /// here); rank 0 hands every block to `to` in run order (after a stop, in any order). When
  /// `signalled` becomes true on any rank, every rank stops. Every rank must call it. Returns the
  /// job's runs done (0 .. runs_done - 1, interrupted when fewer than options.runs) and event
  /// counts, and, at rank 0 only, their summary. Throws MpiError, or what the destination throws:
  /// the caller must then end the job with abort(), since the other ranks cannot finish alone.
  EnsembleResult run(const Model& model, EnsembleOptions options, const Destination& to,
                     const std::atomic<bool>* signalled);

 private:
  struct Comm;
  std::unique_ptr<Comm> comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace alignsim::detail
