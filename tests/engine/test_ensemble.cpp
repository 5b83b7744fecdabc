// The engine's results do not depend on the thread count or the block size.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "engine/Ensemble.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

/// Keeps everything the engine hands over, and checks the blocks arrive in run order.
class MemorySink final : public BlockSink {
 public:
  void write_block(const RunBlock& b) override {
    CHECK(b.first == next);
    next += static_cast<std::uint64_t>(b.count);
    event_month.insert(event_month.end(), b.event_month.begin(), b.event_month.end());
    alignment.insert(alignment.end(), b.alignment.begin(), b.alignment.end());
    if (stop_after && next >= stop_after) stop->store(true);
  }
  std::uint64_t next = 0;
  std::vector<std::int16_t> event_month;
  std::vector<float> alignment;
  std::uint64_t stop_after = 0;
  std::atomic<bool>* stop = nullptr;
};

struct Outcome {
  Summary summary;
  MemorySink sink;
  std::vector<std::uint64_t> event_count;
};

/// Options of the tests' ensembles: seed 77, the first 50 runs stored.
EnsembleOptions options(std::uint64_t runs, int threads, int block_runs) {
  EnsembleOptions o;
  o.runs = runs;
  o.seed = 77;
  o.threads = threads;
  o.block_runs = block_runs;
  o.store_runs = 50;
  return o;
}

Outcome run(const Model& model, int threads, int block_runs, std::uint64_t runs = 203) {
  EnsembleOptions o = options(runs, threads, block_runs);
  Outcome out;
  auto result = run_ensemble(model, o, out.sink);
  CHECK(result.runs_done == runs);
  CHECK(!result.interrupted);
  out.summary = result.summary.finish({0.05, 0.5, 0.95});
  out.event_count = result.event_count;
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("bit-identical results with 1, 2 and 7 threads and any block size") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const Outcome reference = run(model, 1, 16);
  for (const auto& [threads, block] : std::vector<std::pair<int, int>>{{1, 256}, {2, 16}, {2, 48}, {7, 32}, {7, 1}}) {
    CAPTURE(threads);
    CAPTURE(block);
    const Outcome o = run(model, threads, block);
    CHECK(same_bits(o.summary.mean, reference.summary.mean));
    CHECK(same_bits(o.summary.std, reference.summary.std));
    CHECK(same_bits(o.summary.quantile, reference.summary.quantile));
    CHECK(o.sink.event_month == reference.sink.event_month);
    CHECK(same_bits(o.sink.alignment, reference.sink.alignment));
    CHECK(o.event_count == reference.event_count);
  }
}

TEST_CASE("the engine's runs are the kernel's runs, and only the first K are stored") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const Outcome o = run(model, 2, 32);
  const auto runs = test::simulate(model, 77, 0, 203);
  const int n = model.agents();
  const std::size_t per_run = static_cast<std::size_t>(model.months()) * n * n;
  REQUIRE(o.sink.alignment.size() == 50 * per_run);
  for (int r = 0; r < 50; ++r) {
    for (std::size_t c = 0; c < per_run; ++c) {
      const bool diagonal = (c % (n * n)) / n == (c % (n * n)) % n;
      const float stored = o.sink.alignment[r * per_run + c];
      if (diagonal) {
        CHECK(std::isnan(stored));
      } else if (stored != runs[r].W[c]) {
        FAIL("run " << r << " differs at " << c);
      }
    }
  }
  for (int r = 0; r < 203; ++r) {
    for (int e = 0; e < model.events(); ++e) CHECK(o.sink.event_month[r * model.events() + e] == runs[r].event_month[e]);
  }
}

TEST_CASE("a stopped ensemble covers a prefix of whole runs") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  std::atomic<bool> stop{false};
  EnsembleOptions o = options(10000, 2, 64);
  MemorySink sink;
  sink.stop_after = 300;
  sink.stop = &stop;
  const auto result = run_ensemble(model, o, sink, &stop);
  CHECK(result.interrupted);
  CHECK(result.runs_done >= 300);
  CHECK(result.runs_done < 10000);
  CHECK(result.runs_done % 64 == 0);
  CHECK(result.summary.runs() == result.runs_done);
  CHECK(sink.event_month.size() == result.runs_done * static_cast<std::uint64_t>(model.events()));
}

TEST_CASE("a sink that fails ends the ensemble with its error, and the blocks in flight are freed") {
  // A full disk while writing: the error reaches the caller, and the blocks the other stages held are
  // freed, not leaked (the sanitizer build's LeakSanitizer fails this test if they are).
  struct FailingSink final : public BlockSink {
    void write_block(const RunBlock& b) override {
      if (b.first >= 128) throw std::runtime_error("no space left on device");
    }
  };
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  EnsembleOptions o;
  o.runs = 100000;
  o.seed = 77;
  o.threads = 2;
  o.block_runs = 64;
  o.store_runs = 1000;
  FailingSink sink;
  CHECK_THROWS_WITH_AS(run_ensemble(model, o, sink), "no space left on device", std::runtime_error);
}

namespace {

/// Keeps the first run of every block, in the order handed over.
class BlockList final : public BlockSink {
 public:
  void write_block(const RunBlock& b) override {
    firsts.push_back(b.first);
    runs += static_cast<std::uint64_t>(b.count);
  }
  std::vector<std::uint64_t> firsts;
  std::uint64_t runs = 0;
};

}  // namespace

TEST_CASE("the parts of an ensemble, run apart, add up to the whole ensemble, bit for bit") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const Outcome whole = run(model, 2, 32);
  for (const int parts : {2, 3, 8}) {
    CAPTURE(parts);
    EnsembleOptions o = options(203, 2, 32);
    o.parts = parts;
    SummaryAccumulator total(model.agents(), model.months());
    std::vector<std::uint64_t> counts(static_cast<std::size_t>(model.events()), 0);
    std::vector<int> times_simulated(203, 0);
    for (int part = 0; part < parts; ++part) {
      o.part = part;
      BlockList blocks;
      const auto result = run_ensemble(model, o, blocks);
      CHECK(result.next_run == 203);
      CHECK(!result.interrupted);
      CHECK(result.runs_done == blocks.runs);
      CHECK(std::is_sorted(blocks.firsts.begin(), blocks.firsts.end()));
      for (const auto first : blocks.firsts) {
        CHECK(first / 32 % static_cast<std::uint64_t>(parts) == static_cast<std::uint64_t>(part));
        for (std::uint64_t r = first; r < std::min<std::uint64_t>(first + 32, 203); ++r) ++times_simulated[r];
      }
      total.merge(result.summary);
      for (int e = 0; e < model.events(); ++e) counts[e] += result.event_count[e];
    }
    CHECK(std::all_of(times_simulated.begin(), times_simulated.end(), [](int n) { return n == 1; }));
    const Summary s = total.finish({0.05, 0.5, 0.95});
    CHECK(same_bits(s.mean, whole.summary.mean));
    CHECK(same_bits(s.std, whole.summary.std));
    CHECK(same_bits(s.quantile, whole.summary.quantile));
    CHECK(counts == whole.event_count);
  }
}

TEST_CASE("a range of runs: two ranges make the whole, and a range must start at a block") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const Outcome whole = run(model, 1, 16);
  EnsembleOptions o = options(203, 1, 16);
  o.end_run = 96;
  MemorySink first_sink;
  const auto first = run_ensemble(model, o, first_sink);
  CHECK(first.runs_done == 96);
  CHECK(first.next_run == 96);
  o.first_run = 96;
  o.end_run = 0;  // to the last run
  MemorySink rest_sink;
  rest_sink.next = 96;
  const auto rest = run_ensemble(model, o, rest_sink);
  CHECK(rest.runs_done == 107);
  CHECK(rest.next_run == 203);
  SummaryAccumulator total = first.summary;
  total.merge(rest.summary);
  CHECK(same_bits(total.finish({0.05, 0.5, 0.95}).quantile, whole.summary.quantile));
  auto months = first_sink.event_month;
  months.insert(months.end(), rest_sink.event_month.begin(), rest_sink.event_month.end());
  CHECK(months == whole.sink.event_month);
  auto stored = first_sink.alignment;
  stored.insert(stored.end(), rest_sink.alignment.begin(), rest_sink.alignment.end());
  CHECK(same_bits(stored, whole.sink.alignment));  // the first 50 runs, across the two ranges

  o.first_run = 200;
  o.end_run = 200;
  MemorySink none;
  none.next = 200;
  const auto empty = run_ensemble(model, o, none);
  CHECK(empty.runs_done == 0);
  CHECK(empty.summary.runs() == 0);
  o.first_run = 40;  // not a multiple of 16
  o.end_run = 0;
  CHECK_THROWS_AS(run_ensemble(model, o, none), std::invalid_argument);
  o.first_run = 0;
  o.end_run = 204;
  CHECK_THROWS_AS(run_ensemble(model, o, none), std::invalid_argument);
  o.end_run = 0;
  o.part = 2;
  o.parts = 2;
  CHECK_THROWS_AS(run_ensemble(model, o, none), std::invalid_argument);
}

TEST_CASE("a stopped part has done exactly its blocks below where it stopped") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  std::atomic<bool> stop{false};
  EnsembleOptions o = options(100000, 2, 64);
  o.part = 1;
  o.parts = 3;
  class Stopper final : public BlockSink {
   public:
    explicit Stopper(std::atomic<bool>& s) : flag(s) {}
    void write_block(const RunBlock& b) override {
      firsts.push_back(b.first);
      if (firsts.size() == 5) flag.store(true);
    }
    std::atomic<bool>& flag;
    std::vector<std::uint64_t> firsts;
  } sink(stop);
  const auto result = run_ensemble(model, o, sink, &stop);
  CHECK(result.interrupted);
  CHECK(result.next_run % (3 * 64) == 64);  // the first run of one of part 1's blocks
  REQUIRE(sink.firsts.size() >= 5);
  for (std::size_t k = 0; k < sink.firsts.size(); ++k) CHECK(sink.firsts[k] == 64 + 3 * 64 * k);
  CHECK(sink.firsts.back() + 3 * 64 == result.next_run);
  CHECK(result.runs_done == 64 * sink.firsts.size());
  CHECK(result.summary.runs() == result.runs_done);
}
