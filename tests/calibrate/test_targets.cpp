// Calibration targets: their statistics against values computed by hand and independently, and
// the errors of a bad targets file (file:line:column, and exit code 2 from the command).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <unistd.h>

#include "CalibrateCommand.hpp"
#include "Commands.hpp"
#include "calibrate/Evaluate.hpp"
#include "calibrate/Targets.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

const std::string kDataDir = ALIGNSIM_TEST_DATA;

/// Two agents, no dynamics (k_a = k_r = k_b = sigma = 0), W = 0.3 both ways at the start, and one
/// scheduled shock of exactly +0.2 both ways in 1950-03: M is 0.3 in 1950-01..02 and 0.5 from 1950-03.
const std::string kTwoAgents = R"(
[scenario]
name = "two"
title = "two agents, one shock"
[parameters]
start = "1950-01"
end = "1950-06"
k_a = 0.0
k_r = 0.0
k_b = 0.0
sigma = 0.0
[[agents]]
id = "AA"
name = "Atlantis"
capability = 1.0
[[agents]]
id = "BB"
name = "Borduria"
capability = 1.0
[[issues]]
id = "one"
meaning = "-1 no, +1 yes"
[interests.AA]
one = { position = 1.0, salience = 1.0 }
[interests.BB]
one = { position = -1.0, salience = 1.0 }
[[initial_alignment]]
from = "AA"
to = "BB"
value = 0.3
both_ways = true
[[events]]
id = "treaty"
date = "1950-03"
title = "A treaty"
kind = "treaty"
actors = ["AA", "BB"]
source = [1]
[[events.shocks]]
from = "AA"
to = "BB"
mean = 0.2
both_ways = true
)";

const std::string kTwoAgentTargets = R"(
[[targets]]
id = "level_across_the_shock"
text = "t"
source = [1]
statistic = "level"
a = "BB"
b = "AA"
window = ["1950-01", "1950-04"]
band = [0.35, 0.45]

[[targets]]
id = "change_at_the_shock"
text = "t"
source = [1]
statistic = "change"
a = "AA"
b = "BB"
dates = ["1950-02", "1950-03"]
band = [0.25, 0.45]

[[targets]]
id = "after_above_before"
text = "t"
source = [1]
statistic = "ordering"
lower = { a = "AA", b = "BB", window = ["1950-01", "1950-02"] }
higher = { a = "AA", b = "BB", window = ["1950-03", "1950-06"] }

[[targets]]
id = "before_above_after"
text = "t"
source = [1]
statistic = "ordering"
lower = { a = "AA", b = "BB", window = ["1950-03", "1950-06"] }
higher = { a = "AA", b = "BB", window = ["1950-01", "1950-02"] }
)";

/// The 1-based line of the first occurrence of `needle` in `text`.
int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  REQUIRE_MESSAGE(at != std::string::npos, needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

std::vector<Diagnostic> errors_of(const std::string& text, const Scenario& s) {
  try {
    load_targets_text(text, "targets.toml", s);
  } catch (const ScenarioError& e) {
    return e.diagnostics();
  }
  FAIL("the targets were accepted");
  return {};
}

/// The first error is at the line of `needle`, in targets.toml, with a column, and says `expected`.
void check_error(const std::string& text, const Scenario& s, const std::string& needle, const std::string& expected) {
  const auto errors = errors_of(text, s);
  REQUIRE(!errors.empty());
  const auto& d = errors.front();
  INFO(d.str());
  CHECK(d.file == "targets.toml");
  CHECK(d.line == line_of(text, needle));
  CHECK(d.column > 0);
  CHECK(d.message.find(expected) != std::string::npos);
  CHECK(d.str().rfind("targets.toml:" + std::to_string(d.line) + ":", 0) == 0);
}

}  // namespace

TEST_CASE("statistics on a hand-made summary: level, change, ordering, and their loss") {
  const Scenario s = test::scenario_from(kTwoAgents);
  const TargetSet targets = load_targets_text(kTwoAgentTargets, "targets.toml", s);
  REQUIRE(targets.targets.size() == 4);
  Summary median;
  median.months = 6;
  median.agents = 2;
  median.quantiles = {0.5};
  median.quantile.assign(6 * 4, std::numeric_limits<float>::quiet_NaN());
  const float m[6] = {0.25f, 0.5f, 0.75f, 0.5f, 0.25f, 0.0f};
  for (int t = 0; t < 6; ++t) median.quantile[t * 4 + 1] = median.quantile[t * 4 + 2] = m[t];

  const Evaluation e = score(targets, median, s.parameters.start, {}, 0);
  // level over 1950-01..04: (0.25 + 0.5 + 0.75 + 0.5) / 4 = 0.5, above the band [0.35, 0.45] by 0.05;
  // the loss aims 10% of the width (0.01) inside: ((0.5 - 0.44) / 0.1)^2 = 0.36.
  CHECK(e.targets[0].value == doctest::Approx(0.5));
  CHECK_FALSE(e.targets[0].met);
  CHECK(e.targets[0].loss == doctest::Approx(0.36));
  // change 1950-02 -> 1950-03: 0.75 - 0.5 = 0.25, on the band's lower edge: met, loss ((0.27 - 0.25) / 0.2)^2.
  CHECK(e.targets[1].value == doctest::Approx(0.25));
  CHECK(e.targets[1].met);
  CHECK(e.targets[1].loss == doctest::Approx(0.01));
  // ordering: level 1950-01..02 = 0.375 against level 1950-03..06 = 0.375: equal, so not met
  // (strictly below is asked), and neither is the reverse ordering.
  CHECK(e.targets[2].lower_level == doctest::Approx(0.375));
  CHECK(e.targets[2].higher_level == doctest::Approx(0.375));
  CHECK_FALSE(e.targets[2].met);
  // Its loss aims kMargin of the nominal width above 0: ((kMargin * w - 0) / w)^2.
  CHECK(e.targets[2].loss == doctest::Approx(kMargin * kMargin));
  CHECK(e.targets_met == 1);
  CHECK(e.loss == doctest::Approx(0.36 + 0.01 + 2 * kMargin * kMargin));
}

TEST_CASE("statistics on a tiny scenario match the values computed by hand") {
  const Scenario s = test::scenario_from(kTwoAgents);
  const TargetSet targets = load_targets_text(kTwoAgentTargets, "targets.toml", s);
  const Evaluation e = evaluate(s, targets, {64, 5, 2});
  // The median comes from histogram bins of width 0.002 (the midpoint when every run agrees), so a
  // hand-computed value is matched to within 0.001.
  const double bin = 0.001 + 1e-6;
  CHECK(std::abs(e.targets[0].value - (0.3 + 0.3 + 0.5 + 0.5) / 4) <= bin);
  CHECK(e.targets[0].met);
  CHECK(std::abs(e.targets[1].value - 0.2) <= 2 * bin);
  CHECK_FALSE(e.targets[1].met);  // 0.2 is below the band [0.25, 0.45]
  CHECK(std::abs(e.targets[2].lower_level - 0.3) <= bin);
  CHECK(std::abs(e.targets[2].higher_level - 0.5) <= bin);
  CHECK(e.targets[2].met);
  CHECK_FALSE(e.targets[3].met);
  CHECK(e.targets_met == 2);
}

TEST_CASE("statistics on the small scenario match the median and event months of the runs, computed apart") {
  const Scenario s = load_scenario(kDataDir + "/small.toml");
  const TargetSet targets = load_targets(kDataDir + "/small_targets.toml", s);
  REQUIRE(targets.targets.size() == 3);
  REQUIRE(targets.decisions.size() == 2);
  const int runs = 400;
  const Evaluation e = evaluate(s, targets, {runs, 42, 2});
  CHECK(e.runs == runs);

  // The same runs, one by one, and their median M per month by sorting.
  const Model model(s);
  const auto all = test::simulate(model, 42, 0, runs);
  const int n = s.agent_count();
  const auto median = [&](int t, int a, int b) {
    std::vector<double> m;
    for (const auto& r : all) m.push_back(0.5 * (r.at(t, a, b, n) + r.at(t, b, a, n)));
    std::sort(m.begin(), m.end());
    return 0.5 * (m[runs / 2 - 1] + m[runs / 2]);
  };
  const auto level = [&](int a, int b, Month from, Month to) {
    double sum = 0;
    for (Month m = from; m <= to; m = m + 1) sum += median(m - s.parameters.start, a, b);
    return sum / (to - from + 1);
  };
  const int AA = s.agent_index("AA"), BB = s.agent_index("BB"), CC = s.agent_index("CC");
  const Month start = s.parameters.start;
  // Bins of 0.002 and interpolation inside them: agreement to a bin.
  const double tol = 0.002;
  CHECK(std::abs(e.targets[0].value - level(AA, CC, Month::of(1950, 4), Month::of(1950, 9))) <= tol);
  CHECK(std::abs(e.targets[1].value - (median(Month::of(1951, 12) - start, CC, AA) - median(Month::of(1950, 5) - start, CC, AA))) <= 2 * tol);
  CHECK(std::abs(e.targets[2].lower_level - level(AA, BB, Month::of(1950, 1), Month::of(1951, 12))) <= tol);
  CHECK(std::abs(e.targets[2].higher_level - level(AA, CC, Month::of(1951, 1), Month::of(1951, 12))) <= tol);

  // Decision shares: counted exactly.
  const int aa_pact = s.event_index("cc_joins_aa_pact");
  const int bb_pact = s.event_index("cc_joins_bb_pact");
  const int date = s.events[aa_pact].date - start;
  int near = 0, bb = 0;
  for (const auto& r : all) {
    near += r.event_month[aa_pact] >= 0 && std::abs(r.event_month[aa_pact] - date) <= 6;
    bb += r.event_month[bb_pact] >= 0;
  }
  CHECK(e.decisions[0].value == doctest::Approx(static_cast<double>(near) / runs));
  CHECK(e.decisions[1].value == doctest::Approx(static_cast<double>(bb) / runs));
  CHECK(near > 0);
  CHECK(bb > 0);
  CHECK(e.decisions[0].met == (near >= 0.5 * runs));
}

TEST_CASE("a targets file: every kind of error names the file, line and column") {
  const Scenario s = load_scenario(kDataDir + "/small.toml");
  const std::string good = read_file(kDataDir + "/small_targets.toml");
  REQUIRE_NOTHROW(load_targets_text(good, "targets.toml", s));

  SUBCASE("unknown dyad agent") {
    check_error(replaced(good, "a = \"AA\"\nb = \"CC\"", "a = \"AA\"\nb = \"ZZ\""), s, "b = \"ZZ\"",
                "'b' must be an agent of the scenario (AA, BB, CC), found 'ZZ'");
  }
  SUBCASE("unknown agent in an ordering") {
    check_error(replaced(good, "lower = { a = \"AA\", b = \"BB\"", "lower = { a = \"AA\", b = \"XX\""), s, "b = \"XX\"",
                "found 'XX'");
  }
  SUBCASE("window outside the horizon") {
    check_error(replaced(good, "window = [\"1950-04\", \"1950-09\"]", "window = [\"1950-04\", \"1952-01\"]"), s,
                "\"1952-01\"", "1952-01 is outside the scenario's horizon 1950-01 to 1951-12");
  }
  SUBCASE("window that ends before it starts") {
    check_error(replaced(good, "window = [\"1950-04\", \"1950-09\"]", "window = [\"1950-09\", \"1950-04\"]"), s,
                "window = [\"1950-09\"", "window ends (1950-04) before it starts (1950-09)");
  }
  SUBCASE("date that is not a month") {
    check_error(replaced(good, "dates = [\"1950-05\"", "dates = [\"1950-5\""), s, "dates = [", "found \"1950-5\"");
  }
  SUBCASE("bad band: low not below high") {
    check_error(replaced(good, "band = [0.0, 1.0]", "band = [0.5, 0.2]"), s, "band = [0.5, 0.2]",
                "'band' must be [low, high] with low < high, found [0.5, 0.2]");
  }
  SUBCASE("bad band: three numbers") {
    check_error(replaced(good, "band = [0.0, 1.0]", "band = [0.0, 0.5, 1.0]"), s, "band = [0.0, 0.5, 1.0]",
                "found an array of 3");
  }
  SUBCASE("bad band: out of range") {
    check_error(replaced(good, "band = [0.0, 1.0]", "band = [0.0, 3.0]"), s, "band = [0.0, 3.0]",
                "a number in [-2, 2], found 3");
  }
  SUBCASE("bad band: not numbers") {
    check_error(replaced(good, "band = [0.0, 1.0]", "band = [\"low\", 1.0]"), s, "band = [\"low\"", "found a string");
  }
  SUBCASE("missing band") {
    check_error(replaced(good, "band = [0.0, 1.0]\n", ""), s, "[[targets]]", "missing 'band'");
  }
  SUBCASE("unknown statistic") {
    const std::string text = replaced(good, "statistic = \"level\"", "statistic = \"median\"");
    check_error(text, s, "statistic = \"median\"", "'statistic' must be \"level\", \"change\", \"ordering\" or \"persistence\", found \"median\"");
    CHECK(errors_of(text, s).size() == 1);  // and no noise about the keys it cannot judge
  }
  SUBCASE("a key of another statistic") {
    check_error(replaced(good, "window = [\"1950-04\", \"1950-09\"]", "dates = [\"1950-04\", \"1950-09\"]"), s,
                "[[targets]]", "missing 'window'");
    CHECK(errors_of(replaced(good, "window = [\"1950-04\", \"1950-09\"]",
                             "window = [\"1950-04\", \"1950-09\"]\ndates = [\"1950-04\", \"1950-09\"]"), s)
              .front()
              .message.find("unknown key 'dates'; expected one of 'id', 'text', 'weight', 'reference', 'source', 'statistic', 'a', 'b', 'window', 'band'") !=
          std::string::npos);
  }
  SUBCASE("unknown key") {
    check_error(replaced(good, "statistic = \"level\"", "statistic = \"level\"\nheft = 2"), s, "heft = 2",
                "unknown key 'heft'");
  }
  SUBCASE("duplicate id") {
    const std::string text = replaced(good, "id = \"aa_cc_pact_warms\"", "id = \"aa_cc_warm_after_visit\"");
    const auto errors = errors_of(text, s);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == line_of(text, "id = \"aa_cc_warm_after_visit\"\ntext = \"The pact"));
    CHECK(errors[0].message.find("duplicate target id 'aa_cc_warm_after_visit' (first at targets.toml:4)") != std::string::npos);
  }
  SUBCASE("a decision target on a scheduled event") {
    check_error(replaced(good, "event = \"cc_joins_bb_pact\"", "event = \"aa_visits_cc\""), s, "event = \"aa_visits_cc\"",
                "event 'aa_visits_cc' is scheduled, not a decision");
  }
  SUBCASE("a decision target on an unknown event") {
    check_error(replaced(good, "event = \"cc_joins_bb_pact\"", "event = \"no_such_event\""), s,
                "event = \"no_such_event\"", "must name an event of the scenario, found 'no_such_event'");
  }
  SUBCASE("a decision target with both at_least and at_most needs at_least's window") {
    check_error(replaced(good, "at_most = 0.5", "at_most = 0.5\nat_least = 0.2"), s, "[[decisions]]\nevent = \"cc_joins_bb",
                "'at_least' needs 'within_months'");
  }
  SUBCASE("a decision target with neither at_least nor at_most") {
    check_error(replaced(good, "at_most = 0.5\n", ""), s, "[[decisions]]\nevent = \"cc_joins_bb",
                "give 'at_least'");
  }
  SUBCASE("a share out of range") {
    check_error(replaced(good, "at_most = 0.5", "at_most = 1.5"), s, "at_most = 1.5", "a share of runs in [0, 1], found 1.5");
  }
  SUBCASE("at_least without its window") {
    check_error(replaced(good, "within_months = 6\n", ""), s, "[[decisions]]", "'at_least' needs 'within_months'");
  }
  SUBCASE("invalid TOML") {
    check_error(replaced(good, "statistic = \"level\"", "statistic = level"), s, "statistic = level", "invalid TOML");
  }
  SUBCASE("every error is listed, not only the first") {
    std::string text = replaced(good, "b = \"CC\"", "b = \"ZZ\"");
    text = replaced(text, "band = [0.0, 1.0]", "band = [1.0, 0.0]");
    text = replaced(text, "at_most = 0.5", "at_most = -1");
    CHECK(errors_of(text, s).size() == 3);
  }
}

TEST_CASE("alignsim calibrate: a bad targets file or scenario exits with 2 and prints file:line") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "alignsim_test_calibrate_errors";
  fs::create_directories(dir);
  const std::string bad = replaced(read_file(kDataDir + "/small_targets.toml"), "window = [\"1950-04\", \"1950-09\"]",
                                   "window = [\"1950-04\", \"1960-09\"]");
  const std::string bad_path = (dir / "bad_targets.toml").string();
  std::ofstream(bad_path) << bad;

  app::CalibrateOptions o;
  o.scenario = kDataDir + "/small.toml";
  o.targets = bad_path;
  o.runs = 32;
  o.max_evals = 2;
  o.quiet = true;
  o.out = (dir / "calibrated.toml").string();
  o.report = (dir / "report").string();
  std::ostringstream captured;
  auto* old = std::cerr.rdbuf(captured.rdbuf());
  const int code = app::calibrate(o);
  o.targets = kDataDir + "/small_targets.toml";
  o.scenario = (dir / "missing.toml").string();
  const int missing_scenario = app::calibrate(o);
  o.scenario = kDataDir + "/small.toml";
  o.free = {"k_q"};
  const int unknown_free = app::calibrate(o);
  std::cerr.rdbuf(old);

  CHECK(code == app::kBadInput);
  CHECK(missing_scenario == app::kBadInput);
  CHECK(unknown_free == app::kBadInput);
  const std::string err = captured.str();
  INFO(err);
  CHECK(err.find(bad_path + ":" + std::to_string(line_of(bad, "\"1960-09\"")) + ":") != std::string::npos);
  CHECK(err.find("1960-09 is outside the scenario's horizon") != std::string::npos);
  CHECK(err.find("unknown free variable 'k_q'") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "calibrated.toml"));  // nothing is written on bad input
  fs::remove_all(dir);
}

TEST_CASE("persistence, data references, weights, includes and held-out targets") {
  // M is 0.3 in 1950-01..02 and 0.5 from 1950-03 (see kTwoAgents).
  const Scenario s = test::scenario_from(kTwoAgents);
  const auto dir = std::filesystem::temp_directory_path() / ("alignsim_targets_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "data.toml") << R"(
[[targets]]
id = "from_data"
text = "a pact in the data"
reference = "ATOP 5.1"
statistic = "level"
a = "AA"
b = "BB"
window = ["1950-03", "1950-06"]
band = [0.6, 1.0]
weight = 0.5
)";
  const std::string main = R"(
include = ["data.toml"]
[[targets]]
id = "holds_from_march"
text = "the treaty's warmth lasts"
source = [1]
statistic = "persistence"
a = "AA"
b = "BB"
from = "1950-03"
months = 4
band = [0.4, 1.0]
[[targets]]
id = "holds_from_january"
text = "warm from the start"
source = [1]
statistic = "persistence"
a = "AA"
b = "BB"
from = "1950-01"
months = 6
band = [0.4, 1.0]
)";
  TargetSet targets = load_targets_text(main, (dir / "targets.toml").string(), s, dir);
  std::filesystem::remove_all(dir);
  REQUIRE(targets.targets.size() == 3);
  CHECK(targets.targets[2].reference == "ATOP 5.1");
  CHECK(targets.targets[2].source.empty());
  const Evaluation e = evaluate(s, targets, {64, 5, 2});
  // From 1950-03 the median stays in [0.4, 1] for all 4 months: met.
  CHECK(e.targets[0].value == 4);
  CHECK(e.targets[0].met);
  CHECK(e.targets[0].loss == 0);
  // From 1950-01 it is out of the band at once: 0 months of 6, loss ((6 - 0) / 6)^2 (no margin: the
  // count cannot pass `months`).
  CHECK(e.targets[1].value == 0);
  CHECK_FALSE(e.targets[1].met);
  CHECK(e.targets[1].loss == doctest::Approx(1.0));
  // The data target: level 0.5 below [0.6, 1], weighted by 0.5.
  CHECK(e.targets[2].loss == doctest::Approx(0.5 * std::pow((0.6 + kMargin * 0.4 - 0.5) / 0.4, 2)).epsilon(1e-3));
  CHECK(e.loss == doctest::Approx(e.targets[1].loss + e.targets[2].loss));
  CHECK(e.fitted == 3);
  // Held out after 1950-04: the two persistence targets end in 1950-06, the level target too.
  hold_out_after(targets, Month::of(1950, 4));
  const Evaluation held = evaluate(s, targets, {64, 5, 2});
  CHECK(held.held_out == 3);
  CHECK(held.fitted == 0);
  CHECK(held.loss == 0);  // nothing fitted: held-out targets do not count in the loss
  CHECK(held.held_out_met == 1);
}

TEST_CASE("a decision's cap: the share of runs in which it happens at all may not exceed it") {
  const Scenario s = load_scenario(kDataDir + "/small.toml");
  const std::string targets_text = R"(
decisions_at_most = 0.05
[[targets]]
id = "t"
text = "t"
source = [1]
statistic = "level"
a = "AA"
b = "CC"
window = ["1950-01", "1950-02"]
band = [-1.0, 1.0]
[[decisions]]
event = "cc_joins_aa_pact"
at_least = 0.0
within_months = 600
[[decisions]]
event = "cc_joins_bb_pact"
at_least = 0.0
within_months = 600
at_most = 1.0
)";
  const TargetSet targets = load_targets_text(targets_text, "targets.toml", s);
  REQUIRE(targets.decisions.size() == 2);
  CHECK(targets.decisions[0].cap == doctest::Approx(0.05));  // the file's default
  CHECK(targets.decisions[1].cap == 1.0);                    // its own
  const Evaluation e = evaluate(s, targets, {400, 42, 2});
  // The runs in which each option happened, counted apart.
  const auto runs = test::simulate(Model(s), 42, 0, 400);
  const int aa = s.event_index("cc_joins_aa_pact");
  double happened = 0;
  for (const auto& r : runs) happened += r.event_month[aa] >= 0;
  CHECK(e.decisions[0].any == doctest::Approx(happened / 400));
  REQUIRE(happened / 400 > 0.05);
  CHECK_FALSE(e.decisions[0].met);
  const double over = happened / 400 - (0.05 - kMargin * 0.05);
  CHECK(e.decisions[0].loss == doctest::Approx((over / 0.05) * (over / 0.05)));
  CHECK(e.decisions[1].met);
}
