// The posterior calibration: priors and their errors, the posterior file and its errors, the draw
// each run takes, the plan that gives runs their parameters, and ABC-SMC on a problem with a known
// answer, the same whatever the threads or batches.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "calibrate/Abc.hpp"
#include "calibrate/Posterior.hpp"
#include "calibrate/Priors.hpp"
#include "calibrate/Targets.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

const std::string kDataDir = ALIGNSIM_TEST_DATA;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const Prior& prior_of(const std::vector<Prior>& priors, const std::string& name) {
  const auto it = std::find_if(priors.begin(), priors.end(), [&](const Prior& p) { return p.variable.name == name; });
  REQUIRE_MESSAGE(it != priors.end(), name);
  return *it;
}

int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  REQUIRE_MESSAGE(at != std::string::npos, needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

/// The first diagnostic of loading priors from `text`, which must fail.
Diagnostic prior_error(const std::string& text, const Scenario& s) {
  try {
    load_priors_text(text, "targets.toml", s, free_variables(s));
  } catch (const ScenarioError& e) {
    REQUIRE(!e.diagnostics().empty());
    return e.diagnostics().front();
  }
  FAIL("the priors were accepted");
  return {};
}

Diagnostic posterior_error(const std::string& text) {
  try {
    load_posterior_text(text, "posterior.csv");
  } catch (const ScenarioError& e) {
    REQUIRE(!e.diagnostics().empty());
    return e.diagnostics().front();
  }
  FAIL("the posterior was accepted");
  return {};
}

Posterior two_draws() {
  Posterior p;
  p.names = {"shock_scale", "b0:cc_joins_aa_pact", "b0:no_such_event"};
  p.values = {{0.012, -2.5, 0.0}, {0.028, 1.5, 0.0}};
  p.weights = {0.25, 0.75};
  p.losses = {0.5, 0.25};
  return p;
}

}  // namespace

TEST_CASE("priors: the defaults of each kind of free number, on their interpretable scales") {
  const Scenario s = load_scenario(kDataDir + "/small.toml");
  const auto priors = load_priors_text("", "targets.toml", s, free_variables(s));
  REQUIRE(priors.size() == free_variables(s).size());
  const Prior& ka = prior_of(priors, "k_a");
  CHECK(ka.shape == Prior::Shape::Uniform);
  CHECK(ka.a == find_parameter("k_a")->fit_lo);
  CHECK(ka.b == find_parameter("k_a")->fit_hi);
  const Prior& response = prior_of(priors, "response_alliance");
  CHECK(response.shape == Prior::Shape::LogNormal);
  CHECK(response.a == 1.0);
  CHECK(response.b == doctest::Approx(std::log(4.0) / 2));
  const Prior& b0 = prior_of(priors, "b0:cc_joins_aa_pact");
  CHECK(b0.shape == Prior::Shape::Normal);
  CHECK(b0.a == -1.0);  // the scenario's intercept
  CHECK(b0.b == kDefaultInterceptSd);
  // Densities on the internal scale: a log-normal is normal in ln x; nothing outside the support.
  CHECK(response.log_density(response.to_internal(1.0)) == 0.0);
  CHECK(response.log_density(response.to_internal(2.0)) == doctest::Approx(-0.5 * std::pow(std::log(2.0) / response.b, 2)));
  CHECK(std::isinf(ka.log_density(0.2)));
  CHECK(b0.log_density(-1.0 + 2.0) == doctest::Approx(-2.0));
}

TEST_CASE("priors: a [priors] table overrides the defaults, b0 for every intercept, one intercept, or fixes a number") {
  const Scenario s = load_scenario(kDataDir + "/small.toml");
  const std::string text = R"(
[priors]
k_a = { distribution = "uniform", low = 0.02, high = 0.08 }
"b0:cc_joins_bb_pact" = { distribution = "normal", mean = 0.5, sd = 0.25 }
b0 = { distribution = "normal", sd = 2.0 }
sigma = { distribution = "fixed" }
response_contact = { distribution = "lognormal", median = 2.0, sd_log = 0.1 }
)";
  const auto priors = load_priors_text(text, "targets.toml", s, free_variables(s));
  CHECK(priors.size() == free_variables(s).size() - 1);  // sigma is fixed
  CHECK(std::none_of(priors.begin(), priors.end(), [](const Prior& p) { return p.variable.name == "sigma"; }));
  CHECK(prior_of(priors, "k_a").a == 0.02);
  CHECK(prior_of(priors, "k_a").variable.hi == 0.08);
  CHECK(prior_of(priors, "b0:cc_joins_aa_pact").a == -1.0);  // b0's mean: the intercept's own value
  CHECK(prior_of(priors, "b0:cc_joins_aa_pact").b == 2.0);
  CHECK(prior_of(priors, "b0:cc_joins_bb_pact").a == 0.5);  // its own entry wins, whatever the order
  CHECK(prior_of(priors, "b0:cc_joins_bb_pact").b == 0.25);
  CHECK(prior_of(priors, "response_contact").a == 2.0);
  // The targets reader accepts the table (it is the priors reader's).
  CHECK_NOTHROW(load_targets_text(text + read_text(kDataDir + "/small_targets.toml"), "targets.toml", s));
}

TEST_CASE("priors: every kind of error names the line, column and what was expected") {
  const Scenario s = load_scenario(kDataDir + "/small.toml");
  struct Case {
    std::string entry, expected;
  };
  const Case cases[] = {
      {"k_z = { distribution = \"uniform\", low = 0.0, high = 1.0 }", "unknown free number 'k_z'"},
      {"k_a = { distribution = \"beta\" }", "'distribution' must be \"uniform\", \"normal\", \"lognormal\" or \"fixed\""},
      {"k_a = { distribution = \"uniform\", low = 0.2, high = 0.1 }", "'low' must be below 'high'"},
      {"k_a = { distribution = \"uniform\", low = 0.0, high = 2.0 }", "'high' must be a number in the valid range [0, 1]"},
      {"b0 = { distribution = \"lognormal\", median = 1.0, sd_log = 1.0 }", "a log-normal prior needs a number that cannot be negative"},
      {"k_a = { distribution = \"normal\", sd = 0.1 }", "missing 'mean'"},
      {"k_a = { distribution = \"normal\", mean = 0.1, sd = -1.0 }", "'sd' must be a standard deviation > 0"},
      {"k_a = { distribution = \"uniform\", low = 0.0, high = 0.1, width = 3 }", "unknown key 'width'"},
      {"k_a = 0.1", "'k_a' must be a table"},
      {"\"b0:aa_visits_cc\" = { distribution = \"normal\", sd = 1.0 }", "unknown free number 'b0:aa_visits_cc'"},
  };
  for (const auto& c : cases) {
    const std::string text = "# priors\n[priors]\n" + c.entry + "\n";
    const Diagnostic d = prior_error(text, s);
    INFO(c.entry, " -> ", d.str());
    CHECK(d.file == "targets.toml");
    CHECK(d.line == 3);
    CHECK(d.column > 0);
    CHECK(d.message.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("the posterior file: written and read back exactly, with its comments") {
  Posterior p = two_draws();
  p.values[0][0] = 1.0 / 30.0;  // not a short decimal
  p.comments = {"a comment", "", "another"};
  const Posterior q = load_posterior_text(posterior_csv(p), "posterior.csv");
  CHECK(q.names == p.names);
  CHECK(q.values == p.values);
  CHECK(q.weights == p.weights);
  CHECK(q.losses == p.losses);
  CHECK(q.comments == p.comments);
  // Weights are scaled to sum 1.
  const Posterior r = load_posterior_text("draw,weight,loss,k_a\n0,2,0,0.05\n1,6,0,0.07\n", "posterior.csv");
  CHECK(r.weights == std::vector<double>{0.25, 0.75});
}

TEST_CASE("the posterior file: every kind of error names its line and column") {
  struct Case {
    std::string text, needle, expected;
  };
  const std::string head = "# posterior\ndraw,weight,loss,k_a,b0:x\n";
  const Case cases[] = {
      {"# nothing\n", "", "no header"},
      {"draw,weight,k_a\n0,1,0.05\n", "draw,weight,k_a", "expected the header 'draw,weight,loss,NAME,...'"},
      {"draw,weight,loss,k_a,k_a\n", "k_a,k_a", "column 'k_a' appears twice"},
      {"draw,weight,loss,k_z\n", "k_z", "unknown column 'k_z'"},
      {head + "0,1,0,0.05\n", "0,1,0,0.05", "expected 5 fields"},
      {head + "1,1,0,0.05,0\n", "1,1,0,0.05,0", "expected draw 0"},
      {head + "0,-1,0,0.05,0\n", "0,-1,0", "'weight' must be a finite number >= 0"},
      {head + "0,1,x,0.05,0\n", "0,1,x", "'loss' must be a finite number"},
      {head + "0,1,0,1.5,0\n", "0,1,0,1.5", "'k_a' must be a number in [0, 1]"},
      {head + "0,1,0,0.05,nan\n", "0,1,0,0.05,nan", "'b0:x' must be a number in [-50, 50]"},
      {head + "0,0,0,0.05,0\n", "", "the weights sum to 0"},
      {head, "", "no draws"},
  };
  for (const auto& c : cases) {
    const Diagnostic d = posterior_error(c.text);
    INFO(c.text, " -> ", d.str());
    CHECK(d.file == "posterior.csv");
    CHECK(d.message.find(c.expected) != std::string::npos);
    if (!c.needle.empty()) CHECK(d.line == line_of(c.text, c.needle));
  }
  // A column's error points at the column.
  const std::string text = head + "0,1,0,0.05,zz\n";
  CHECK(posterior_error(text).column == static_cast<int>(std::string("0,1,0,0.05,").size()) + 1);
}

TEST_CASE("each run's draw: addressed by (seed, run), as often as its weight, never a draw of weight 0") {
  const std::vector<double> cumulative = {0.1, 0.1, 0.4, 1.0};  // weights 0.1, 0, 0.3, 0.6
  std::map<int, int> counts;
  const int runs = 200000;
  for (int r = 0; r < runs; ++r) ++counts[posterior_draw(42, static_cast<std::uint64_t>(r), cumulative)];
  CHECK(counts[1] == 0);
  // Binomial standard errors are about 0.001: 5 of them.
  CHECK(counts[0] / double(runs) == doctest::Approx(0.1).epsilon(0.05));
  CHECK(counts[2] / double(runs) == doctest::Approx(0.3).epsilon(0.02));
  CHECK(counts[3] / double(runs) == doctest::Approx(0.6).epsilon(0.01));
  // A pure function of (seed, run): the same again, another seed another sequence.
  int same = 0, other = 0;
  for (int r = 0; r < 1000; ++r) {
    same += posterior_draw(42, r, cumulative) == posterior_draw(42, r, cumulative);
    other += posterior_draw(42, r, cumulative) != posterior_draw(43, r, cumulative);
  }
  CHECK(same == 1000);
  CHECK(other > 300);
}

TEST_CASE("a posterior plan: run r is the run of the scenario with its draw's numbers, names matched to the scenario") {
  const Scenario s = load_scenario(kDataDir + "/small.toml");
  const Model model(s);
  const Posterior p = two_draws();
  const PosteriorPlan plan(p, model, 9);
  // Matched by name: the posterior lacks most of the scenario's numbers and has one it lacks.
  CHECK(plan.unused() == std::vector<std::string>{"b0:no_such_event"});
  CHECK(plan.kept().size() == model.theta().size() - 2);
  CHECK(std::find(plan.kept().begin(), plan.kept().end(), "b0:cc_joins_bb_pact") != plan.kept().end());
  const int runs = 40;
  const auto with_plan = test::simulate(model, 9, 0, runs, &plan);
  std::vector<Model> fixed;
  for (const auto& values : p.values) {
    Scenario x = s;
    x.parameters.shock_scale = values[0];
    x.events[x.event_index("cc_joins_aa_pact")].decision->b0 = values[1];
    fixed.emplace_back(x);
  }
  std::map<int, int> seen;
  for (int r = 0; r < runs; ++r) {
    const int d = plan.draw(r);
    ++seen[d];
    const auto alone = test::simulate(fixed[d], 9, r, 1);
    INFO("run ", r, " draw ", d);
    CHECK(with_plan[r].W == alone[0].W);
    CHECK(with_plan[r].event_month == alone[0].event_month);
  }
  CHECK(seen.size() == 2);  // both draws were used, so the check covers both
}

TEST_CASE("ABC-SMC recovers a known shock scale on the small scenario, the same on 1 and 2 threads and in any batches") {
  const Scenario start = load_scenario(kDataDir + "/small.toml");
  Scenario truth = start;
  truth.parameters.shock_scale = 0.026;
  // Targets: the visit's jump in AA-CC, with a band of +-0.004 around its value at the truth.
  TargetSet targets;
  Target jump;
  jump.id = "visit_jump";
  jump.statistic = Statistic::Change;
  jump.dyad = {start.agent_index("AA"), start.agent_index("CC"), Month::of(1950, 2), Month::of(1950, 3)};
  jump.lo = -2;
  jump.hi = 2;
  targets.targets.push_back(jump);
  const double value = evaluate(truth, targets, {512, 77, 0}).targets[0].value;
  targets.targets[0].lo = value - 0.004;
  targets.targets[0].hi = value + 0.004;
  const auto priors = load_priors_text("", "targets.toml", start, free_variables(start, {"shock_scale"}));
  REQUIRE(priors.size() == 1);
  REQUIRE(priors[0].a == 0.01);  // uniform on [0.01, 0.03]

  for (const auto method : {AbcOptions::Method::Mcmc, AbcOptions::Method::Pmc}) {
    INFO("method ", std::string(abc_method_name(method)));
    AbcOptions o;
    o.method = method;
    o.particles = 40;
    o.runs = 128;
    o.seed = 3;
    o.generations = 5;
    o.threads = 1;
    const AbcResult a = abc_smc(start, targets, priors, o);
    REQUIRE(a.generations.size() >= 3);
    std::vector<double> x;
    for (const auto& v : a.values) x.push_back(v[0]);
    const double lo = weighted_quantile(x, a.weights, 0.05), hi = weighted_quantile(x, a.weights, 0.95);
    CHECK(lo < 0.026);
    CHECK(hi > 0.026);
    CHECK(hi - lo < 0.3 * 0.02);  // far narrower than the prior's 0.018
    CHECK(a.generations.back().tolerance < a.generations[1].tolerance);
    double total = 0;
    for (const double w : a.weights) total += w;
    CHECK(total == doctest::Approx(1.0));
    CHECK(effective_sample_size(a.weights) > 5);

    o.threads = 2;
    o.batch = 7;
    const AbcResult b = abc_smc(start, targets, priors, o);
    o.parallel_particles = false;
    const AbcResult c = abc_smc(start, targets, priors, o);
    for (const AbcResult* other : {&b, &c}) {
      CHECK(other->values == a.values);
      CHECK(other->weights == a.weights);
      CHECK(other->losses == a.losses);
      CHECK(other->generations.size() == a.generations.size());
      for (std::size_t g = 0; g < a.generations.size(); ++g) {
        CHECK(other->generations[g].tolerance == a.generations[g].tolerance);
        CHECK(other->generations[g].proposals == a.generations[g].proposals);
      }
    }
    o.seed = 4;
    CHECK(abc_smc(start, targets, priors, o).values != a.values);
  }
}

TEST_CASE("weighted quantiles and the effective sample size") {
  CHECK(weighted_quantile({3, 1, 2}, {1, 1, 1}, 0.5) == 2);
  CHECK(weighted_quantile({3, 1, 2}, {0, 0, 1}, 0.5) == 2);
  CHECK(weighted_quantile({3, 1, 2}, {1, 0, 0}, 0.05) == 3);
  CHECK(weighted_quantile({1, 2, 3, 4}, {1, 1, 1, 1}, 0.25) == 1);
  CHECK(effective_sample_size({1, 1, 1, 1}) == doctest::Approx(4));
  CHECK(effective_sample_size({1, 0, 0, 0}) == doctest::Approx(1));
}
