#include "Calibrate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlopt.hpp>
#include <sstream>
#include <stdexcept>

namespace alignsim {

const std::vector<std::string>& free_variable_groups() {
  static const std::vector<std::string> groups = [] {
    std::vector<std::string> g;
    for (const auto& row : parameter_table()) g.push_back(row.name);
    g.push_back("b0");
    return g;
  }();
  return groups;
}

std::vector<FreeVariable> free_variables(const Scenario& s, const std::vector<std::string>& groups_in) {
  const auto& all = free_variable_groups();
  const std::vector<std::string> groups = groups_in.empty() ? all : groups_in;
  for (const auto& g : groups) {
    if (std::find(all.begin(), all.end(), g) == all.end()) {
      std::string list;
      for (const auto& a : all) list += (list.empty() ? "" : ", ") + a;
      throw std::invalid_argument("unknown free variable '" + g + "'; expected some of " + list);
    }
  }
  const auto wanted = [&](const std::string& g) { return std::find(groups.begin(), groups.end(), g) != groups.end(); };
  std::vector<FreeVariable> out;
  // Bounds: each parameter's fit bounds (docs/calibration.md).
  const auto& table = parameter_table();
  for (std::size_t p = 0; p < table.size(); ++p) {
    if (!wanted(table[p].name)) continue;
    FreeVariable v;
    v.kind = FreeVariable::Kind::Parameter;
    v.name = table[p].name;
    v.parameter = static_cast<int>(p);
    v.lo = table[p].fit_lo;
    v.hi = table[p].fit_hi;
    out.push_back(v);
  }
  if (wanted("b0")) {
    for (int k = 0; k < s.event_count(); ++k) {
      if (!s.events[k].is_decision()) continue;
      FreeVariable v;
      v.kind = FreeVariable::Kind::Intercept;
      v.name = "b0:" + s.events[k].id;
      v.event = k;
      const double b0 = s.events[k].decision->b0;
      v.lo = std::max(-50.0, b0 - 3.0);
      v.hi = std::min(50.0, b0 + 3.0);
      out.push_back(v);
    }
  }
  for (auto& v : out) v.start = std::clamp(value_of(s, v), v.lo, v.hi);
  return out;
}

double value_of(const Scenario& s, const FreeVariable& v) {
  if (v.kind == FreeVariable::Kind::Intercept) return s.events[v.event].decision->b0;
  return parameter_table()[v.parameter].get(s.parameters);
}

void set_value(Scenario& s, const FreeVariable& v, double x) {
  if (v.kind == FreeVariable::Kind::Intercept) {
    s.events[v.event].decision->b0 = x;
  } else {
    parameter_table()[v.parameter].set(s.parameters, x);
  }
}

double rounded(const FreeVariable& v, double x) {
  if (v.kind == FreeVariable::Kind::Intercept) return std::round(x * 1000.0) / 1000.0;
  if (x == 0) return 0;
  const double digits = 4 - std::ceil(std::log10(std::abs(x)));
  const double scale = std::pow(10.0, digits);
  return std::clamp(std::round(x * scale) / scale, v.lo, v.hi);
}

const char* algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::Sbplx: return "LN_SBPLX";
    case Algorithm::Bobyqa: return "LN_BOBYQA";
    case Algorithm::NelderMead: return "LN_NELDERMEAD";
    case Algorithm::Cobyla: return "LN_COBYLA";
  }
  return "?";
}

Algorithm parse_algorithm(const std::string& name) {
  if (name == "sbplx") return Algorithm::Sbplx;
  if (name == "bobyqa") return Algorithm::Bobyqa;
  if (name == "neldermead") return Algorithm::NelderMead;
  if (name == "cobyla") return Algorithm::Cobyla;
  throw std::invalid_argument("unknown algorithm '" + name + "'; expected sbplx, bobyqa, neldermead or cobyla");
}

double prior_penalty(const std::vector<FreeVariable>& variables, const std::vector<double>& x, double prior_weight) {
  double sum = 0;
  for (std::size_t k = 0; k < variables.size(); ++k) {
    const auto& v = variables[k];
    if (v.hi <= v.lo) continue;
    const double d = (x[k] - v.start) / (v.hi - v.lo);
    sum += d * d;
  }
  return prior_weight * sum;
}

namespace {

nlopt::algorithm nlopt_algorithm(Algorithm a) {
  switch (a) {
    case Algorithm::Sbplx: return nlopt::LN_SBPLX;
    case Algorithm::Bobyqa: return nlopt::LN_BOBYQA;
    case Algorithm::NelderMead: return nlopt::LN_NELDERMEAD;
    case Algorithm::Cobyla: return nlopt::LN_COBYLA;
  }
  return nlopt::LN_SBPLX;
}

std::string result_name(nlopt::result r) {
  switch (r) {
    case nlopt::SUCCESS: return "SUCCESS";
    case nlopt::STOPVAL_REACHED: return "STOPVAL_REACHED (every target inside its band, with the margin)";
    case nlopt::FTOL_REACHED: return "FTOL_REACHED";
    case nlopt::XTOL_REACHED: return "XTOL_REACHED";
    case nlopt::MAXEVAL_REACHED: return "MAXEVAL_REACHED";
    case nlopt::MAXTIME_REACHED: return "MAXTIME_REACHED";
    case nlopt::FORCED_STOP: return "FORCED_STOP (interrupted)";
    case nlopt::ROUNDOFF_LIMITED: return "ROUNDOFF_LIMITED";
    default: return "FAILURE (" + std::to_string(static_cast<int>(r)) + ")";
  }
}

/// The optimiser works on u in [0, 1]^n: x = lo + u (hi - lo), so that one step size fits all.
struct Problem {
  const Scenario& base;
  const TargetSet& targets;
  const std::vector<FreeVariable>& vars;
  const CalibrationOptions& options;
  CalibrationResult& result;
  Scenario work;
  double best_objective = std::numeric_limits<double>::infinity();

  std::vector<double> to_x(const std::vector<double>& u) const {
    std::vector<double> x(u.size());
    for (std::size_t k = 0; k < u.size(); ++k) {
      x[k] = vars[k].lo + std::clamp(u[k], 0.0, 1.0) * (vars[k].hi - vars[k].lo);
    }
    return x;
  }

  double operator()(const std::vector<double>& u) {
    if (options.stop && options.stop->load()) {
      result.interrupted = true;
      throw nlopt::forced_stop();
    }
    const auto x = to_x(u);
    for (std::size_t k = 0; k < x.size(); ++k) set_value(work, vars[k], x[k]);
    Evaluation e = evaluate(work, targets, options.ensemble);
    const double objective = e.loss + prior_penalty(vars, x, options.prior_weight);
    ++result.evaluations;
    result.loss_trace.push_back(e.loss);
    result.objective_trace.push_back(objective);
    if (objective < best_objective) {
      best_objective = objective;
      result.best = x;
      result.best_evaluation = e;
      result.best_objective = objective;
    }
    if (options.on_evaluation) options.on_evaluation(result.evaluations, e, objective, best_objective);
    return objective;
  }

  static double call(const std::vector<double>& u, std::vector<double>& grad, void* self) {
    (void)grad;  // derivative-free algorithms only
    return (*static_cast<Problem*>(self))(u);
  }
};

}  // namespace

CalibrationResult calibrate(const Scenario& scenario, const TargetSet& targets, std::vector<FreeVariable> variables,
                            const CalibrationOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  CalibrationResult result;
  result.variables = variables;
  result.start = evaluate(scenario, targets, options.ensemble);
  result.start_objective = result.start.loss;
  result.best_objective = result.start.loss;
  result.best_evaluation = result.start;
  for (const auto& v : variables) result.best.push_back(value_of(scenario, v));

  const auto n = static_cast<unsigned>(variables.size());
  if (n == 0 || options.max_evals <= 0) {
    result.stop_reason = n == 0 ? "no free variables" : "no evaluations asked for (--max-evals 0)";
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  }

  Problem problem{scenario, targets, result.variables, options, result, scenario};
  std::vector<double> u(n);
  for (unsigned k = 0; k < n; ++k) {
    const auto& v = result.variables[k];
    u[k] = v.hi > v.lo ? (v.start - v.lo) / (v.hi - v.lo) : 0.0;
  }
  // A clamped start is a different scenario: the given one only counts if the optimiser beats it.
  problem.best_objective = result.start.loss;
  bool clamped = false;
  for (const auto& v : result.variables) clamped = clamped || v.start != value_of(scenario, v);
  if (clamped) problem.best_objective = std::numeric_limits<double>::infinity();

  nlopt::srand(options.ensemble.seed);  // for the algorithms that draw random numbers
  nlopt::opt opt(nlopt_algorithm(options.algorithm), n);
  opt.set_lower_bounds(std::vector<double>(n, 0.0));
  opt.set_upper_bounds(std::vector<double>(n, 1.0));
  opt.set_min_objective(&Problem::call, &problem);
  opt.set_maxeval(options.max_evals);
  opt.set_stopval(0.0);  // only at the start with every target inside its aim: nothing to gain
  opt.set_xtol_abs(1e-4);
  opt.set_initial_step(std::vector<double>(n, options.initial_step));
  double f = 0;
  try {
    result.stop_reason = result_name(opt.optimize(u, f));
  } catch (const nlopt::forced_stop&) {
    result.stop_reason = result_name(nlopt::FORCED_STOP);
    result.interrupted = true;
  } catch (const nlopt::roundoff_limited&) {
    result.stop_reason = result_name(nlopt::ROUNDOFF_LIMITED);
  }
  if (result.interrupted) result.stop_reason = result_name(nlopt::FORCED_STOP);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

namespace {

std::string number(double x, int significant) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", significant, x);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // a TOML float, not an integer
  return s;
}

}  // namespace

std::string overlay_toml(const Scenario& base, const std::vector<FreeVariable>& variables,
                         const std::vector<double>& values, const std::string& extends, const std::string& header) {
  std::ostringstream out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) out << (line.empty() ? "#" : "# " + line) << '\n';
  out << "extends = \"" << extends << "\"\n\n";
  out << "[scenario]\n";
  out << "name = \"" << base.name << "_calibrated\"\n";
  out << "title = \"" << base.title << " (calibrated)\"\n";
  out << "description = \"The scenario '" << base.name
      << "' with the free numbers fitted to its targets by `alignsim calibrate` (docs/calibration.md).\"\n";
  bool any_parameter = false;
  for (std::size_t k = 0; k < variables.size(); ++k) {
    const auto& v = variables[k];
    if (v.kind == FreeVariable::Kind::Intercept) continue;
    if (!any_parameter) out << "\n[parameters]\n";
    any_parameter = true;
    const std::string line = v.name + " = " + number(rounded(v, values[k]), 4);
    out << line << std::string(line.size() < 24 ? 24 - line.size() : 1, ' ')
        << "# was " << number(value_of(base, v), 6) << "; bounds [" << number(v.lo, 4) << ", " << number(v.hi, 4) << "]\n";
  }
  for (std::size_t k = 0; k < variables.size(); ++k) {
    const auto& v = variables[k];
    if (v.kind != FreeVariable::Kind::Intercept) continue;
    char b0[32];
    std::snprintf(b0, sizeof b0, "%.3f", rounded(v, values[k]));
    out << "\n[[patch]]\nevent = \"" << base.events[v.event].id << "\"\n";
    out << "decision = { b0 = " << b0 << " }" << "   # was " << number(value_of(base, v), 6) << "; bounds ["
        << number(v.lo, 4) << ", " << number(v.hi, 4) << "]\n";
  }
  return out.str();
}

}  // namespace alignsim
