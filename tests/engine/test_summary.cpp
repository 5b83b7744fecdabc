#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "engine/Summary.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {
class Feed final : public BatchObserver {
 public:
  Feed(DyadBuffer& b, int offset) : b_(b), offset_(offset) {}
  void on_month(int t, const BatchState& state) override { b_.record(t, state, offset_); }

 private:
  DyadBuffer& b_;
  int offset_;
};

/// Summaries of runs [first, first + count) as one block.
SummaryAccumulator summarise(const Model& model, std::uint64_t seed, std::uint64_t first, int count) {
  SummaryAccumulator acc(model.agents(), model.months());
  DyadBuffer buffer(model.agents(), model.months(), count);
  BatchState state(model);
  for (int offset = 0; offset < count; offset += kLanes) {
    Feed feed(buffer, offset);
    simulate_batch(model, seed, first + static_cast<std::uint64_t>(offset), std::min(kLanes, count - offset), state, feed);
  }
  acc.add(buffer, count);
  return acc;
}
}  // namespace

TEST_CASE("summaries agree with mean, sd and quantiles computed directly from the runs") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const int count = 1000;
  const auto runs = test::simulate(model, 4, 0, count);
  const std::vector<double> levels = {0.05, 0.5, 0.95};
  const Summary s = summarise(model, 4, 0, count).finish(levels);
  const int n = model.agents();
  for (const int t : {0, 5, 23}) {
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        const std::size_t at = static_cast<std::size_t>(t) * n * n + i * n + j;
        if (i == j) {
          CHECK(std::isnan(s.mean[at]));
          continue;
        }
        std::vector<double> m;
        for (const auto& r : runs) m.push_back(0.5 * (double{r.at(t, i, j, n)} + r.at(t, j, i, n)));
        double mean = 0;
        for (double x : m) mean += x;
        mean /= count;
        double var = 0;
        for (double x : m) var += (x - mean) * (x - mean);
        var /= count - 1;
        CHECK(s.mean[at] == doctest::Approx(mean).epsilon(1e-6));
        CHECK(s.std[at] == doctest::Approx(std::sqrt(var)).epsilon(1e-5));
        std::sort(m.begin(), m.end());
        for (std::size_t k = 0; k < levels.size(); ++k) {
          const double exact = m[static_cast<std::size_t>(levels[k] * (count - 1))];
          // Within one histogram bin (width 0.002) of the order statistic.
          CHECK(std::fabs(s.quantile[k * n * n * model.months() + at] - exact) <= 0.002 + 1e-6);
        }
        CHECK(s.mean[at] == s.mean[static_cast<std::size_t>(t) * n * n + j * n + i]);
      }
    }
  }
}

TEST_CASE("era means are each run's mean of M over the era's months") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const int count = 40;
  const auto runs = test::simulate(model, 4, 0, count);
  DyadBuffer buffer(model.agents(), model.months(), count, model.eras());
  BatchState state(model);
  // Twice over, so that the second block's means cannot include the first's sums.
  for (const std::uint64_t seed : {5u, 4u}) {
    for (int offset = 0; offset < count; offset += kLanes) {
      Feed feed(buffer, offset);
      simulate_batch(model, seed, static_cast<std::uint64_t>(offset), std::min(kLanes, count - offset), state, feed);
    }
  }
  REQUIRE(model.eras().size() == 2);
  const int n = model.agents();
  std::vector<float> out(static_cast<std::size_t>(count) * 2 * n * n);
  buffer.era_means(count, out.data());
  for (int r = 0; r < count; ++r) {
    for (int e = 0; e < 2; ++e) {
      const auto [from, to] = model.eras()[e];
      double sum = 0;
      for (int t = from; t <= to; ++t) sum += 0.5 * (double{runs[r].at(t, 0, 2, n)} + runs[r].at(t, 2, 0, n));
      const float* m = &out[(static_cast<std::size_t>(r) * 2 + e) * n * n];
      CHECK(m[0 * n + 2] == doctest::Approx(sum / (to - from + 1)).epsilon(1e-6));
      CHECK(m[2 * n + 0] == m[0 * n + 2]);
      CHECK(std::isnan(m[1 * n + 1]));
    }
  }
}

TEST_CASE("merged partial summaries equal one summary, bit for bit, in any order") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const auto whole = summarise(model, 9, 0, 96).finish({0.25, 0.5});
  auto a = summarise(model, 9, 0, 48);
  auto b = summarise(model, 9, 48, 32);
  auto c = summarise(model, 9, 80, 16);
  SummaryAccumulator forward(model.agents(), model.months());
  forward.merge(a);
  forward.merge(b);
  forward.merge(c);
  SummaryAccumulator backward(model.agents(), model.months());
  backward.merge(c);
  backward.merge(b);
  backward.merge(a);
  for (const auto* merged : {&forward, &backward}) {
    const auto s = merged->finish({0.25, 0.5});
    CHECK(s.runs == 96);
    CHECK(std::equal(s.mean.begin(), s.mean.end(), whole.mean.begin(), [](float x, float y) {
      return (std::isnan(x) && std::isnan(y)) || x == y;
    }));
    CHECK(std::equal(s.std.begin(), s.std.end(), whole.std.begin(), [](float x, float y) {
      return (std::isnan(x) && std::isnan(y)) || x == y;
    }));
    CHECK(std::equal(s.quantile.begin(), s.quantile.end(), whole.quantile.begin(), [](float x, float y) {
      return (std::isnan(x) && std::isnan(y)) || x == y;
    }));
  }
}

TEST_CASE("an accumulator sent as words comes back the same, and merges as the accumulator would") {
  const Model model(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  const auto a = summarise(model, 9, 0, 48);
  const auto b = summarise(model, 9, 48, 32);
  const auto words_a = a.to_words();
  SummaryAccumulator copy(model.agents(), model.months());
  copy.merge_words(words_a.data(), words_a.size());
  CHECK(copy.to_words() == words_a);
  const std::size_t full = 4 + 3 * 3 * 24 + 3 * 24 * 1000 / 2;  // every histogram count sent
  CHECK(words_a.size() < full / 4);  // rows are trimmed to the bins the runs reach

  SummaryAccumulator merged = a;
  merged.merge(b);
  SummaryAccumulator by_words = b;
  by_words.merge_words(words_a.data(), words_a.size());
  CHECK(by_words.to_words() == merged.to_words());
  const auto s = by_words.finish({0.5});
  const auto whole = summarise(model, 9, 0, 80).finish({0.5});
  CHECK(s.runs == 80);
  CHECK(std::memcmp(s.quantile.data(), whole.quantile.data(), s.quantile.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(s.std.data(), whole.std.data(), s.std.size() * sizeof(float)) == 0);

  // Words of another shape, or cut short, are refused and leave the accumulator as it was.
  const auto before = by_words.to_words();
  CHECK_THROWS_AS(by_words.merge_words(words_a.data(), words_a.size() - 1), std::invalid_argument);
  const auto other = SummaryAccumulator(model.agents(), model.months(), 500).to_words();
  CHECK_THROWS_AS(by_words.merge_words(other.data(), other.size()), std::invalid_argument);
  CHECK(by_words.to_words() == before);
}

TEST_CASE("the 128-bit sums of squares travel as two words and carry when merged") {
  SummaryAccumulator zero(3, 2, 4);  // 3 dyads x 2 months: sums at words 4..9, squares at 10..21
  auto w = zero.to_words();
  w[3] = 2;                    // runs
  w[4] = static_cast<std::uint64_t>(std::int64_t{-7});  // a negative sum, in two's complement
  w[10] = ~std::uint64_t{0};  // the first cell's sum of squares: 2^64 - 1 ...
  w[11] = 0;
  w[12] = 5;                  // ... and the second one's 2^64 + 5
  w[13] = 1;
  SummaryAccumulator sum = zero;
  sum.merge_words(w.data(), w.size());
  sum.merge_words(w.data(), w.size());
  const auto twice = sum.to_words();
  CHECK(twice[3] == 4);
  CHECK(static_cast<std::int64_t>(twice[4]) == -14);
  CHECK(twice[10] == ~std::uint64_t{0} - 1);  // 2 (2^64 - 1) = 2^65 - 2
  CHECK(twice[11] == 1);
  CHECK(twice[12] == 10);                     // 2 (2^64 + 5) = 2^65 + 10
  CHECK(twice[13] == 2);
}
