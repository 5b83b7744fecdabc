// Resuming an ensemble: runs first_run .. R - 1 on top of the saved state of runs 0 .. first_run - 1
// give the same bits as runs 0 .. R - 1 in one go (what `--resume` relies on).
#include <doctest/doctest.h>

#include <cstring>

#include "engine/Ensemble.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioLoader.hpp"

using namespace alignsim;

namespace {

/// Keeps the event months of the blocks it is handed.
struct Months final : BlockSink {
  void write_block(const RunBlock& b) override {
    first.push_back(b.first);
    event_month.insert(event_month.end(), b.event_month.begin(), b.event_month.end());
  }
  std::vector<std::uint64_t> first;
  std::vector<std::int16_t> event_month;
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

EnsembleOptions options(std::uint64_t first_run) {
  EnsembleOptions o;
  o.runs = 200;
  o.first_run = first_run;
  o.seed = 11;
  o.threads = 2;
  o.block_runs = 32;
  o.store_runs = 0;
  return o;
}

}  // namespace

TEST_CASE("a saved summary state restores to the same bits, and refuses another shape") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  Months sink;
  const auto whole = run_ensemble(model, options(0), sink);
  SummaryAccumulator copy(model.agents(), model.months());
  copy.restore(whole.summary.state());
  CHECK(copy.runs() == 200);
  const std::vector<double> q = {0.1, 0.5, 0.9};
  const Summary a = whole.summary.finish(q), b = copy.finish(q);
  CHECK(same_bits(a.mean, b.mean));
  CHECK(same_bits(a.std, b.std));
  CHECK(same_bits(a.quantile, b.quantile));
  // Sums of squares pass 2^64 after about 2^16 runs: both words are kept.
  auto big = whole.summary.state();
  big.sum_squares[0] = 5;
  big.sum_squares[1] = 7;
  copy.restore(big);
  CHECK(copy.state().sum_squares == big.sum_squares);
  SummaryAccumulator other(model.agents(), model.months(), 10);
  CHECK_THROWS_AS(other.restore(whole.summary.state()), std::invalid_argument);
}

TEST_CASE("runs from a later first run, merged with the saved state of the earlier ones, equal one whole ensemble") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  Months all, head, tail;
  const auto whole = run_ensemble(model, options(0), all);
  auto first_part = options(0);
  first_part.runs = 96;
  const auto part = run_ensemble(model, first_part, head);
  const auto rest = run_ensemble(model, options(96), tail);
  CHECK(rest.runs_done == 104);  // runs 96 .. 199
  CHECK(rest.next_run == 200);
  CHECK(tail.first.front() == 96);

  SummaryAccumulator resumed(model.agents(), model.months());
  resumed.restore(part.summary.state());
  resumed.merge(rest.summary);
  const std::vector<double> q = {0.05, 0.5, 0.95};
  const Summary a = whole.summary.finish(q), b = resumed.finish(q);
  CHECK(b.runs == 200);
  CHECK(same_bits(a.mean, b.mean));
  CHECK(same_bits(a.std, b.std));
  CHECK(same_bits(a.quantile, b.quantile));
  for (std::size_t e = 0; e < whole.event_count.size(); ++e) {
    CHECK(whole.event_count[e] == part.event_count[e] + rest.event_count[e]);
  }
  head.event_month.insert(head.event_month.end(), tail.event_month.begin(), tail.event_month.end());
  CHECK(head.event_month == all.event_month);
}

TEST_CASE("a first run off the block grid, or past the end, is refused") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  Months sink;
  CHECK_THROWS_AS(run_ensemble(model, options(33), sink), std::invalid_argument);
  CHECK_THROWS_AS(run_ensemble(model, options(224), sink), std::invalid_argument);
}
