// The optimiser on a problem with a known answer, and the calibrated baseline against its targets
// and its decisions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "calibrate/Calibrate.hpp"
#include "calibrate/Targets.hpp"
#include "engine/Ensemble.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioLoader.hpp"

using namespace alignsim;

namespace {

const std::string kDataDir = ALIGNSIM_TEST_DATA;
const std::string kBaselineDir = ALIGNSIM_SCENARIOS "/baseline";

Target level(const Scenario& s, const std::string& id, const char* a, const char* b, Month from, Month to) {
  Target t;
  t.id = id;
  t.statistic = Statistic::Level;
  t.dyad = {s.agent_index(a), s.agent_index(b), from, to};
  return t;
}

Target change(const Scenario& s, const std::string& id, const char* a, const char* b, Month from, Month to) {
  Target t = level(s, id, a, b, from, to);
  t.statistic = Statistic::Change;
  return t;
}

/// Targets that pin the shock scale (the visit's jump) and k_a (how fast it fades, and how fast the
/// pact's interest shift is followed), with bands +-0.005 around their values at the true numbers.
TargetSet targets_from_truth(const Scenario& truth, const EnsembleSpec& spec) {
  TargetSet t;
  t.targets.push_back(change(truth, "visit_jump", "AA", "CC", Month::of(1950, 2), Month::of(1950, 3)));
  t.targets.push_back(change(truth, "visit_fades", "AA", "CC", Month::of(1950, 3), Month::of(1950, 7)));
  t.targets.push_back(level(truth, "after_visit", "AA", "CC", Month::of(1950, 4), Month::of(1950, 9)));
  t.targets.push_back(level(truth, "pact_year", "AA", "CC", Month::of(1951, 1), Month::of(1951, 12)));
  t.targets.push_back(level(truth, "bb_cc", "BB", "CC", Month::of(1950, 6), Month::of(1951, 12)));
  for (auto& x : t.targets) {
    x.lo = -2;
    x.hi = 2;
  }
  const Evaluation e = evaluate(truth, t, spec);
  for (std::size_t k = 0; k < t.targets.size(); ++k) {
    t.targets[k].lo = e.targets[k].value - 0.005;
    t.targets[k].hi = e.targets[k].value + 0.005;
  }
  return t;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the optimiser recovers known k_a and shock_scale on the small scenario, the same way every time") {
  const Scenario start = load_scenario(kDataDir + "/small.toml");
  REQUIRE(start.parameters.k_a == 0.05);
  REQUIRE(start.parameters.shock_scale == 0.02);
  Scenario truth = start;
  truth.parameters.k_a = 0.09;
  truth.parameters.shock_scale = 0.026;

  CalibrationOptions o;
  o.ensemble = {256, 3, 0};
  o.max_evals = 150;
  o.prior_weight = 0;  // the targets alone decide
  const TargetSet targets = targets_from_truth(truth, o.ensemble);
  const auto variables = free_variables(start, {"k_a", "shock_scale"});
  REQUIRE(variables.size() == 2);

  const CalibrationResult r = calibrate(start, targets, variables, o);
  INFO("k_a = " << r.best[0] << ", shock_scale = " << r.best[1] << ", loss " << r.start.loss << " -> "
                << r.best_evaluation.loss << " in " << r.evaluations << " evaluations (" << r.stop_reason << ")");
  CHECK(r.start.loss > 1.0);                                // the start misses the targets
  CHECK(r.start.targets_met < 3);
  CHECK(r.best_evaluation.loss < 0.01 * r.start.loss);      // the optimiser reduces the loss
  CHECK(r.best_evaluation.targets_met == 5);                // and meets every target
  CHECK(std::abs(r.best[0] - 0.09) < 0.01);                 // at about the true numbers
  CHECK(std::abs(r.best[1] - 0.026) < 0.0015);
  CHECK(r.evaluations <= o.max_evals);
  CHECK(r.loss_trace.size() == static_cast<std::size_t>(r.evaluations));

  // Deterministic: a second calibration takes the same steps to the same point.
  const CalibrationResult again = calibrate(start, targets, variables, o);
  CHECK(again.best == r.best);
  CHECK(again.loss_trace == r.loss_trace);
  CHECK(again.best_evaluation.loss == r.best_evaluation.loss);

  // The prior term holds the numbers at the start when the targets do not ask for a move.
  TargetSet loose = targets;
  for (auto& t : loose.targets) {
    t.lo = -2;
    t.hi = 2;
  }
  o.prior_weight = 0.1;
  o.max_evals = 40;
  const CalibrationResult still = calibrate(start, loose, variables, o);
  CHECK(still.start.loss == 0);
  CHECK(still.best == std::vector<double>{0.05, 0.02});
}

TEST_CASE("the calibrated file is an overlay that sets what the calibration found") {
  const Scenario base = load_scenario(kDataDir + "/small.toml");
  auto variables = free_variables(base);
  const std::size_t parameters = parameter_table().size();
  REQUIRE(variables.size() == parameters + 2);  // every parameter and the two options' b0
  std::vector<double> values;
  for (const auto& v : variables) values.push_back(v.kind == FreeVariable::Kind::Intercept ? v.start + 0.12345 : (v.lo + v.hi) / 2);
  const std::string text = overlay_toml(base, variables, values, "small.toml", "a test\nof the header");
  CHECK(text.rfind("# a test\n# of the header\nextends = \"small.toml\"\n", 0) == 0);
  const Scenario calibrated = load_scenario_text(text, "calibrated.toml", kDataDir);
  CHECK(calibrated.name == "small_calibrated");
  CHECK(calibrated.event_count() == base.event_count());
  for (std::size_t k = 0; k < variables.size(); ++k) {
    INFO(variables[k].name);
    CHECK(value_of(calibrated, variables[k]) == rounded(variables[k], values[k]));
  }
  const auto& intercept = variables[parameters];
  CHECK(calibrated.events[intercept.event].decision->b0 == doctest::Approx(base.events[intercept.event].decision->b0 + 0.123));
}

TEST_CASE("the calibrated baseline meets at least 90% of its targets and decisions (ensemble median, 512 runs, seed 2)") {
  // Seed 2, not the calibration's seed 1: the targets must hold for other runs than those fitted.
  const Scenario s = load_scenario(kBaselineDir + "/calibrated.toml");
  CHECK(s.name == "baseline_calibrated");
  const TargetSet targets = load_targets(kBaselineDir + "/targets.toml", s);
  REQUIRE(targets.targets.size() >= 40);
  const Evaluation e = evaluate(s, targets, {512, 2, 0});
  std::string missed;
  for (std::size_t k = 0; k < targets.targets.size(); ++k) {
    if (!e.targets[k].met) {
      missed += " " + targets.targets[k].id + " (" + std::to_string(e.targets[k].value) + ")";
    }
  }
  for (std::size_t k = 0; k < targets.decisions.size(); ++k) {
    if (!e.decisions[k].met) missed += " " + targets.decisions[k].id + " (" + std::to_string(e.decisions[k].value) + ")";
  }
  INFO("met " << e.fitted_met << " of " << e.fitted << " targets and decisions; missed:" << missed);
  CHECK(e.fitted_met * 10 >= 9 * e.fitted);
}

TEST_CASE("every decision of the baseline has an expectation in targets.toml, and every expected share is moderate") {
  const Scenario s = load_scenario(kBaselineDir + "/calibrated.toml");
  const TargetSet file = load_targets(kBaselineDir + "/targets.toml", s);
  for (int k = 0; k < s.event_count(); ++k) {
    if (!s.events[k].is_decision()) continue;
    INFO(s.events[k].id);
    CHECK(std::count_if(file.decisions.begin(), file.decisions.end(), [&](const DecisionTarget& d) { return d.event == k; }) == 1);
  }
  // Expectations above 0.95 would push decisions into saturation; only near-certain acts may have them.
  for (const auto& d : file.decisions) {
    INFO(d.id);
    if (d.at_least && d.share > 0.95) CHECK(!s.events[d.event].decision->near_certain.empty());
  }
}

TEST_CASE("the calibrated baseline's history can turn out otherwise (2000 runs, seed 3)") {
  const Scenario s = load_scenario(kBaselineDir + "/calibrated.toml");
  const Model model(s);
  EnsembleOptions eo;
  eo.runs = 2000;
  eo.seed = 3;
  eo.store_runs = 0;
  DiscardSink sink;
  const EnsembleResult r = run_ensemble(model, eo, sink);
  int fixed = 0;
  std::string saturated;
  for (int k = 0; k < s.event_count(); ++k) {
    const double p = static_cast<double>(r.event_count[k]) / static_cast<double>(r.runs_done);
    fixed += p == 0.0 || p == 1.0;
    const auto& e = s.events[k];
    if (e.is_decision() && p > 0.97 && e.decision->near_certain.empty()) saturated += " " + e.id;
  }
  INFO(fixed << " of " << s.event_count() << " events happen in every run or in none");
  CHECK(fixed * 3 <= s.event_count());
  INFO("decisions above 0.97 without a reason:" << saturated);
  CHECK(saturated.empty());
}

TEST_CASE("the calibrated baseline extends the baseline and changes only free numbers") {
  const std::string text = read_file(kBaselineDir + "/calibrated.toml");
  CHECK(text.find("extends = \"scenario.toml\"") != std::string::npos);
  const Scenario base = load_scenario(kBaselineDir + "/scenario.toml");
  const Scenario calibrated = load_scenario(kBaselineDir + "/calibrated.toml");
  REQUIRE(calibrated.event_count() == base.event_count());
  for (int k = 0; k < base.event_count(); ++k) {
    CHECK(calibrated.events[k].id == base.events[k].id);
    CHECK(calibrated.events[k].shocks.size() == base.events[k].shocks.size());
    CHECK(calibrated.events[k].is_decision() == base.events[k].is_decision());
  }
  for (const auto& v : free_variables(base)) {
    INFO(v.name);
    CHECK(value_of(calibrated, v) >= v.lo);
    CHECK(value_of(calibrated, v) <= v.hi);
  }
}
