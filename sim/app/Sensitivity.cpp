#include "Sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <charconv>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <iostream>
#include <random>
#include <stdexcept>

#include "Commands.hpp"
#include "SobolIndex.hpp"
#include "calibrate/Posterior.hpp"
#include "engine/Ensemble.hpp"
#include "io/OutputPath.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/ScenarioWriter.hpp"

namespace alignsim::app {

namespace {

struct Factor {
  std::string name;
  const ParameterInfo* row;
  double lo, hi;
};

/// Every parameter of parameter_table(), over its fit bounds.
std::vector<Factor> all_factors() {
  std::vector<Factor> out;
  for (const auto& row : parameter_table()) out.push_back({row.name, &row, row.fit_lo, row.fit_hi});
  return out;
}

/// The parameters explored by default: the dynamics' (the rows before the response multipliers).
std::vector<Factor> default_factors() {
  auto all = all_factors();
  all.resize(theta::kResponse);
  return all;
}

struct Output {
  std::string spec;
  bool probability = false;
  int event = -1;
  int a = -1, b = -1, from = 0, to = 0;
};

Output parse_output(const Scenario& s, const std::string& spec) {
  Output o;
  o.spec = spec;
  const auto bad = [&](const std::string& why) {
    throw std::invalid_argument("--output '" + spec + "': " + why +
                                "; expected probability:EVENT or mean:A-B:YYYY-MM:YYYY-MM");
  };
  if (spec.rfind("probability:", 0) == 0) {
    o.probability = true;
    o.event = s.event_index(spec.substr(12));
    if (o.event < 0) bad("no event '" + spec.substr(12) + "' in the scenario");
    return o;
  }
  if (spec.rfind("mean:", 0) != 0) bad("unknown kind of output");
  const std::string rest = spec.substr(5);
  const auto dash = rest.find('-');
  const auto colon = rest.find(':');
  if (dash == std::string::npos || colon == std::string::npos || dash > colon || rest.size() < colon + 16) bad("malformed");
  o.a = s.agent_index(rest.substr(0, dash));
  o.b = s.agent_index(rest.substr(dash + 1, colon - dash - 1));
  if (o.a < 0 || o.b < 0 || o.a == o.b) bad("unknown or equal agents");
  const auto from = Month::parse(rest.substr(colon + 1, 7));
  const auto to = Month::parse(rest.substr(colon + 9, 7));
  if (!from || !to || rest[colon + 8] != ':') bad("malformed months");
  o.from = *from - s.parameters.start;
  o.to = *to - s.parameters.start;
  if (o.from < 0 || o.to >= s.parameters.months() || o.to < o.from) bad("months outside the horizon or reversed");
  return o;
}

/// A number as the whole of `text` (std::stod would take "0.1abc" as 0.1); nullopt otherwise.
std::optional<double> parse_number(const std::string& text) {
  double x = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

/// Refuses a range that the scenario checker would refuse at either end: the design moves every
/// parameter across its whole range, so each value it takes must be one a scenario may hold.
void check_range(const Scenario& s, const Factor& f, const std::string& spec) {
  Scenario head = s;
  // The parameters are checked with the agents and issues; events, and the choices that index them,
  // are not needed.
  head.events.clear();
  head.choices.clear();
  for (const double value : {f.lo, f.hi}) {
    f.row->set(head.parameters, value);
    try {
      load_scenario_text(to_toml(head), "--parameter");
    } catch (const ScenarioError& e) {
      char shown[32];
      std::snprintf(shown, sizeof shown, "%.10g", value);
      throw std::invalid_argument("--parameter '" + spec + "': " + f.name + " = " + shown +
                                  " is a value no scenario may hold (" + e.diagnostics().at(0).message + ")");
    }
  }
}

std::vector<double> evaluate(const Scenario& s, const std::vector<Output>& outputs, const SensitivityOptions& opt) {
  const Model model(s);
  EnsembleOptions eo;
  eo.runs = opt.runs;
  eo.seed = opt.seed;
  eo.threads = opt.threads;
  eo.store_runs = 0;
  DiscardSink sink;
  const auto result = run_ensemble(model, eo, sink);
  const Summary summary = result.summary.finish({});
  std::vector<double> y;
  const int n = model.agents();
  for (const auto& o : outputs) {
    if (o.probability) {
      y.push_back(static_cast<double>(result.event_count[o.event]) / static_cast<double>(result.runs_done));
    } else {
      double sum = 0;
      for (int t = o.from; t <= o.to; ++t) sum += summary.mean[static_cast<std::size_t>(t) * n * n + o.a * n + o.b];
      y.push_back(sum / (o.to - o.from + 1));
    }
  }
  return y;
}

/// Morris's design: r trajectories on a p-level grid, step delta = p / (2 (p - 1)); each trajectory
/// starts at a random grid point and moves one factor at a time, in random order and direction.
/// Prints the table; gives it as CSV.
std::string morris(const Scenario& scenario, const std::vector<Factor>& factors, const std::vector<Output>& outputs,
                   const SensitivityOptions& opt) {
  const int k = static_cast<int>(factors.size());
  const int p = opt.levels;
  const double delta = p / (2.0 * (p - 1));
  std::mt19937_64 gen(opt.seed);
  const auto draw = [&](int n) { return static_cast<int>(gen() % static_cast<std::uint64_t>(n)); };
  std::vector<std::vector<double>> effects(outputs.size() * k);  // [output][factor] -> elementary effects
  std::fprintf(stderr, "sensitivity: %d trajectories x %d points x %llu runs\n", opt.trajectories, k + 1,
               static_cast<unsigned long long>(opt.runs));
  for (int r = 0; r < opt.trajectories; ++r) {
    std::vector<double> x(k);
    const int start_levels = static_cast<int>(std::floor((1 - delta) * (p - 1) + 1e-9)) + 1;
    for (auto& xi : x) xi = draw(start_levels) / double(p - 1);
    std::vector<int> order(k);
    for (int i = 0; i < k; ++i) order[i] = i;
    for (int i = k - 1; i > 0; --i) std::swap(order[i], order[draw(i + 1)]);
    const auto at = [&](const std::vector<double>& unit) {
      Scenario s = scenario;
      for (int i = 0; i < k; ++i) factors[i].row->set(s.parameters, factors[i].lo + unit[i] * (factors[i].hi - factors[i].lo));
      return evaluate(s, outputs, opt);
    };
    std::vector<double> y = at(x);
    for (const int i : order) {
      const bool up = x[i] + delta <= 1 + 1e-9 && (x[i] - delta < -1e-9 || draw(2) == 0);
      x[i] += up ? delta : -delta;
      const std::vector<double> y2 = at(x);
      for (std::size_t o = 0; o < outputs.size(); ++o) {
        effects[o * k + i].push_back((y2[o] - y[o]) / (up ? delta : -delta));
      }
      y = y2;
    }
  }

  std::ostringstream csv;
  csv << "output,parameter,lo,hi,mu,mu_star,sigma,trajectories\n";
  std::printf("Morris elementary effects: %d trajectories, %d levels, %llu runs per point, seed %llu\n"
              "(effect of moving a parameter across its whole range; mu* ranks importance, sigma flags\n"
              "interactions and non-linearity)\n",
              opt.trajectories, p, static_cast<unsigned long long>(opt.runs), static_cast<unsigned long long>(opt.seed));
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    std::printf("\n%s\n  %-12s %-16s %10s %10s %10s\n", outputs[o].spec.c_str(), "parameter", "range", "mu", "mu*",
                "sigma");
    for (int i = 0; i < k; ++i) {
      const auto& e = effects[o * k + i];
      double mu = 0, mu_star = 0;
      for (double v : e) {
        mu += v;
        mu_star += std::fabs(v);
      }
      mu /= static_cast<double>(e.size());
      mu_star /= static_cast<double>(e.size());
      double var = 0;
      for (double v : e) var += (v - mu) * (v - mu);
      const double sigma = e.size() > 1 ? std::sqrt(var / static_cast<double>(e.size() - 1)) : 0.0;
      char range[64];
      std::snprintf(range, sizeof range, "[%g, %g]", factors[i].lo, factors[i].hi);
      std::printf("  %-12s %-16s %+10.4f %10.4f %10.4f\n", factors[i].name.c_str(), range, mu, mu_star, sigma);
      csv << outputs[o].spec << ',' << factors[i].name << ',' << factors[i].lo << ',' << factors[i].hi << ',' << mu
          << ',' << mu_star << ',' << sigma << ',' << e.size() << '\n';
    }
  }
  return csv.str();
}

/// A uniform number in [0, 1) from the generator (53 bits; the same on every platform).
double unit(std::mt19937_64& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

/// Sobol indices by Saltelli et al. (2010): matrices A and B of N rows, and for each factor i the
/// matrix A with column i from B (the estimators in SobolIndex.hpp); 95% intervals by a bootstrap
/// of the rows. Each factor is drawn uniformly on its range, or from its
/// weighted marginal in `posterior` (the factors then drawn independently of each other: the
/// posterior's correlations are not kept). Prints the table; gives it as CSV.
std::string sobol(const Scenario& scenario, const std::vector<Factor>& factors, const std::vector<Output>& outputs,
                  const SensitivityOptions& opt, const Posterior* posterior) {
  const std::size_t k = factors.size(), N = static_cast<std::size_t>(opt.samples), m = outputs.size();
  // Each factor's marginal: empty for uniform on its range, else (value, cumulative weight) by value.
  std::vector<std::vector<std::pair<double, double>>> marginal(k);
  for (std::size_t i = 0; i < k && posterior; ++i) {
    const auto it = std::find(posterior->names.begin(), posterior->names.end(), factors[i].name);
    if (it == posterior->names.end()) {
      std::cerr << "alignsim: the posterior has no '" << factors[i].name << "'; it is drawn uniformly on [" << factors[i].lo
                << ", " << factors[i].hi << "]\n";
      continue;
    }
    const auto c = static_cast<std::size_t>(it - posterior->names.begin());
    for (std::size_t d = 0; d < posterior->values.size(); ++d) marginal[i].emplace_back(posterior->values[d][c], posterior->weights[d]);
    std::sort(marginal[i].begin(), marginal[i].end());
    double sum = 0;
    for (auto& [value, weight] : marginal[i]) weight = sum += weight;
  }
  const auto value = [&](std::size_t i, double u) {
    if (marginal[i].empty()) return factors[i].lo + u * (factors[i].hi - factors[i].lo);
    const double target = u * marginal[i].back().second;
    const auto it = std::upper_bound(marginal[i].begin(), marginal[i].end(), target,
                                     [](double t, const std::pair<double, double>& p) { return t < p.second; });
    return (it == marginal[i].end() ? marginal[i].back() : *it).first;
  };
  std::mt19937_64 gen(opt.seed);
  std::vector<double> a(N * k), b(N * k);
  for (auto& x : a) x = unit(gen);
  for (auto& x : b) x = unit(gen);
  const auto at = [&](const std::vector<double>& u) {
    Scenario s = scenario;
    for (std::size_t i = 0; i < k; ++i) factors[i].row->set(s.parameters, value(i, u[i]));
    return evaluate(s, outputs, opt);
  };
  std::fprintf(stderr, "sensitivity: Sobol, %zu x %zu design points x %llu runs\n", N, k + 2,
               static_cast<unsigned long long>(opt.runs));
  std::vector<double> ya(N * m), yb(N * m), yab(k * N * m);  // [row][output], [factor][row][output]
  for (std::size_t j = 0; j < N; ++j) {
    const std::vector<double> ra(a.begin() + static_cast<std::ptrdiff_t>(j * k), a.begin() + static_cast<std::ptrdiff_t>((j + 1) * k));
    const std::vector<double> rb(b.begin() + static_cast<std::ptrdiff_t>(j * k), b.begin() + static_cast<std::ptrdiff_t>((j + 1) * k));
    const auto fa = at(ra), fb = at(rb);
    std::copy(fa.begin(), fa.end(), ya.begin() + static_cast<std::ptrdiff_t>(j * m));
    std::copy(fb.begin(), fb.end(), yb.begin() + static_cast<std::ptrdiff_t>(j * m));
    for (std::size_t i = 0; i < k; ++i) {
      auto r = ra;
      r[i] = rb[i];
      const auto f = at(r);
      std::copy(f.begin(), f.end(), yab.begin() + static_cast<std::ptrdiff_t>((i * N + j) * m));
    }
  }
  // The estimators over a set of rows (all of them, or a bootstrap resample).
  const auto indices = [&](std::size_t o, std::size_t i, const std::vector<std::size_t>& rows) {
    std::vector<double> fa(N), fb(N), fab(N);
    for (std::size_t j = 0; j < N; ++j) {
      fa[j] = ya[j * m + o];
      fb[j] = yb[j * m + o];
      fab[j] = yab[(i * N + j) * m + o];
    }
    const SobolIndex x = sobol_index(fa, fb, fab, rows);
    return std::pair{x.first, x.total};
  };
  constexpr int kBootstrap = 500;
  std::mt19937_64 resample(opt.seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<std::vector<std::size_t>> boots(kBootstrap, std::vector<std::size_t>(N));
  for (auto& rows : boots) {
    for (auto& j : rows) j = static_cast<std::size_t>(resample() % N);
  }
  std::vector<std::size_t> all(N);
  for (std::size_t j = 0; j < N; ++j) all[j] = j;
  const auto interval = [](std::vector<double> v) {
    std::erase_if(v, [](double x) { return std::isnan(x); });
    if (v.empty()) return std::pair{std::nan(""), std::nan("")};
    std::sort(v.begin(), v.end());
    const auto q = [&](double p) { return v[static_cast<std::size_t>(std::floor(p * static_cast<double>(v.size() - 1)))]; };
    return std::pair{q(0.025), q(0.975)};
  };

  std::ostringstream csv;
  csv << "output,parameter,lo,hi,distribution,S1,S1_low,S1_high,ST,ST_low,ST_high,samples\n";
  std::printf("Sobol indices (Saltelli et al. 2010; total effects by Jansen's estimator): N = %zu rows, %zu design "
              "points, %llu runs per point, seed %llu; 95%% bootstrap intervals (%d resamples of the rows)\n"
              "(S1: the share of the output's variance due to the parameter alone; ST: with all its interactions;\n"
              "parameters drawn %s)\n",
              N, N * (k + 2), static_cast<unsigned long long>(opt.runs), static_cast<unsigned long long>(opt.seed),
              kBootstrap, posterior ? "independently from the posterior's marginals" : "uniformly on their ranges");
  for (std::size_t o = 0; o < m; ++o) {
    std::printf("\n%s\n  %-12s %-12s %8s  %-18s %8s  %-18s\n", outputs[o].spec.c_str(), "parameter", "drawn from",
                "S1", "95% interval", "ST", "95% interval");
    double sum_first = 0;
    for (std::size_t i = 0; i < k; ++i) {
      const auto [first, total] = indices(o, i, all);
      std::vector<double> fs, ts;
      for (const auto& rows : boots) {
        const auto [f, t] = indices(o, i, rows);
        fs.push_back(f);
        ts.push_back(t);
      }
      const auto [f_lo, f_hi] = interval(fs);
      const auto [t_lo, t_hi] = interval(ts);
      sum_first += std::isnan(first) ? 0.0 : first;
      const char* from = marginal[i].empty() ? "range" : "posterior";
      std::printf("  %-12s %-12s %+8.3f  [%+.3f, %+.3f]   %+8.3f  [%+.3f, %+.3f]\n", factors[i].name.c_str(), from, first,
                  f_lo, f_hi, total, t_lo, t_hi);
      csv << outputs[o].spec << ',' << factors[i].name << ',' << factors[i].lo << ',' << factors[i].hi << ',' << from << ','
          << first << ',' << f_lo << ',' << f_hi << ',' << total << ',' << t_lo << ',' << t_hi << ',' << N << '\n';
    }
    std::printf("  sum of S1: %.3f (1 - sum: the share left to interactions)\n", sum_first);
  }
  return csv.str();
}

}  // namespace

int sensitivity(const SensitivityOptions& opt) {
  Scenario scenario;
  std::vector<std::filesystem::path> inputs;
  try {
    scenario = load_scenario(opt.scenario, &inputs);
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return kBadInput;
  }
  std::unique_ptr<OutputPath> csv_out;  // checked, and made, before the work
  if (const int status = prepare_outputs([&] {
        if (!opt.csv.empty()) csv_out = std::make_unique<OutputPath>(opt.csv, inputs, opt.overwrite, "--csv");
      })) {
    return status;
  }
  std::vector<Output> outputs;
  std::vector<Factor> factors = default_factors();
  const std::vector<Factor> known = all_factors();
  try {
    for (const auto& spec : opt.outputs) outputs.push_back(parse_output(scenario, spec));
    if (!opt.parameters.empty()) {
      std::vector<Factor> chosen;
      for (const auto& p : opt.parameters) {
        const auto eq = p.find('=');
        const auto name = p.substr(0, eq);
        const auto it = std::find_if(known.begin(), known.end(), [&](const Factor& f) { return f.name == name; });
        if (it == known.end()) throw std::invalid_argument("--parameter '" + p + "': unknown parameter '" + name + "'");
        Factor f = *it;
        if (eq != std::string::npos) {
          const auto colon = p.find(':', eq);
          const auto lo = colon == std::string::npos ? std::nullopt : parse_number(p.substr(eq + 1, colon - eq - 1));
          const auto hi = colon == std::string::npos ? std::nullopt : parse_number(p.substr(colon + 1));
          if (!lo || !hi) throw std::invalid_argument("--parameter '" + p + "': expected name=lo:hi with two numbers");
          f.lo = *lo;
          f.hi = *hi;
          if (!(f.lo < f.hi)) throw std::invalid_argument("--parameter '" + p + "': lo must be below hi");
          if (f.lo < f.row->lo || f.hi > f.row->hi) {
            std::ostringstream why;
            why << "--parameter '" << p << "': " << name << " must lie in [" << f.row->lo << ", " << f.row->hi
                << "], the values a scenario may hold";
            throw std::invalid_argument(why.str());
          }
        }
        check_range(scenario, f, p);
        chosen.push_back(f);
      }
      factors = chosen;
    }
  } catch (const std::exception& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kBadInput;
  }
  if (outputs.empty()) {
    std::cerr << "alignsim: give at least one --output\n";
    return kBadInput;
  }

  keep_freed_memory();
  std::ostringstream csv;
  if (opt.method == "sobol") {
    std::optional<Posterior> posterior;
    if (!opt.posterior.empty()) {
      try {
        posterior = load_posterior(opt.posterior);
      } catch (const ScenarioError& e) {
        for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
        return kBadInput;
      }
    }
    csv << sobol(scenario, factors, outputs, opt, posterior ? &*posterior : nullptr);
  } else {
    csv << morris(scenario, factors, outputs, opt);
  }
  if (csv_out) {
    try {
      write_text_output(*csv_out, csv.str());
    } catch (const OutputError& e) {
      std::cerr << "alignsim: " << e.what() << '\n';
      return kFailure;
    }
  }
  return kOk;
}

}  // namespace alignsim::app
