#include "Targets.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <toml.hpp>

#include "scenario/ScenarioError.hpp"

namespace alignsim {

const char* statistic_name(Statistic s) {
  switch (s) {
    case Statistic::Level: return "level";
    case Statistic::Change: return "change";
    case Statistic::Ordering: return "ordering";
  }
  return "?";
}

namespace {

using Value = toml::basic_value<toml::discard_comments, std::map, std::vector>;

const char* type_name(const Value& v) {
  switch (v.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a float";
    case toml::value_t::string: return "a string";
    case toml::value_t::array: return "an array";
    case toml::value_t::table: return "a table";
    case toml::value_t::empty: return "nothing";
    default: return "a date or time";
  }
}

std::string number_text(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

/// Reads a targets file: every problem is collected with its place, and thrown at the end.
/// A small cousin of the scenario loader's field reader (sim/scenario/ScenarioLoader.cpp).
class Reader {
 public:
  explicit Reader(const Scenario& s) : s_(s) {}

  void error(const Value& v, std::string message) {
    const auto loc = v.location();
    errors_.push_back({loc.file_name(), static_cast<int>(loc.line()), static_cast<int>(loc.column()),
                       std::move(message)});
  }
  void error_in_file(std::string file, std::string message) { errors_.push_back({std::move(file), 0, 0, std::move(message)}); }
  void throw_if_any() {
    if (!errors_.empty()) throw ScenarioError(std::move(errors_));
  }

  /// The keys of one table: each lookup marks a key as known; the rest are reported as unknown.
  class Table {
   public:
    Table(Reader& r, const Value& t, std::string context) : r_(r), t_(t), context_(std::move(context)) {}
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;
    ~Table() {
      if (skip_unknown_) return;
      for (const auto& [key, value] : t_.as_table()) {
        if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
        std::string expected;
        for (const auto& k : known_) expected += (expected.empty() ? "'" : ", '") + k + "'";
        r_.error(value, context_ + ": unknown key '" + key + "'; expected one of " + expected);
      }
    }
    const std::string& context() const { return context_; }
    const Value& value() const { return t_; }
    /// Reports no unknown keys: when the table could not be read as what it is, its other keys
    /// cannot be judged.
    void skip_unknown() { skip_unknown_ = true; }

    const Value* find(const std::string& key) {
      if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
      const auto it = t_.as_table().find(key);
      return it == t_.as_table().end() ? nullptr : &it->second;
    }
    const Value* need(const std::string& key, const std::string& what) {
      const Value* v = find(key);
      if (!v) r_.error(t_, context_ + ": missing '" + key + "' (" + what + ")");
      return v;
    }
    std::optional<std::string> string(const std::string& key, bool required, const std::string& what) {
      const Value* v = required ? need(key, what) : find(key);
      if (!v) return std::nullopt;
      if (!v->is_string()) {
        r_.error(*v, context_ + ": '" + key + "' must be " + what + ", found " + type_name(*v));
        return std::nullopt;
      }
      return v->as_string().str;
    }
    std::optional<double> number(const Value& v, const std::string& key, double lo, double hi, const std::string& what) {
      double x = 0;
      if (v.is_integer()) {
        x = static_cast<double>(v.as_integer());
      } else if (v.is_floating()) {
        x = v.as_floating();
      } else {
        r_.error(v, context_ + ": '" + key + "' must be " + what + ", found " + type_name(v));
        return std::nullopt;
      }
      if (!std::isfinite(x) || x < lo || x > hi) {
        r_.error(v, context_ + ": '" + key + "' must be " + what + ", found " + number_text(x));
        return std::nullopt;
      }
      return x;
    }
    std::optional<double> number(const std::string& key, bool required, double lo, double hi, const std::string& what) {
      const Value* v = required ? need(key, what) : find(key);
      return v ? number(*v, key, lo, hi, what) : std::nullopt;
    }
    /// An array of exactly `n` elements, or nullptr (with an error).
    const std::vector<Value>* pair(const std::string& key, const std::string& what) {
      const Value* v = need(key, what);
      if (!v) return nullptr;
      if (!v->is_array() || v->as_array().size() != 2) {
        r_.error(*v, context_ + ": '" + key + "' must be " + what + ", found " +
                         (v->is_array() ? "an array of " + std::to_string(v->as_array().size()) : std::string(type_name(*v))));
        return nullptr;
      }
      return &v->as_array();
    }
    std::optional<Month> month(const Value& v, const std::string& key) {
      std::optional<Month> m;
      if (v.is_string()) m = Month::parse(v.as_string().str);
      if (!m) {
        r_.error(v, context_ + ": '" + key + "' must hold months \"YYYY-MM\", found " +
                        (v.is_string() ? "\"" + v.as_string().str + "\"" : std::string(type_name(v))));
      }
      return m;
    }

   private:
    Reader& r_;
    const Value& t_;
    std::string context_;
    std::vector<std::string> known_;
    bool skip_unknown_ = false;
  };

  int agent(Table& t, const std::string& key) {
    const Value* v = t.need(key, "an agent id");
    if (!v) return -1;
    const int i = v->is_string() ? s_.agent_index(v->as_string().str) : -1;
    if (i < 0) {
      std::string agents;
      for (const auto& a : s_.agents) agents += (agents.empty() ? "" : ", ") + a.id;
      error(*v, t.context() + ": '" + key + "' must be an agent of the scenario (" + agents + "), found " +
                    (v->is_string() ? "'" + v->as_string().str + "'" : std::string(type_name(*v))));
    }
    return i;
  }

  bool in_horizon(const Value& v, const std::string& context, Month m) {
    const auto& p = s_.parameters;
    if (m < p.start || p.end < m) {
      error(v, context + ": " + m.str() + " is outside the scenario's horizon " + p.start.str() + " to " + p.end.str());
      return false;
    }
    return true;
  }

  /// `a`, `b` and `window` of a table (a level target, or one side of an ordering).
  std::optional<DyadWindow> dyad_window(Table& t) {
    DyadWindow w;
    w.a = agent(t, "a");
    w.b = agent(t, "b");
    bool ok = w.a >= 0 && w.b >= 0;
    if (ok && w.a == w.b) {
      error(*t.find("b"), t.context() + ": 'a' and 'b' must be two different agents");
      ok = false;
    }
    const auto* window = t.pair("window", "a window [\"YYYY-MM\", \"YYYY-MM\"] (first and last month)");
    if (!window) return std::nullopt;
    const auto from = t.month((*window)[0], "window");
    const auto to = t.month((*window)[1], "window");
    if (!from || !to) return std::nullopt;
    ok = in_horizon((*window)[0], t.context() + " window", *from) && ok;
    ok = in_horizon((*window)[1], t.context() + " window", *to) && ok;
    if (*to < *from) {
      error(*t.find("window"), t.context() + ": window ends (" + to->str() + ") before it starts (" + from->str() + ")");
      ok = false;
    }
    w.from = *from;
    w.to = *to;
    return ok ? std::optional(w) : std::nullopt;
  }

  bool band(Table& t, Target& target) {
    const auto* band = t.pair("band", "a band [low, high] with low < high, in [-2, 2]");
    if (!band) return false;
    const auto lo = t.number((*band)[0], "band", -2, 2, "a number in [-2, 2]");
    const auto hi = t.number((*band)[1], "band", -2, 2, "a number in [-2, 2]");
    if (!lo || !hi) return false;
    if (!(*lo < *hi)) {
      error(*t.find("band"), t.context() + ": 'band' must be [low, high] with low < high, found [" + number_text(*lo) +
                                 ", " + number_text(*hi) + "]");
      return false;
    }
    target.lo = *lo;
    target.hi = *hi;
    return true;
  }

  void read_target(const Value& v, TargetSet& out, std::map<std::string, const Value*>& seen) {
    Target target;
    const auto& table = v.as_table();
    if (const auto it = table.find("id"); it != table.end() && it->second.is_string()) target.id = it->second.as_string().str;
    const std::string context = "target '" + target.id + "'";
    Table f(*this, v, target.id.empty() ? std::string("target") : context);
    const auto id = f.string("id", true, "a unique snake_case id");
    static const std::regex snake("^[a-z][a-z0-9_]*$");
    bool ok = id.has_value();
    if (id) {
      if (!std::regex_match(*id, snake)) {
        error(*f.find("id"), "target: 'id' must be snake_case (a-z, 0-9, _), found \"" + *id + "\"");
        ok = false;
      } else if (seen.count(*id)) {
        const auto loc = seen[*id]->location();
        error(*f.find("id"), "duplicate target id '" + *id + "' (first at " + loc.file_name() + ":" +
                                 std::to_string(loc.line()) + ")");
        ok = false;
      } else {
        seen[*id] = f.find("id");
      }
    }
    target.text = f.string("text", true, "the essay's statement in the project's words").value_or("");
    if (const Value* source = f.need("source", "an array of paragraph numbers of the source essay")) {
      if (!source->is_array() || source->as_array().empty()) {
        error(*source, context + ": 'source' must cite at least one paragraph (an array of integers >= 1)");
        ok = false;
      } else {
        for (const auto& p : source->as_array()) {
          if (!p.is_integer() || p.as_integer() < 1) {
            error(p, context + ": 'source' holds paragraph numbers (integers >= 1), found " + type_name(p));
            ok = false;
          } else {
            target.source.push_back(static_cast<int>(p.as_integer()));
          }
        }
      }
    } else {
      ok = false;
    }
    const auto statistic = f.string("statistic", true, "\"level\", \"change\" or \"ordering\"");
    if (!statistic) {
      f.skip_unknown();
      return;
    }
    if (*statistic == "level") {
      target.statistic = Statistic::Level;
      const auto w = dyad_window(f);
      ok = band(f, target) && w && ok;
      if (w) target.dyad = *w;
    } else if (*statistic == "change") {
      target.statistic = Statistic::Change;
      target.dyad.a = agent(f, "a");
      target.dyad.b = agent(f, "b");
      ok = target.dyad.a >= 0 && target.dyad.b >= 0 && ok;
      if (target.dyad.a >= 0 && target.dyad.a == target.dyad.b) {
        error(*f.find("b"), context + ": 'a' and 'b' must be two different agents");
        ok = false;
      }
      if (const auto* dates = f.pair("dates", "two months [\"YYYY-MM\", \"YYYY-MM\"], the change is M(second) - M(first)")) {
        const auto d0 = f.month((*dates)[0], "dates");
        const auto d1 = f.month((*dates)[1], "dates");
        if (d0 && d1) {
          ok = in_horizon((*dates)[0], context + " dates", *d0) && ok;
          ok = in_horizon((*dates)[1], context + " dates", *d1) && ok;
          if (!(*d0 < *d1)) {
            error(*f.find("dates"), context + ": 'dates' must be in order, the earlier first; found " + d0->str() + ", " + d1->str());
            ok = false;
          }
          target.dyad.from = *d0;
          target.dyad.to = *d1;
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
      ok = band(f, target) && ok;
    } else if (*statistic == "ordering") {
      target.statistic = Statistic::Ordering;
      for (const char* side : {"lower", "higher"}) {
        const Value* sv = f.need(side, "{ a = ..., b = ..., window = [...] }");
        if (!sv) {
          ok = false;
          continue;
        }
        if (!sv->is_table()) {
          error(*sv, context + ": '" + side + "' must be a table { a, b, window }, found " + type_name(*sv));
          ok = false;
          continue;
        }
        Table g(*this, *sv, context + " '" + side + "'");
        const auto w = dyad_window(g);
        if (!w) {
          ok = false;
          continue;
        }
        (std::string(side) == "lower" ? target.lower : target.higher) = *w;
      }
    } else {
      error(*f.find("statistic"), context + ": 'statistic' must be \"level\", \"change\" or \"ordering\", found \"" +
                                      *statistic + "\"");
      f.skip_unknown();
      return;
    }
    if (ok) out.targets.push_back(std::move(target));
  }

  void read_decision(const Value& v, TargetSet& out, std::map<int, const Value*>& seen) {
    Table f(*this, v, "decision");
    DecisionTarget d;
    const Value* ev = f.need("event", "the id of a decision event of the scenario");
    bool ok = ev != nullptr;
    if (ev) {
      d.event = ev->is_string() ? s_.event_index(ev->as_string().str) : -1;
      if (d.event < 0) {
        error(*ev, "decision: 'event' must name an event of the scenario, found " +
                       (ev->is_string() ? "'" + ev->as_string().str + "'" : std::string(type_name(*ev))));
        ok = false;
      } else if (!s_.events[d.event].is_decision()) {
        error(*ev, "decision: event '" + s_.events[d.event].id + "' is scheduled, not a decision");
        ok = false;
      } else if (seen.count(d.event)) {
        error(*ev, "decision: event '" + s_.events[d.event].id + "' has an entry already (at line " +
                       std::to_string(seen[d.event]->location().line()) + ")");
        ok = false;
      } else {
        seen[d.event] = ev;
        d.id = s_.events[d.event].id;
      }
    }
    const std::string context = "decision '" + d.id + "'";
    d.text = f.string("text", false, "a string").value_or("");
    const Value* at_least = f.find("at_least");
    const Value* at_most = f.find("at_most");
    const Value* within = f.find("within_months");
    if ((at_least != nullptr) == (at_most != nullptr)) {
      error(v, context + ": give exactly one of 'at_least' (a share of runs in which it happens near its date) "
                         "or 'at_most' (a share of runs in which it happens at all)");
      ok = false;
    } else if (at_least) {
      d.at_least = true;
      const auto share = f.number(*at_least, "at_least", 0, 1, "a share of runs in [0, 1]");
      if (!within) {
        error(v, context + ": 'at_least' needs 'within_months', the months either side of the event's date");
        ok = false;
      } else if (!within->is_integer() || within->as_integer() < 0 || within->as_integer() > 600) {
        error(*within, context + ": 'within_months' must be an integer in [0, 600], found " +
                           (within->is_integer() ? std::to_string(within->as_integer()) : std::string(type_name(*within))));
        ok = false;
      } else {
        d.within_months = static_cast<int>(within->as_integer());
      }
      ok = share && ok;
      d.share = share.value_or(0);
    } else {
      d.at_least = false;
      const auto share = f.number(*at_most, "at_most", 0, 1, "a share of runs in [0, 1]");
      if (within) {
        error(*within, context + ": 'within_months' goes with 'at_least' only ('at_most' counts every run in which it happens)");
        ok = false;
      }
      ok = share && ok;
      d.share = share.value_or(0);
    }
    if (ok) out.decisions.push_back(std::move(d));
  }

  TargetSet read(const Value& root, const std::string& path) {
    TargetSet out;
    out.path = path;
    {
      Table top(*this, root, path);
      std::map<std::string, const Value*> seen;
      std::map<int, const Value*> seen_events;
      for (const char* key : {"targets", "decisions"}) {
        const Value* list = top.find(key);
        if (!list) continue;
        if (!list->is_array()) {
          error(*list, path + ": '" + key + "' must be an array of tables ([[" + key + "]]), found " + type_name(*list));
          continue;
        }
        for (const auto& item : list->as_array()) {
          if (!item.is_table()) {
            error(item, path + ": each element of '" + key + "' must be a table, found " + type_name(item));
          } else if (std::string(key) == "targets") {
            read_target(item, out, seen);
          } else {
            read_decision(item, out, seen_events);
          }
        }
      }
      if (!top.find("targets")) error_in_file(path, "no [[targets]] in the file");
    }
    throw_if_any();
    return out;
  }

  void syntax(const toml::exception& e) {
    const auto& loc = e.location();
    std::string message = e.what();
    const auto first = message.find('\n');
    std::string headline = message.substr(0, first);
    if (headline.rfind("[error] ", 0) == 0) headline = headline.substr(8);
    errors_.push_back({loc.file_name(), static_cast<int>(loc.line()), static_cast<int>(loc.column()),
                       "invalid TOML: " + headline + (first == std::string::npos ? "" : message.substr(first))});
    throw_if_any();
  }

 private:
  const Scenario& s_;
  std::vector<Diagnostic> errors_;
};

}  // namespace

TargetSet load_targets_text(const std::string& text, const std::string& name, const Scenario& scenario) {
  Reader r(scenario);
  std::istringstream in(text);
  try {
    const Value root = toml::parse<toml::discard_comments, std::map, std::vector>(in, name);
    return r.read(root, name);
  } catch (const toml::syntax_error& e) {
    r.syntax(e);
  }
  return {};
}

TargetSet load_targets(const std::filesystem::path& path, const Scenario& scenario) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ScenarioError({{path.string(), 0, 0,
                          "cannot open targets file '" + path.string() + "': " +
                              (std::filesystem::exists(path) ? "permission denied or not a file" : "no such file")}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_targets_text(text.str(), path.string(), scenario);
}

}  // namespace alignsim
