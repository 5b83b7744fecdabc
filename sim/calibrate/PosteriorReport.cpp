#include "PosteriorReport.hpp"

#include "ReportFormat.hpp"
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "Report.hpp"
#include "scenario/Quote.hpp"

namespace alignsim {

namespace {

constexpr int kPredictivePurpose = 1;  ///< proposal_seed purpose of the predictive check's ensembles

using report_format::fmt;
using report_format::json_number;

const char* json_bool(bool b) { return b ? "true" : "false"; }

/// The 5-95% interval [q05, q95] meets the band [lo, hi] (an ordering's band is (0, +inf)).
bool meets(double q05, double q95, double lo, double hi, bool strict_low) {
  return (strict_low ? q95 > lo : q95 >= lo) && q05 <= hi;
}

/// The q-quantile of a prior, its truncation to the support included (bisection on the CDF).
double prior_quantile(const Prior& p, double q) {
  const double zlo = p.to_internal(p.variable.lo), zhi = p.to_internal(p.variable.hi);
  if (p.shape == Prior::Shape::Uniform) return p.a + q * (p.b - p.a);
  const double centre = p.shape == Prior::Shape::LogNormal ? std::log(p.a) : p.a;
  const auto cdf = [&](double z) { return 0.5 * std::erfc(-(z - centre) / (p.b * std::sqrt(2.0))); };
  const double flo = cdf(zlo), fhi = cdf(zhi);
  const double target = flo + q * (fhi - flo);
  double a = zlo, b = zhi;
  for (int i = 0; i < 200; ++i) {
    const double m = 0.5 * (a + b);
    (cdf(m) < target ? a : b) = m;
  }
  return p.from_internal(0.5 * (a + b));
}

std::string expected(const DecisionTarget& d) {
  return d.at_least ? ">= " + fmt(d.share, "%.2f") + " within " + std::to_string(d.within_months) + " months" +
                          (d.cap < 1 ? ", <= " + fmt(d.cap, "%.2f") + " at all" : std::string())
                    : "<= " + fmt(d.share, "%.2f") + " at all";
}

std::string band(double lo, double hi) {
  return "[" + fmt(lo, "%.2f") + ", " + (std::isinf(hi) ? std::string("+inf") : fmt(hi, "%.2f")) + "]";
}

}  // namespace

PredictiveCheck predictive_check(const Scenario& scenario, const TargetSet& targets, const AbcResult& result,
                                 std::uint64_t runs, std::uint64_t seed, int threads, bool parallel_particles,
                                 EnsembleParts* parts) {
  const auto started = std::chrono::steady_clock::now();
  PredictiveCheck c;
  c.runs = runs;
  const std::size_t K = result.values.size();
  std::vector<std::uint64_t> seeds;
  for (std::size_t i = 0; i < K; ++i) seeds.push_back(proposal_seed(seed, 0, i, kPredictivePurpose));
  const auto evaluations = evaluate_sets(scenario, targets, result.priors, result.values, seeds, runs, threads, parallel_particles, parts);
  const auto summarise = [&](bool decision, std::size_t k, bool held_out) {
    std::vector<double> values;
    PredictiveStat s;
    double lo = 0, hi = 0;
    for (std::size_t i = 0; i < K; ++i) {
      const auto& r = decision ? evaluations[i].decisions[k] : evaluations[i].targets[k];
      values.push_back(r.value);
      s.p_met += result.weights[i] * (r.met ? 1.0 : 0.0);
      lo = r.lo;
      hi = r.hi;
    }
    s.q05 = weighted_quantile(values, result.weights, 0.05);
    s.q50 = weighted_quantile(values, result.weights, 0.5);
    s.q95 = weighted_quantile(values, result.weights, 0.95);
    const bool ordering = !decision && targets.targets[k].statistic == Statistic::Ordering;
    s.covered = meets(s.q05, s.q95, lo, hi, ordering);
    s.held_out = held_out;
    (held_out ? c.held_out : c.fitted) += 1;
    (held_out ? c.held_out_covered : c.fitted_covered) += s.covered;
    (held_out ? c.held_out_p_met : c.fitted_p_met) += s.p_met;
    return s;
  };
  for (std::size_t k = 0; k < targets.targets.size(); ++k) c.targets.push_back(summarise(false, k, targets.targets[k].held_out));
  for (std::size_t k = 0; k < targets.decisions.size(); ++k) {
    c.decisions.push_back(summarise(true, k, targets.decisions[k].held_out));
  }
  if (c.fitted > 0) c.fitted_p_met /= c.fitted;
  if (c.held_out > 0) c.held_out_p_met /= c.held_out;
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return c;
}

Posterior to_posterior(const AbcResult& result, std::vector<std::string> comments) {
  Posterior p;
  for (const auto& prior : result.priors) p.names.push_back(prior.variable.name);
  p.values = result.values;
  p.weights = result.weights;
  p.losses = result.losses;
  p.comments = std::move(comments);
  return p;
}

std::vector<Marginal> marginals(const AbcResult& result) {
  std::vector<Marginal> out;
  for (std::size_t k = 0; k < result.priors.size(); ++k) {
    Marginal m;
    std::vector<double> x;
    for (std::size_t i = 0; i < result.values.size(); ++i) {
      x.push_back(result.values[i][k]);
      m.mean += result.weights[i] * x.back();
    }
    for (std::size_t i = 0; i < x.size(); ++i) m.sd += result.weights[i] * (x[i] - m.mean) * (x[i] - m.mean);
    m.sd = std::sqrt(m.sd);
    m.q05 = weighted_quantile(x, result.weights, 0.05);
    m.q50 = weighted_quantile(x, result.weights, 0.5);
    m.q95 = weighted_quantile(x, result.weights, 0.95);
    m.prior_q05 = prior_quantile(result.priors[k], 0.05);
    m.prior_q95 = prior_quantile(result.priors[k], 0.95);
    out.push_back(m);
  }
  return out;
}

std::string posterior_report_markdown(const Scenario& s, const TargetSet& targets, const AbcResult& r,
                                      const PredictiveCheck& c, const PosteriorReportInfo& info) {
  const auto& o = info.options;
  std::ostringstream m;
  m << "# Posterior calibration report: " << s.name << "\n\n";
  m << "Written by `alignsim calibrate --posterior` (" << info.software
    << "); the method is in docs/calibration.md, \"The posterior\".\n\n";
  m << "| | |\n|---|---|\n";
  m << "| command | `" << info.command_line << "` |\n";
  m << "| scenario | `" << info.scenario_path << "` |\n";
  m << "| targets and priors | `" << info.targets_path << "` (" << targets.targets.size() << " targets, "
    << targets.decisions.size() << " decisions) |\n";
  m << "| posterior file | " << (info.posterior_path.empty() ? "none written" : "`" + info.posterior_path + "`") << " |\n";
  if (o.method == AbcOptions::Method::Mcmc) {
    m << "| method | ABC-SMC with Metropolis-Hastings moves (Drovandi and Pettitt 2011): " << o.particles
      << " particles; each tolerance the " << fmt(o.quantile, "%.2f")
      << " quantile of the population's losses; the others replaced by copies of the kept, each moved until it has "
         "most likely moved (at most "
      << o.max_steps << " steps); equal weights |\n";
  } else {
    m << "| method | ABC-SMC by population Monte Carlo (Beaumont et al. 2009): " << o.particles
      << " particles, each tolerance the weighted " << fmt(o.quantile, "%.2f")
      << " quantile of the previous losses, Gaussian kernel of twice the weighted covariance, weights prior / kernel "
         "mixture |\n";
  }
  m << "| ensemble per particle | " << o.runs << " runs, a seed of its own for every proposal (seed " << o.seed << ") |\n";
  m << "| free numbers | " << r.priors.size() << " |\n";
  m << "| stopped by | " << r.stop_reason << " |\n";
  m << "| cost | " << r.simulations << " ensembles (" << r.simulations * o.runs << " runs) in " << fmt(r.seconds, "%.0f")
    << " s (" << fmt(r.cpu_seconds, "%.0f") << " s of processor time); the predictive check " << r.values.size() << " ensembles more, " << fmt(c.seconds, "%.0f") << " s |\n\n";

  m << "## Generations\n\n";
  m << (o.method == AbcOptions::Method::Mcmc
            ? "Proposals are the Metropolis-Hastings steps of the copies (replaced particles); acceptance is the share "
              "of them that moved a copy.\n\n"
            : "Proposals are draws from the perturbed population until the K-th is accepted; acceptance is K / "
              "proposals.\n\n");
  m << "| generation | tolerance (loss) | replaced | steps | proposals | outside the prior | ensembles run | acceptance | "
       "effective sample size | distinct | loss min | median | max | seconds |\n"
       "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& g : r.generations) {
    m << "| " << g.index << " | " << (std::isinf(g.tolerance) ? std::string("none (prior)") : fmt(g.tolerance, "%.4f")) << " | "
      << g.replaced << " | " << g.steps << " | " << g.proposals << " | " << g.outside_prior << " | " << g.simulated << " | "
      << fmt(g.acceptance, "%.3f") << " | " << fmt(g.ess, "%.1f") << " | " << g.distinct << " | " << fmt(g.loss_min, "%.4f")
      << " | " << fmt(g.loss_median, "%.4f") << " | " << fmt(g.loss_max, "%.4f") << " | " << fmt(g.seconds, "%.0f") << " |\n";
  }

  m << "\n## Posterior predictive coverage\n\nEach particle simulated again (" << c.runs
    << " runs, a fresh seed); for each target and decision, the 90% predictive interval of its statistic (weighted 5% "
       "and 95% quantiles over the particles) and the posterior probability that it is met. A target is *covered* when "
       "its band meets the 90% interval.\n\n";
  m << "| | covered | mean probability met |\n|---|---|---|\n";
  m << "| fitted targets and decisions | " << c.fitted_covered << " / " << c.fitted << " | " << fmt(c.fitted_p_met, "%.3f")
    << " |\n";
  if (c.held_out > 0) {
    m << "| held-out targets and decisions (not fitted) | " << c.held_out_covered << " / " << c.held_out << " | "
      << fmt(c.held_out_p_met, "%.3f") << " |\n";
  }

  m << "\n## Free numbers: prior and posterior\n\nThe posterior's weighted mean, sd and quantiles; \"width\" is the "
       "posterior's 5-95% range as a share of the prior's: near 1, the targets leave the number where the prior put it.\n\n";
  m << "| name | prior | prior 5-95% | posterior mean | sd | 5% | 50% | 95% | width |\n|---|---|---|---|---|---|---|---|---|\n";
  const auto ms = marginals(r);
  for (std::size_t k = 0; k < r.priors.size(); ++k) {
    const auto& x = ms[k];
    const double width = x.prior_q95 > x.prior_q05 ? (x.q95 - x.q05) / (x.prior_q95 - x.prior_q05) : 0.0;
    m << "| `" << r.priors[k].variable.name << "` | " << r.priors[k].describe() << " | [" << fmt(x.prior_q05, "%.4g")
      << ", " << fmt(x.prior_q95, "%.4g") << "] | " << fmt(x.mean, "%.4g") << " | " << fmt(x.sd, "%.3g") << " | "
      << fmt(x.q05, "%.4g") << " | " << fmt(x.q50, "%.4g") << " | " << fmt(x.q95, "%.4g") << " | " << fmt(width, "%.2f")
      << " |\n";
  }

  m << "\n## Targets\n\n| target | statistic | band | 5% | 50% | 95% | probability met | covered | fitted |\n"
       "|---|---|---|---|---|---|---|---|---|\n";
  for (std::size_t k = 0; k < targets.targets.size(); ++k) {
    const auto& t = targets.targets[k];
    const auto& p = c.targets[k];
    const bool ordering = t.statistic == Statistic::Ordering, persistence = t.statistic == Statistic::Persistence;
    const double lo = ordering ? 0.0 : persistence ? t.months : t.lo;
    const double hi = ordering || persistence ? std::numeric_limits<double>::infinity() : t.hi;
    m << "| `" << t.id << "` | " << describe(s, t) << " | " << band(lo, hi) << " | " << fmt(p.q05) << " | " << fmt(p.q50)
      << " | " << fmt(p.q95) << " | " << fmt(p.p_met, "%.2f") << " | " << (p.covered ? "yes" : "**no**") << " | "
      << (t.held_out ? "held out" : "fitted") << " |\n";
  }
  if (!targets.decisions.empty()) {
    m << "\n## Decisions\n\nShare of runs in which the event happens within the given months of its date (at least), or "
         "at all (at most).\n\n| event | date | expected | 5% | 50% | 95% | probability met | covered | fitted |\n"
         "|---|---|---|---|---|---|---|---|---|\n";
    for (std::size_t k = 0; k < targets.decisions.size(); ++k) {
      const auto& d = targets.decisions[k];
      const auto& p = c.decisions[k];
      m << "| `" << d.id << "` | " << s.events[d.event].date.str() << " | " << expected(d) << " | " << fmt(p.q05) << " | "
        << fmt(p.q50) << " | " << fmt(p.q95) << " | " << fmt(p.p_met, "%.2f") << " | " << (p.covered ? "yes" : "**no**")
        << " | " << (d.held_out ? "held out" : "fitted") << " |\n";
    }
  }
  return m.str();
}

std::string posterior_report_json(const Scenario& s, const TargetSet& targets, const AbcResult& r,
                                  const PredictiveCheck& c, const PosteriorReportInfo& info) {
  const auto& o = info.options;
  std::ostringstream j;
  j << "{\n";
  j << "  \"software\": " << quoted(info.software) << ",\n";
  j << "  \"command\": " << quoted(info.command_line) << ",\n";
  j << "  \"scenario\": " << quoted(info.scenario_path) << ",\n";
  j << "  \"targets_file\": " << quoted(info.targets_path) << ",\n";
  j << "  \"posterior_file\": " << (info.posterior_path.empty() ? "null" : quoted(info.posterior_path)) << ",\n";
  j << "  \"method\": " << quoted(std::string("ABC-SMC, ") + abc_method_name(o.method)) << ",\n";
  j << "  \"particles\": " << o.particles << ",\n  \"runs\": " << o.runs << ",\n  \"seed\": " << o.seed << ",\n";
  j << "  \"quantile\": " << json_number(o.quantile) << ",\n  \"min_acceptance\": " << json_number(o.min_acceptance) << ",\n";
  j << "  \"stop_reason\": " << quoted(r.stop_reason) << ",\n  \"interrupted\": " << json_bool(r.interrupted) << ",\n";
  j << "  \"simulations\": " << r.simulations << ",\n  \"seconds\": " << json_number(r.seconds) << ",\n";
  j << "  \"cpu_seconds\": " << json_number(r.cpu_seconds) << ",\n";
  j << "  \"effective_sample_size\": " << json_number(effective_sample_size(r.weights)) << ",\n";
  j << "  \"generations\": [\n";
  for (std::size_t k = 0; k < r.generations.size(); ++k) {
    const auto& g = r.generations[k];
    j << "    {\"generation\": " << g.index << ", \"tolerance\": " << json_number(g.tolerance)
      << ", \"replaced\": " << g.replaced << ", \"steps\": " << g.steps << ", \"distinct\": " << g.distinct
      << ", \"proposals\": " << g.proposals << ", \"outside_prior\": " << g.outside_prior << ", \"simulated\": " << g.simulated
      << ", \"acceptance\": " << json_number(g.acceptance) << ", \"ess\": " << json_number(g.ess)
      << ", \"loss_min\": " << json_number(g.loss_min) << ", \"loss_median\": " << json_number(g.loss_median)
      << ", \"loss_max\": " << json_number(g.loss_max) << ", \"seconds\": " << json_number(g.seconds) << "}"
      << (k + 1 < r.generations.size() ? "," : "") << "\n";
  }
  j << "  ],\n  \"coverage\": {\"runs\": " << c.runs << ", \"fitted\": " << c.fitted << ", \"fitted_covered\": "
    << c.fitted_covered << ", \"fitted_p_met\": " << json_number(c.fitted_p_met) << ", \"held_out\": " << c.held_out
    << ", \"held_out_covered\": " << c.held_out_covered << ", \"held_out_p_met\": " << json_number(c.held_out_p_met)
    << ", \"seconds\": " << json_number(c.seconds) << "},\n";
  j << "  \"free\": [\n";
  const auto ms = marginals(r);
  for (std::size_t k = 0; k < r.priors.size(); ++k) {
    const auto& p = r.priors[k];
    const auto& x = ms[k];
    j << "    {\"name\": " << quoted(p.variable.name) << ", \"prior\": " << quoted(p.describe())
      << ", \"prior_q05\": " << json_number(x.prior_q05) << ", \"prior_q95\": " << json_number(x.prior_q95)
      << ", \"mean\": " << json_number(x.mean) << ", \"sd\": " << json_number(x.sd) << ", \"q05\": " << json_number(x.q05)
      << ", \"q50\": " << json_number(x.q50) << ", \"q95\": " << json_number(x.q95) << ", \"scenario\": "
      << json_number(value_of(s, p.variable)) << "}" << (k + 1 < r.priors.size() ? "," : "") << "\n";
  }
  const auto stat = [&](const PredictiveStat& p) {
    std::ostringstream x;
    x << "\"q05\": " << json_number(p.q05) << ", \"q50\": " << json_number(p.q50) << ", \"q95\": " << json_number(p.q95)
      << ", \"p_met\": " << json_number(p.p_met) << ", \"covered\": " << json_bool(p.covered)
      << ", \"held_out\": " << json_bool(p.held_out);
    return x.str();
  };
  j << "  ],\n  \"targets\": [\n";
  for (std::size_t k = 0; k < targets.targets.size(); ++k) {
    const auto& t = targets.targets[k];
    j << "    {\"id\": " << quoted(t.id) << ", \"statistic\": " << quoted(statistic_name(t.statistic))
      << ", \"what\": " << quoted(describe(s, t)) << ", \"last\": " << quoted(t.last().str()) << ", " << stat(c.targets[k])
      << "}" << (k + 1 < targets.targets.size() ? "," : "") << "\n";
  }
  j << "  ],\n  \"decisions\": [\n";
  for (std::size_t k = 0; k < targets.decisions.size(); ++k) {
    const auto& d = targets.decisions[k];
    j << "    {\"event\": " << quoted(d.id) << ", \"expected\": " << quoted(expected(d)) << ", \"last\": "
      << quoted(d.last.str()) << ", " << stat(c.decisions[k]) << "}" << (k + 1 < targets.decisions.size() ? "," : "")
      << "\n";
  }
  j << "  ]\n}\n";
  return j.str();
}

}  // namespace alignsim
