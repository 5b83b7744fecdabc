#include "Targets.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <toml.hpp>

#include "scenario/ScenarioError.hpp"
#include "scenario/TomlFields.hpp"
#include "scenario/TomlFile.hpp"

namespace alignsim {

const char* statistic_name(Statistic s) {
  switch (s) {
    case Statistic::Level: return "level";
    case Statistic::Change: return "change";
    case Statistic::Ordering: return "ordering";
    case Statistic::Persistence: return "persistence";
  }
  return "?";
}

Month Target::last() const {
  switch (statistic) {
    case Statistic::Ordering: return std::max(lower.to, higher.to);
    default: return dyad.to;
  }
}

void hold_out_after(TargetSet& targets, Month cutoff) {
  for (auto& t : targets.targets) t.held_out = cutoff < t.last();
  for (auto& d : targets.decisions) d.held_out = cutoff < d.last;
}

void hold_out_random(TargetSet& targets, double share, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::bernoulli_distribution coin(share);
  for (auto& t : targets.targets) t.held_out = coin(engine);
  for (auto& d : targets.decisions) d.held_out = coin(engine);
}

namespace {

using detail::Diagnostics;
using detail::Fields;
using detail::Value;
using detail::type_name;

/// Reads a targets file with the scenario loader's field reader (scenario/TomlFields.hpp): every
/// problem is collected with its place, and thrown at the end.
class Reader {
 public:
  explicit Reader(const Scenario& s) : s_(s) {}

  int agent(Fields& t, const std::string& key) {
    const Value* v = t.need(key, "an agent id");
    if (!v) return -1;
    const int i = v->is_string() ? s_.agent_index(v->as_string().str) : -1;
    if (i < 0) {
      std::string agents;
      for (const auto& a : s_.agents) agents += (agents.empty() ? "" : ", ") + a.id;
      d_.at(*v, t.context() + ": '" + key + "' must be an agent of the scenario (" + agents + "), found " +
                    (v->is_string() ? "'" + v->as_string().str + "'" : std::string(type_name(*v))));
    }
    return i;
  }

  bool in_horizon(const Value& v, const std::string& context, Month m) {
    const auto& p = s_.parameters;
    if (m < p.start || p.end < m) {
      d_.at(v, context + ": " + m.str() + " is outside the scenario's horizon " + p.start.str() + " to " + p.end.str());
      return false;
    }
    return true;
  }

  /// `a` and `b` of a table: two different agents of the scenario. False (with its error) if not.
  bool dyad_agents(Fields& t, DyadWindow& w) {
    w.a = agent(t, "a");
    w.b = agent(t, "b");
    if (w.a < 0 || w.b < 0) return false;
    if (w.a == w.b) {
      d_.at(*t.find("b"), t.context() + ": 'a' and 'b' must be two different agents");
      return false;
    }
    return true;
  }

  /// `a`, `b` and `window` of a table (a level target, or one side of an ordering).
  std::optional<DyadWindow> dyad_window(Fields& t) {
    DyadWindow w;
    bool ok = dyad_agents(t, w);
    const auto* window = t.pair("window", "a window [\"YYYY-MM\", \"YYYY-MM\"] (first and last month)");
    if (!window) return std::nullopt;
    const auto from = t.check_month((*window)[0], "window");
    const auto to = t.check_month((*window)[1], "window");
    if (!from || !to) return std::nullopt;
    ok = in_horizon((*window)[0], t.context() + " window", *from) && ok;
    ok = in_horizon((*window)[1], t.context() + " window", *to) && ok;
    if (*to < *from) {
      d_.at(*t.find("window"), t.context() + ": window ends (" + to->str() + ") before it starts (" + from->str() + ")");
      ok = false;
    }
    w.from = *from;
    w.to = *to;
    return ok ? std::optional(w) : std::nullopt;
  }

  bool band(Fields& t, Target& target) {
    const auto* band = t.pair("band", "a band [low, high] with low < high, in [-2, 2]");
    if (!band) return false;
    const auto lo = t.check_number((*band)[0], "band", -2, 2, "a number in [-2, 2]");
    const auto hi = t.check_number((*band)[1], "band", -2, 2, "a number in [-2, 2]");
    if (!lo || !hi) return false;
    if (!(*lo < *hi)) {
      d_.at(*t.find("band"), t.context() + ": 'band' must be [low, high] with low < high, found [" + detail::format_number(*lo) +
                                 ", " + detail::format_number(*hi) + "]");
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
    Fields f(v, target.id.empty() ? std::string("target") : context, d_);
    const auto id = f.string("id", true, "a unique snake_case id");
    static const std::regex snake("^[a-z][a-z0-9_]*$");
    bool ok = id.has_value();
    if (id) {
      if (!std::regex_match(*id, snake)) {
        d_.at(*f.find("id"), "target: 'id' must be snake_case (a-z, 0-9, _), found \"" + *id + "\"");
        ok = false;
      } else if (seen.count(*id)) {
        const auto loc = seen[*id]->location();
        d_.at(*f.find("id"), "duplicate target id '" + *id + "' (first at " + loc.file_name() + ":" +
                                 std::to_string(loc.line()) + ")");
        ok = false;
      } else {
        seen[*id] = f.find("id");
      }
    }
    target.text = f.string("text", true, "the essay's statement in the project's words").value_or("");
    target.weight = f.number("weight", false, 0, 10, "a weight in [0, 10]").value_or(1.0);
    const Value* reference = f.find("reference");
    if (reference) {
      target.reference = f.string("reference", false, "the data set(s) the target rests on").value_or("");
      if (f.find("source")) {
        d_.at(*reference, context + ": give 'source' (essay paragraphs) or 'reference' (a data set), not both");
        ok = false;
      }
    } else if (const Value* source = f.need("source", "an array of paragraph numbers of the source essay, or 'reference'")) {
      if (!source->is_array() || source->as_array().empty()) {
        d_.at(*source, context + ": 'source' must cite at least one paragraph (an array of integers >= 1)");
        ok = false;
      } else {
        for (const auto& p : source->as_array()) {
          if (!p.is_integer() || p.as_integer() < 1) {
            d_.at(p, context + ": 'source' holds paragraph numbers (integers >= 1), found " + type_name(p));
            ok = false;
          } else {
            target.source.push_back(static_cast<int>(p.as_integer()));
          }
        }
      }
    } else {
      ok = false;
    }
    const auto statistic = f.string("statistic", true, "\"level\", \"change\", \"ordering\" or \"persistence\"");
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
      ok = dyad_agents(f, target.dyad) && ok;
      if (const auto* dates = f.pair("dates", "two months [\"YYYY-MM\", \"YYYY-MM\"], the change is M(second) - M(first)")) {
        const auto d0 = f.check_month((*dates)[0], "dates");
        const auto d1 = f.check_month((*dates)[1], "dates");
        if (d0 && d1) {
          ok = in_horizon((*dates)[0], context + " dates", *d0) && ok;
          ok = in_horizon((*dates)[1], context + " dates", *d1) && ok;
          if (!(*d0 < *d1)) {
            d_.at(*f.find("dates"), context + ": 'dates' must be in order, the earlier first; found " + d0->str() + ", " + d1->str());
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
    } else if (*statistic == "persistence") {
      target.statistic = Statistic::Persistence;
      ok = dyad_agents(f, target.dyad) && ok;
      const auto from = f.month("from", true);
      const auto months = f.integer("months", true, 1, 1200, "a number of months in [1, 1200]");
      if (from && months) {
        target.dyad.from = *from;
        target.months = static_cast<int>(*months);
        target.dyad.to = *from + (target.months - 1);
        ok = in_horizon(*f.find("from"), context + " from", *from) && ok;
        ok = in_horizon(*f.find("months"), context + " from + months", target.dyad.to) && ok;
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
          d_.at(*sv, context + ": '" + side + "' must be a table { a, b, window }, found " + type_name(*sv));
          ok = false;
          continue;
        }
        Fields g(*sv, context + " '" + side + "'", d_);
        const auto w = dyad_window(g);
        if (!w) {
          ok = false;
          continue;
        }
        (std::string(side) == "lower" ? target.lower : target.higher) = *w;
      }
    } else {
      d_.at(*f.find("statistic"), context + ": 'statistic' must be \"level\", \"change\", \"ordering\" or \"persistence\", found \"" +
                                      *statistic + "\"");
      f.skip_unknown();
      return;
    }
    if (ok) out.targets.push_back(std::move(target));
  }

  void read_decision(const Value& v, TargetSet& out, std::map<int, const Value*>& seen) {
    Fields f(v, "decision", d_);
    DecisionTarget d;
    const Value* ev = f.need("event", "the id of a decision event of the scenario");
    bool ok = ev != nullptr;
    if (ev) {
      d.event = ev->is_string() ? s_.event_index(ev->as_string().str) : -1;
      if (d.event < 0) {
        d_.at(*ev, "decision: 'event' must name an event of the scenario, found " +
                       (ev->is_string() ? "'" + ev->as_string().str + "'" : std::string(type_name(*ev))));
        ok = false;
      } else if (!s_.events[d.event].is_decision()) {
        d_.at(*ev, "decision: event '" + s_.events[d.event].id + "' is scheduled, not a decision");
        ok = false;
      } else if (seen.count(d.event)) {
        d_.at(*ev, "decision: event '" + s_.events[d.event].id + "' has an entry already (at line " +
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
    if (!at_least && !at_most) {
      d_.at(v, context + ": give 'at_least' (a share of runs in which it happens near its date), 'at_most' (a share "
                         "of runs in which it happens at all), or both");
      ok = false;
    } else if (at_least) {
      if (at_most) {
        const auto cap = f.check_number(*at_most, "at_most", 0, 1, "a share of runs in [0, 1]");
        ok = cap && ok;
        d.cap = cap.value_or(1.0);
        explicit_cap_.insert(out.decisions.size());
      }
      d.at_least = true;
      const auto share = f.check_number(*at_least, "at_least", 0, 1, "a share of runs in [0, 1]");
      if (!within) {
        d_.at(v, context + ": 'at_least' needs 'within_months', the months either side of the event's date");
        ok = false;
      } else if (!within->is_integer() || within->as_integer() < 0 || within->as_integer() > 600) {
        d_.at(*within, context + ": 'within_months' must be an integer in [0, 600], found " +
                           (within->is_integer() ? std::to_string(within->as_integer()) : std::string(type_name(*within))));
        ok = false;
      } else {
        d.within_months = static_cast<int>(within->as_integer());
      }
      ok = share && ok;
      d.share = share.value_or(0);
      if (d.event >= 0) d.last = s_.events[d.event].date + d.within_months;
    } else {
      d.at_least = false;
      const auto share = f.check_number(*at_most, "at_most", 0, 1, "a share of runs in [0, 1]");
      if (within) {
        d_.at(*within, context + ": 'within_months' goes with 'at_least' only ('at_most' counts every run in which it happens)");
        ok = false;
      }
      ok = share && ok;
      d.share = share.value_or(0);
      if (d.event >= 0) {
        const Event& e = s_.events[d.event];
        d.last = e.is_option() ? s_.choices[e.choice].to : e.decision->to;
      }
    }
    if (ok) out.decisions.push_back(std::move(d));
  }

  TargetSet read(const Value& root, const std::string& path, const std::filesystem::path& dir) {
    TargetSet out;
    out.path = path;
    std::map<std::string, const Value*> seen;
    std::map<int, const Value*> seen_events;
    read_document(root, path, dir, out, seen, seen_events, {std::filesystem::path(path)});
    for (std::size_t k = 0; k < out.decisions.size(); ++k) {
      auto& d = out.decisions[k];
      if (d.at_least && !explicit_cap_.count(k) && s_.events[d.event].decision->near_certain.empty()) d.cap = default_cap_;
    }
    if (out.targets.empty() && d_.empty()) d_.in_file(path, "no [[targets]] in the file or the files it includes");
    d_.throw_if_any();
    return out;
  }

  Diagnostics& diagnostics() { return d_; }
  /// Bytes the targets file and the files it includes may still hold together.
  std::size_t& budget() { return budget_; }

  /// One file's [[targets]] and [[decisions]], then those of the files it includes (relative to it).
  /// The entry file may set `decisions_at_most`, the cap of every `at_least` decision whose entry sets
  /// none and whose event is not near-certain.
  void read_document(const Value& root, const std::string& path, const std::filesystem::path& dir, TargetSet& out,
                     std::map<std::string, const Value*>& seen, std::map<int, const Value*>& seen_events,
                     std::vector<std::filesystem::path> stack) {
    Fields top(root, path, d_);
    if (stack.size() == 1) {
      default_cap_ = top.number("decisions_at_most", false, 0, 1, "a share of runs in [0, 1]").value_or(1.0);
      top.find("priors");  // the priors of a posterior calibration, read by load_priors (Priors.hpp)
    }
    for (const char* key : {"targets", "decisions"}) {
      const Value* list = top.find(key);
      if (!list) continue;
      if (!list->is_array()) {
        d_.at(*list, path + ": '" + key + "' must be an array of tables ([[" + key + "]]), found " + type_name(*list));
        continue;
      }
      for (const auto& item : list->as_array()) {
        if (!item.is_table()) {
          d_.at(item, path + ": each element of '" + key + "' must be a table, found " + type_name(item));
        } else if (std::string(key) == "targets") {
          read_target(item, out, seen);
        } else {
          read_decision(item, out, seen_events);
        }
      }
    }
    const auto* includes = top.array("include", false, "an array of targets files, relative to this file");
    if (!includes) return;
    for (const auto& inc : *includes) {
      if (!inc.is_string()) {
        d_.at(inc, path + ": 'include' entries must be file paths (strings), found " + type_name(inc));
        continue;
      }
      const std::filesystem::path rel = inc.as_string().str;
      const auto full = rel.is_absolute() ? rel : dir / rel;
      std::error_code ec;
      const auto canonical = std::filesystem::weakly_canonical(full, ec);
      if (std::find(stack.begin(), stack.end(), canonical) != stack.end() || std::find(stack.begin(), stack.end(), full) != stack.end()) {
        d_.at(inc, path + ": include cycle: '" + rel.string() + "' is already being read");
        continue;
      }
      // Read within the limits of every TOML file, the entry file and its includes sharing one budget.
      const std::string shown = (std::filesystem::path(path).parent_path() / rel).string();
      auto document = detail::read_toml_file(full, shown, &inc, budget_, d_, "targets file");
      if (!document) continue;
      documents_.push_back(std::move(*document));
      auto next = stack;
      next.push_back(canonical);
      read_document(documents_.back(), shown, full.parent_path(), out, seen, seen_events, next);
    }
  }

 private:
  const Scenario& s_;
  Diagnostics d_;
  std::deque<Value> documents_;  ///< included files, alive while their values are referenced
  std::size_t budget_ = detail::kMaxTomlBytes;
  double default_cap_ = 1.0;
  std::set<std::size_t> explicit_cap_;  ///< decisions whose entry sets its own cap
};

}  // namespace

TargetSet load_targets_text(const std::string& text, const std::string& name, const Scenario& scenario,
                            const std::filesystem::path& base_dir) {
  Reader r(scenario);
  if (const auto root = detail::parse_toml_text(text, name, r.diagnostics())) return r.read(*root, name, base_dir);
  r.diagnostics().throw_if_any();
  return {};
}

TargetSet load_targets(const std::filesystem::path& path, const Scenario& scenario) {
  Reader r(scenario);
  if (const auto root = detail::read_toml_file(path, path.string(), nullptr, r.budget(), r.diagnostics(), "targets file")) {
    return r.read(*root, path.string(), path.parent_path());
  }
  r.diagnostics().throw_if_any();
  return {};
}

}  // namespace alignsim
