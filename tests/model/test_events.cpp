// Events: probability, jitter, requires/excludes, and the addressing of draws (decisions and
// choices: test_decisions.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "model/Model.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

const std::string kQuiet = test::three_agents("k_a = 0.05\nk_r = 0.1\nk_b = 0.05\nsigma = 0.02", 120);
const std::string kFrozen = test::three_agents("k_a = 0\nk_r = 0\nk_b = 0\nsigma = 0", 120);

std::string event(const std::string& id, const std::string& date, const std::string& extra = "") {
  return "\n[[events]]\nid = \"" + id + "\"\ndate = \"" + date + "\"\ntitle = \"" + id +
         "\"\nkind = \"statement\"\nactors = [\"AA\"]\nsource = [1]\n" + extra;
}

struct Ensemble {
  Scenario scenario;
  std::vector<test::Run> runs;
  int month_of(std::size_t run, const std::string& id) const { return runs[run].event_month[scenario.event_index(id)]; }
};

Ensemble simulate(const std::string& toml, int count, std::uint64_t seed = 11) {
  Ensemble e{test::scenario_from(toml), {}};
  const Model model(e.scenario);
  e.runs = test::simulate(model, seed, 0, count);
  return e;
}

}  // namespace

TEST_CASE("probability 0 never happens and probability 1 always happens, on its date") {
  const auto e = simulate(kQuiet + event("never", "1951-03", "probability = 0.0\n") + event("always", "1951-03"), 500);
  for (std::size_t r = 0; r < e.runs.size(); ++r) {
    CHECK(e.month_of(r, "never") == -1);
    CHECK(e.month_of(r, "always") == 14);
  }
}

TEST_CASE("a probability p event happens in a share p of runs, and jitter spreads it uniformly") {
  const auto e = simulate(kQuiet + event("maybe", "1953-06", "probability = 0.3\njitter_months = 3\n"), 4000);
  int happened = 0;
  std::vector<int> by_offset(7, 0);
  for (std::size_t r = 0; r < e.runs.size(); ++r) {
    const int m = e.month_of(r, "maybe");
    if (m < 0) continue;
    ++happened;
    const int offset = m - 41;
    REQUIRE(offset >= -3);
    REQUIRE(offset <= 3);
    ++by_offset[offset + 3];
  }
  const double share = happened / 4000.0;
  CHECK(std::fabs(share - 0.3) < 4 * std::sqrt(0.3 * 0.7 / 4000));
  for (const int count : by_offset) CHECK(std::fabs(count - happened / 7.0) < 5 * std::sqrt(happened / 7.0));
}

TEST_CASE("requires and excludes: an event happens only after those it requires and never after those it excludes") {
  const auto e = simulate(kQuiet + event("coin", "1950-03", "probability = 0.5\n") +
                              event("follows", "1950-06", "requires = [\"coin\"]\n") +
                              event("instead", "1950-06", "excludes = [\"coin\"]\n") +
                              event("same_month", "1950-03", "requires = [\"coin\"]\n"),
                          1000);
  int heads = 0;
  for (std::size_t r = 0; r < e.runs.size(); ++r) {
    const bool coin = e.month_of(r, "coin") >= 0;
    heads += coin;
    CHECK((e.month_of(r, "follows") >= 0) == coin);
    CHECK((e.month_of(r, "instead") >= 0) == !coin);
    CHECK((e.month_of(r, "same_month") >= 0) == coin);  // processed after what it requires
  }
  CHECK(heads > 400);
  CHECK(heads < 600);
}

TEST_CASE("two decisions that exclude each other: at most one happens") {
  const std::string window = "[events.decision]\nfrom = \"1950-01\"\nto = \"1951-12\"\nb0 = -1.0\n";
  const auto e = simulate(kQuiet + event("east", "1950-01", "excludes = [\"west\"]\n" + window) +
                              event("west", "1950-01", "excludes = [\"east\"]\n" + window),
                          1000);
  int east = 0, west = 0;
  for (std::size_t r = 0; r < e.runs.size(); ++r) {
    const bool a = e.month_of(r, "east") >= 0;
    const bool b = e.month_of(r, "west") >= 0;
    CHECK(!(a && b));
    east += a;
    west += b;
  }
  CHECK(east > 100);
  CHECK(west > 100);
}

TEST_CASE("the same (scenario, seed, run) gives the same run, whatever batch it is computed in") {
  const auto toml = kQuiet + event("maybe", "1950-06", "probability = 0.5\njitter_months = 2\n[[events.shocks]]\nfrom = \"AA\"\nto = \"BB\"\nmean = 0.2\nsd = 0.1\n");
  const Model model(test::scenario_from(toml));
  const auto a = test::simulate(model, 5, 0, 40);
  const auto b = test::simulate(model, 5, 3, 37);  // runs 3..39, in batches that start elsewhere
  const auto c = test::simulate(model, 5, 0, 40);
  for (int r = 3; r < 40; ++r) {
    CHECK(a[r].W == b[r - 3].W);
    CHECK(a[r].event_month == b[r - 3].event_month);
    CHECK(a[r].W == c[r].W);
  }
  const auto other_seed = test::simulate(model, 6, 0, 1);
  CHECK(other_seed[0].W != a[0].W);
  CHECK(a[0].W != a[1].W);
}

TEST_CASE("removing or moving an unrelated event changes no draw of any other event") {
  const std::string shocked = "probability = 0.6\njitter_months = 4\n[[events.shocks]]\nfrom = \"AA\"\nto = \"CC\"\nmean = 0.3\nsd = 0.1\n";
  const std::string decision = "[events.decision]\nfrom = \"1950-06\"\nto = \"1953-12\"\nb0 = -2.5\n";
  const std::string inert = event("inert", "1951-01", "probability = 0.5\njitter_months = 6\n");
  const std::string a = event("first", "1950-06", shocked) + event("second", "1951-09", shocked) +
                        event("choice", "1950-06", decision);
  const auto with = simulate(kQuiet + inert + a, 200);
  const auto without = simulate(kQuiet + a, 200);
  const auto moved = simulate(kQuiet + a + inert, 200);
  for (std::size_t r = 0; r < 200; ++r) {
    // An event without effects: every number of every run is the same without it.
    CHECK(with.runs[r].W == without.runs[r].W);
    CHECK(with.runs[r].W == moved.runs[r].W);
    for (const char* id : {"first", "second", "choice"}) CHECK(with.month_of(r, id) == without.month_of(r, id));
  }
  // An event with effects: removing it changes W, but not the draws of the other scheduled events.
  const auto no_first = simulate(kQuiet + event("second", "1951-09", shocked) + event("choice", "1950-06", decision), 200);
  bool w_changed = false;
  for (std::size_t r = 0; r < 200; ++r) {
    CHECK(no_first.month_of(r, "second") == with.month_of(r, "second"));
    w_changed |= no_first.runs[r].W != with.runs[r].W;
  }
  CHECK(w_changed);
}
