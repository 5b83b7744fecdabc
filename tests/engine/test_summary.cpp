#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "engine/Summary.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {
class Feed final : public BatchObserver {
 public:
  explicit Feed(SummaryAccumulator& s) : s_(s) {}
  void on_month(int t, const BatchState& state) override { s_.add_month(t, state); }

 private:
  SummaryAccumulator& s_;
};

/// Summaries of runs [first, first + count) fed batch by batch.
SummaryAccumulator summarise(const Model& model, std::uint64_t seed, std::uint64_t first, int count) {
  SummaryAccumulator acc(model.agents(), model.months());
  BatchState state(model);
  Feed feed(acc);
  for (int offset = 0; offset < count; offset += kLanes) {
    const int valid = std::min(kLanes, count - offset);
    simulate_batch(model, seed, first + static_cast<std::uint64_t>(offset), valid, state, feed);
    acc.add_runs(static_cast<std::uint64_t>(valid));
  }
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
