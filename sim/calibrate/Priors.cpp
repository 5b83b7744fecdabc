#include "Priors.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <toml.hpp>

#include "scenario/ScenarioError.hpp"
#include "scenario/TomlFields.hpp"

namespace alignsim {

namespace {

constexpr double kInterceptLimit = 50.0;  ///< the scenario format's range of b0
constexpr double kLogFloor = 1e-9;        ///< a log-normal number's support starts above 0

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

/// The valid range of a free number: the parameter's range, or the format's range of b0.
std::pair<double, double> valid_range(const FreeVariable& v) {
  if (v.kind == FreeVariable::Kind::Intercept) return {-kInterceptLimit, kInterceptLimit};
  const auto& row = parameter_table()[v.parameter];
  return {row.lo, row.hi};
}

bool is_response(const FreeVariable& v) {
  return v.kind == FreeVariable::Kind::Parameter && v.name.rfind("response_", 0) == 0;
}

}  // namespace

double Prior::to_internal(double x) const { return shape == Shape::LogNormal ? std::log(x) : x; }

double Prior::from_internal(double z) const { return shape == Shape::LogNormal ? std::exp(z) : z; }

double Prior::log_density(double z) const {
  constexpr double minus_inf = -std::numeric_limits<double>::infinity();
  const double x = from_internal(z);
  if (!std::isfinite(z) || !in_support(x)) return minus_inf;
  switch (shape) {
    case Shape::Uniform: return 0.0;
    case Shape::Normal: {
      const double d = (z - a) / b;
      return -0.5 * d * d;
    }
    case Shape::LogNormal: {
      const double d = (z - std::log(a)) / b;  // ln x is normal: the density of z needs no Jacobian
      return -0.5 * d * d;
    }
  }
  return minus_inf;
}

std::string Prior::describe() const {
  std::string s;
  const auto [lo, hi] = valid_range(variable);
  switch (shape) {
    case Shape::Uniform: return "uniform on [" + num(a) + ", " + num(b) + "]";
    case Shape::Normal: s = "normal, mean " + num(a) + ", sd " + num(b); break;
    case Shape::LogNormal: s = "log-normal, median " + num(a) + ", sd of ln " + num(b); break;
  }
  return s + ", within [" + num(std::max(lo, shape == Shape::LogNormal ? 0.0 : lo)) + ", " + num(hi) + "]";
}

Prior default_prior(const Scenario& scenario, const FreeVariable& variable) {
  Prior p;
  p.variable = variable;
  const auto [lo, hi] = valid_range(variable);
  if (variable.kind == FreeVariable::Kind::Intercept) {
    p.shape = Prior::Shape::Normal;
    p.a = value_of(scenario, variable);
    p.b = kDefaultInterceptSd;
    p.variable.lo = lo;
    p.variable.hi = hi;
  } else if (is_response(variable)) {
    p.shape = Prior::Shape::LogNormal;
    p.a = 1.0;
    p.b = kDefaultResponseSdLog;
    p.variable.lo = std::max(lo, kLogFloor);
    p.variable.hi = hi;
  } else {
    const auto& row = parameter_table()[variable.parameter];
    p.shape = Prior::Shape::Uniform;
    p.a = p.variable.lo = row.fit_lo;
    p.b = p.variable.hi = row.fit_hi;
  }
  return p;
}

namespace {

using detail::Diagnostics;
using detail::Fields;
using detail::Value;

/// Reads one entry `{ distribution = ..., ... }` into `p` (whose variable is set); false when the
/// entry fixes the number or has an error.
bool read_entry(const Value& v, const std::string& key, const Scenario& s, Prior& p, bool& fixed, Diagnostics& d) {
  fixed = false;
  if (!v.is_table()) {
    d.at(v, "priors: '" + key + "' must be a table { distribution = \"uniform\" | \"normal\" | \"lognormal\" | \"fixed\", ... }, found " +
                detail::type_name(v));
    return false;
  }
  Fields f(v, "prior '" + key + "'", d);
  const auto shape = f.string("distribution", true, "\"uniform\", \"normal\", \"lognormal\" or \"fixed\"");
  if (!shape) {
    f.skip_unknown();
    return false;
  }
  const auto [lo, hi] = valid_range(p.variable);
  const bool intercept = p.variable.kind == FreeVariable::Kind::Intercept;
  const std::string range = "[" + num(lo) + ", " + num(hi) + "]";
  p.from_file = true;
  if (*shape == "fixed") {
    fixed = true;
    return false;
  }
  if (*shape == "uniform") {
    const auto low = f.number("low", true, lo, hi, "a number in the valid range " + range);
    const auto high = f.number("high", true, lo, hi, "a number in the valid range " + range);
    if (!low || !high) return false;
    if (!(*low < *high)) {
      d.at(v, "prior '" + key + "': 'low' must be below 'high', found " + num(*low) + " and " + num(*high));
      return false;
    }
    p.shape = Prior::Shape::Uniform;
    p.a = p.variable.lo = *low;
    p.b = p.variable.hi = *high;
    return true;
  }
  if (*shape == "normal") {
    // An intercept's mean defaults to the scenario's value: the essay's reading of the act.
    const auto mean = f.number("mean", !intercept, lo, hi, "a number in the valid range " + range);
    const auto sd = f.number("sd", true, 1e-6, 1e6, "a standard deviation > 0");
    if ((!mean && !intercept) || !sd) return false;
    p.shape = Prior::Shape::Normal;
    p.a = mean.value_or(value_of(s, p.variable));
    p.b = *sd;
    p.variable.lo = lo;
    p.variable.hi = hi;
    return true;
  }
  if (*shape == "lognormal") {
    if (lo < 0) {
      d.at(*f.find("distribution"), "prior '" + key + "': a log-normal prior needs a number that cannot be negative; '" +
                                        key + "' ranges over " + range);
      f.skip_unknown();
      return false;
    }
    const auto median = f.number("median", true, kLogFloor, hi, "a median in (0, " + num(hi) + "]");
    const auto sd_log = f.number("sd_log", true, 1e-6, 100, "the standard deviation of ln x, > 0");
    if (!median || !sd_log) return false;
    p.shape = Prior::Shape::LogNormal;
    p.a = *median;
    p.b = *sd_log;
    p.variable.lo = std::max(lo, kLogFloor);
    p.variable.hi = hi;
    return true;
  }
  d.at(*f.find("distribution"), "prior '" + key + "': 'distribution' must be \"uniform\", \"normal\", \"lognormal\" or \"fixed\", found \"" +
                                    *shape + "\"");
  f.skip_unknown();
  return false;
}

}  // namespace

std::vector<Prior> load_priors_text(const std::string& text, const std::string& name, const Scenario& scenario,
                                    const std::vector<FreeVariable>& variables) {
  Diagnostics d;
  std::vector<Prior> out;
  for (const auto& v : variables) out.push_back(default_prior(scenario, v));
  Value root;
  try {
    std::istringstream in(text);
    root = toml::parse<toml::discard_comments, std::map, std::vector>(in, name);
  } catch (const toml::syntax_error& e) {
    d.add(detail::syntax_diagnostic(e));
    d.throw_if_any();
  }
  const auto& top = root.as_table();
  const auto it = top.find("priors");
  if (it == top.end()) return out;
  const Value& table = it->second;
  if (!table.is_table()) {
    d.at(table, name + ": 'priors' must be a table ([priors]) of free numbers, found " + detail::type_name(table));
    d.throw_if_any();
  }
  // Entries name a parameter, "b0" (the default of every intercept) or "b0:EVENT" (one intercept).
  std::map<std::string, int> index;
  for (std::size_t k = 0; k < variables.size(); ++k) index[variables[k].name] = static_cast<int>(k);
  std::vector<char> fixed(variables.size(), 0);
  const auto apply = [&](const Value& v, const std::string& key, int k) {
    Prior p = out[k];
    bool fix = false;
    if (read_entry(v, key, scenario, p, fix, d)) out[k] = p;
    fixed[k] = fix;
  };
  // "b0" first, so that single intercepts override it whatever the order in the file. It is read
  // once, for the first decision, and applied to every intercept, each normal prior centred on the
  // intercept's own value unless the entry gives a mean.
  if (const auto b0 = table.as_table().find("b0"); b0 != table.as_table().end()) {
    int first = -1;
    for (int e = 0; e < scenario.event_count() && first < 0; ++e) {
      if (scenario.events[e].is_decision()) first = e;
    }
    if (first < 0) {
      d.at(b0->second, "priors: 'b0' is the prior of every decision's intercept, but the scenario has no decisions");
    } else {
      FreeVariable any;
      any.kind = FreeVariable::Kind::Intercept;
      any.name = "b0:" + scenario.events[first].id;
      any.event = first;
      Prior shared = default_prior(scenario, any);
      bool fix = false;
      const bool ok = read_entry(b0->second, "b0", scenario, shared, fix, d);
      const bool own_mean = b0->second.is_table() && b0->second.as_table().count("mean") > 0;
      for (std::size_t k = 0; k < variables.size(); ++k) {
        if (variables[k].kind != FreeVariable::Kind::Intercept) continue;
        fixed[k] = fix;
        if (!ok) continue;
        Prior p = shared;
        p.variable = out[k].variable;
        p.variable.lo = shared.variable.lo;
        p.variable.hi = shared.variable.hi;
        if (p.shape == Prior::Shape::Normal && !own_mean) p.a = value_of(scenario, variables[k]);
        out[k] = p;
      }
    }
  }
  for (const auto& [key, v] : table.as_table()) {
    if (key == "b0") continue;
    const auto found = index.find(key);
    if (found != index.end()) {
      apply(v, key, found->second);
      continue;
    }
    // Not among the free numbers: a known name held fixed (--free), or an error.
    const bool parameter = find_parameter(key) != nullptr;
    const bool intercept = key.rfind("b0:", 0) == 0 && scenario.event_index(key.substr(3)) >= 0 &&
                           scenario.events[scenario.event_index(key.substr(3))].is_decision();
    if (parameter || intercept) continue;
    std::string names;
    for (const auto& row : parameter_table()) names += (names.empty() ? "" : ", ") + row.name;
    d.at(v, "priors: unknown free number '" + key + "'; expected a parameter (" + names +
                "), \"b0\" (every decision's intercept) or \"b0:EVENT\" with EVENT a decision of the scenario");
  }
  d.throw_if_any();
  std::vector<Prior> kept;
  for (std::size_t k = 0; k < variables.size(); ++k) {
    if (!fixed[k]) kept.push_back(out[k]);
  }
  return kept;
}

std::vector<Prior> load_priors(const std::filesystem::path& path, const Scenario& scenario,
                               const std::vector<FreeVariable>& variables) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ScenarioError({{path.string(), 0, 0, "cannot open targets file '" + path.string() + "'"}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_priors_text(text.str(), path.string(), scenario, variables);
}

}  // namespace alignsim
