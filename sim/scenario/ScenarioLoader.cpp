#include "ScenarioLoader.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <unordered_map>
#include <toml.hpp>

#include "ScenarioError.hpp"
#include "ScenarioWriter.hpp"
#include "Streams.hpp"
#include "TomlFields.hpp"
#include "TomlFile.hpp"

namespace alignsim {

namespace detail {

struct Document {
  std::string path;
  std::filesystem::path dir;
  Value root;
  bool entry = false;    ///< an entry file (the one named, or one that an overlay extends)
  bool overlay = false;  ///< has `extends`: its changes apply to the documents before it
};

const std::regex& agent_id_pattern() {
  static const std::regex re("^[A-Z][A-Z0-9_]{1,15}$");
  return re;
}
const std::regex& snake_pattern() {
  static const std::regex re("^[a-z][a-z0-9_]*$");
  return re;
}

class Loader {
 public:
  void load_entry_file(const std::filesystem::path& path) {
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(path, ec);
    parse_file(path, canonical, nullptr, true);
  }

  void load_entry_text(const std::string& text, const std::string& name,
                       const std::filesystem::path& base_dir) {
    if (auto root = parse_toml_text(text, name, d_)) add_document(Document{name, base_dir, std::move(*root), true}, name);
  }

  /// Every file read, in reading order (the entry file first).
  const std::vector<std::filesystem::path>& files() const { return files_; }
  /// The file the entry file extends, or empty.
  const std::filesystem::path& base_file() const { return base_file_; }

  Scenario build() {
    d_.throw_if_any();  // nothing else makes sense over unreadable files
    Scenario s;
    read_top_level(s);
    read_agents_and_issues(s);
    d_.throw_if_any();  // every reference below needs the ids
    read_interests(s);
    read_initial_alignment(s);
    read_events(s);
    read_choices(s);
    check_decision_windows(s);
    read_eras(s);
    check_requires_cycles(s);
    check_streams(s);
    d_.throw_if_any();
    return s;
  }

 private:
  void parse_file(const std::filesystem::path& shown, const std::filesystem::path& canonical,
                  const Value* site, bool entry) {
    if (std::find(stack_.begin(), stack_.end(), canonical) != stack_.end()) {
      std::string cycle;
      for (const auto& p : stack_) cycle += p.filename().string() + " -> ";
      d_.at(*site, "include cycle: " + cycle + canonical.filename().string());
      return;
    }
    if (loaded_.count(canonical)) {
      d_.at(*site, "file '" + shown.string() + "' is included more than once");
      return;
    }
    auto root = read_toml_file(canonical, shown.string(), site, budget_, d_);
    if (!root) return;
    loaded_.insert(canonical);
    files_.push_back(canonical);
    stack_.push_back(canonical);
    add_document(Document{shown.string(), canonical.parent_path(), std::move(*root), entry}, shown.string());
    stack_.pop_back();
  }

  void add_document(Document doc, const std::string& shown) {
    const Value root = doc.root;  // a copy: docs_ may reallocate while bases and includes are read
    const auto dir = doc.dir;
    // An overlay's base is read first, so that the overlay's changes apply to what it extends.
    const auto& table = root.as_table();
    if (const auto it = table.find("extends"); it != table.end()) {
      doc.overlay = true;
      if (!doc.entry) {
        d_.at(it->second, shown + ": only the file named on the command line (or one it extends) may use 'extends'");
      } else if (!it->second.is_string()) {
        d_.at(it->second, shown + ": 'extends' must be the path of the base scenario, found " + type_name(it->second));
      } else if (it->second.as_string().str.empty()) {
        d_.at(it->second, shown + ": 'extends' is empty; expected the path of the base scenario");
      } else {
        const std::filesystem::path rel = it->second.as_string().str;
        std::error_code ec;
        const auto canonical = std::filesystem::weakly_canonical(rel.is_absolute() ? rel : dir / rel, ec);
        if (base_file_.empty()) base_file_ = canonical;  // the outermost overlay's extends is read first
        parse_file(std::filesystem::path(shown).parent_path() / rel, canonical, &it->second, true);
      }
    }
    docs_.push_back(std::move(doc));
    Fields f(root, shown, d_);
    for (const char* key : {"scenario", "parameters", "agents", "issues", "interests", "initial_alignment", "events",
                            "choices", "eras", "extends", "remove", "replace", "patch"}) {
      f.find(key);
    }
    for (const char* key : {"remove", "replace", "patch"}) {
      if (table.count(key) && !table.count("extends")) {
        d_.at(table.at(key), shown + ": '" + key + "' changes a base scenario, so it needs 'extends'");
      }
    }
    // Includes are read right away, depth first, so files appear in reading order.
    const auto* includes = f.array("include", false, "an array of file paths");
    if (!includes) return;
    for (const auto& inc : *includes) {
      if (!inc.is_string()) {
        d_.at(inc, shown + ": 'include' entries must be file paths (strings), found " + type_name(inc));
        continue;
      }
      if (inc.as_string().str.empty()) {
        d_.at(inc, shown + ": an 'include' entry is empty; expected the path of a scenario file");
        continue;
      }
      const std::filesystem::path rel = inc.as_string().str;
      const auto full = rel.is_absolute() ? rel : dir / rel;
      std::error_code ec;
      parse_file(std::filesystem::path(shown).parent_path() / rel,
                 std::filesystem::weakly_canonical(full, ec), &inc, false);
    }
  }

  /// All tables named `key` across the documents, in reading order.
  std::vector<std::pair<const Document*, const Value*>> each(const std::string& key) const {
    std::vector<std::pair<const Document*, const Value*>> out;
    for (const auto& doc : docs_) {
      const auto& t = doc.root.as_table();
      const auto it = t.find(key);
      if (it != t.end()) out.emplace_back(&doc, &it->second);
    }
    return out;
  }

  /// `base` and `base_fnv1a`, which the program writes into a resolved scenario (to_toml); an
  /// overlay's are computed anew once it has loaded.
  void read_bases(Fields& f, Scenario& s) {
    s.base.clear();
    s.base_fnv1a.clear();
    const auto* names = f.array("base", false, "an array of scenario names");
    const auto* hashes = f.array("base_fnv1a", false, "an array of hashes, 16 hex digits each");
    static const std::regex hex("^[0-9a-f]{16}$");
    for (const auto* list : {names, hashes}) {
      for (std::size_t k = 0; list && k < list->size(); ++k) {
        const Value& v = (*list)[k];
        if (!v.is_string() || (list == hashes && !std::regex_match(v.as_string().str, hex))) {
          d_.at(v, std::string("[scenario]: '") + (list == names ? "base' holds scenario names" :
                                                   "base_fnv1a' holds hashes of 16 lower-case hex digits"));
          continue;
        }
        (list == names ? s.base : s.base_fnv1a).push_back(v.as_string().str);
      }
    }
    if (s.base.size() != s.base_fnv1a.size()) {
      d_.at(f.table(), "[scenario]: 'base' and 'base_fnv1a' must have one entry each per scenario");
    }
  }

  void read_top_level(Scenario& s) {
    s.path = docs_.back().entry ? docs_.back().path : docs_.front().path;
    bool found = false;
    for (const auto& [doc, value] : each("scenario")) {
      if (!doc->entry) {
        d_.at(*value, "[scenario] belongs in the entry file only");
        continue;
      }
      if (!value->is_table()) {
        d_.at(*value, "'scenario' must be a table");
        continue;
      }
      // Each entry file's [scenario] is checked; the last (the outermost overlay) names the scenario.
      found = true;
      s.path = doc->path;
      Fields f(*value, "[scenario]", d_);
      const auto name = f.string("name", true, "a snake_case name");
      if (name && !std::regex_match(*name, snake_pattern())) {
        d_.at(*f.find("name"), "[scenario]: 'name' must be snake_case (a-z, 0-9, _), found \"" + *name + "\"");
      }
      s.name = name.value_or("");
      s.title = f.string("title", true, "a one-line title").value_or("");
      s.description = f.string("description", false).value_or("");
      s.question = f.string("question", false).value_or("");
      read_bases(f, s);
      s.source.clear();
      if (const auto* source = f.array("source", false, "an array of paragraph numbers")) {
        for (const auto& v : *source) {
          if (v.is_integer() && v.as_integer() >= 1) {
            s.source.push_back(static_cast<int>(v.as_integer()));
          } else {
            d_.at(v, "[scenario]: 'source' holds paragraph numbers (integers >= 1), found " + std::string(type_name(v)));
          }
        }
      }
    }
    if (!found) d_.in_file(docs_.front().path, "missing [scenario] table (name, title)");

    // [parameters] is given once; an overlay's [parameters] overrides single keys.
    const Value* params = nullptr;
    for (const auto& doc : docs_) {
      const auto& t = doc.root.as_table();
      const auto it = t.find("parameters");
      if (it == t.end()) continue;
      if (!it->second.is_table()) {
        d_.at(it->second, "'parameters' must be a table");
        continue;
      }
      if (!params) {
        params = &it->second;
      } else if (doc.overlay) {
        Value merged = *params;
        for (const auto& [key, value] : it->second.as_table()) merged.as_table()[key] = value;
        owned_.push_back(std::move(merged));
        params = &owned_.back();
      } else {
        d_.at(it->second, "[parameters] defined again (first at " + where(*params) + ")");
      }
    }
    if (!params) {
      d_.in_file(docs_.front().path, "missing [parameters] table (start, end, k_a, k_r, k_b, sigma)");
      return;
    }
    Fields f(*params, "[parameters]", d_);
    Parameters& p = s.parameters;
    const auto start = f.month("start", true);
    const auto end = f.month("end", true);
    if (start) p.start = *start;
    if (end) p.end = *end;
    if (start && end && (*end < *start || *end - *start >= 32000)) {
      d_.at(*f.find("end"), "[parameters]: 'end' must be a month after 'start' and within 32000 months of it");
    }
    for (const auto& row : parameter_table()) {
      const std::string range = "a number in [" + format_number(row.lo) + ", " + format_number(row.hi) + "]";
      if (const auto x = f.number(row.name, false, row.lo, row.hi, range)) row.set(p, *x);
    }
  }

  void read_agents_and_issues(Scenario& s) {
    std::map<std::string, const Value*> seen;
    std::map<int, std::string> ccodes;
    for (const auto& [doc, value] : each("agents")) {
      Fields top(doc->root, doc->path, d_, false);
      top.tables("agents", "[[agents]] with id, name, capability (and optionally note, ccode)", [&](const Value& t) {
        Fields f(t, "agent", d_);
        Agent a;
        a.id = f.string("id", true, "an id such as \"PK\"").value_or("");
        a.name = f.string("name", true, "a display name").value_or("");
        a.capability = f.number("capability", true, 1e-9, 1e9, "a number > 0").value_or(1.0);
        a.note = f.string("note", false).value_or("");
        a.ccode = static_cast<int>(f.integer("ccode", false, 1, 999, "a Correlates of War state code, 1-999").value_or(0));
        if (a.ccode && ccodes.count(a.ccode)) {
          d_.at(*f.find("ccode"), "agent: ccode " + std::to_string(a.ccode) + " is already the code of agent '" +
                                      ccodes[a.ccode] + "'");
        } else if (a.ccode) {
          ccodes[a.ccode] = a.id;
        }
        if (!a.id.empty() && !std::regex_match(a.id, agent_id_pattern())) {
          d_.at(*f.find("id"), "agent: 'id' must be 2-16 characters A-Z, 0-9, _ starting with a letter, found \"" +
                                   a.id + "\"");
        } else if (seen.count(a.id)) {
          d_.at(*f.find("id"), "duplicate agent id '" + a.id + "' (first at " + where(*seen[a.id]) + ")");
        } else if (!a.id.empty()) {
          seen[a.id] = f.find("id");
          agent_sites_.push_back(seen[a.id]);
          s.agents.push_back(std::move(a));
        }
      });
    }
    if (s.agents.size() < 2 || s.agents.size() > 16) {
      const std::string msg = "a scenario needs 2 to 16 [[agents]], found " + std::to_string(s.agents.size());
      // At the only agent, or at the first one too many.
      if (s.agents.empty()) {
        d_.in_file(docs_.front().path, msg);
      } else {
        d_.at(*agent_sites_[std::min<std::size_t>(s.agents.size(), 17) - 1], msg);
      }
    }
    seen.clear();
    for (const auto& [doc, value] : each("issues")) {
      Fields top(doc->root, doc->path, d_, false);
      top.tables("issues", "[[issues]] with id, meaning", [&](const Value& t) {
        Fields f(t, "issue", d_);
        Issue i;
        i.id = f.string("id", true, "a snake_case id").value_or("");
        i.meaning = f.string("meaning", true, "a one-line meaning of -1 and +1").value_or("");
        if (!i.id.empty() && !std::regex_match(i.id, snake_pattern())) {
          d_.at(*f.find("id"), "issue: 'id' must be snake_case, found \"" + i.id + "\"");
        } else if (seen.count(i.id)) {
          d_.at(*f.find("id"), "duplicate issue id '" + i.id + "' (first at " + where(*seen[i.id]) + ")");
        } else if (!i.id.empty()) {
          seen[i.id] = f.find("id");
          s.issues.push_back(std::move(i));
        }
      });
    }
    if (s.issues.empty()) d_.in_file(docs_.front().path, "a scenario needs at least one [[issues]] entry");
  }

  int agent_ref(const Scenario& s, const Value& v, const std::string& context, const std::string& key) {
    if (!v.is_string()) {
      d_.at(v, context + ": '" + key + "' must be an agent id, found " + type_name(v));
      return -1;
    }
    const int i = s.agent_index(v.as_string().str);
    if (i < 0) d_.at(v, context + ": unknown agent '" + v.as_string().str + "' in '" + key + "'; agents are " + agent_list(s));
    return i;
  }

  int agent_field(const Scenario& s, Fields& f, const std::string& key) {
    const Value* v = f.need(key, "an agent id");
    return v ? agent_ref(s, *v, f.context(), key) : -1;
  }

  static std::string agent_list(const Scenario& s) {
    std::string out;
    for (const auto& a : s.agents) out += (out.empty() ? "" : ", ") + a.id;
    return out;
  }

  int issue_field(const Scenario& /*s*/, Fields& f, const std::string& key) {
    const Value* v = f.need(key, "an issue id");
    if (!v) return -1;
    if (!v->is_string()) {
      d_.at(*v, f.context() + ": '" + key + "' must be an issue id, found " + type_name(*v));
      return -1;
    }
    const auto it = issue_ids_.find(v->as_string().str);
    const int i = it == issue_ids_.end() ? -1 : it->second;
    if (i < 0) d_.at(*v, f.context() + ": unknown issue '" + v->as_string().str + "'");
    return i;
  }

  void read_interests(Scenario& s) {
    const int n = s.agent_count();
    const int m = s.issue_count();
    s.interests.assign(n, std::vector<Interest>(m));
    std::vector<std::vector<const Value*>> set(n, std::vector<const Value*>(m, nullptr));
    std::vector<const Value*> agent_site(n, nullptr);
    for (int i = 0; i < m; ++i) issue_ids_.emplace(s.issues[i].id, i);
    for (const auto& [doc, value] : each("interests")) {
      if (!value->is_table()) {
        d_.at(*value, "'interests' must be a table of [interests.AGENT] tables");
        continue;
      }
      for (const auto& [agent_id, per_issue] : value->as_table()) {
        const int a = s.agent_index(agent_id);
        if (a < 0) {
          d_.at(per_issue, "[interests." + agent_id + "]: unknown agent '" + agent_id + "'; agents are " + agent_list(s));
          continue;
        }
        if (!per_issue.is_table()) {
          d_.at(per_issue, "[interests." + agent_id + "] must be a table of issue = { position, salience }");
          continue;
        }
        if (!agent_site[a]) agent_site[a] = &per_issue;
        for (const auto& [issue_id, entry] : per_issue.as_table()) {
          const std::string context = "interests of " + agent_id + " in '" + issue_id + "'";
          const auto known = issue_ids_.find(issue_id);
          const int i = known == issue_ids_.end() ? -1 : known->second;
          if (i < 0) {
            d_.at(entry, context + ": unknown issue '" + issue_id + "'");
            continue;
          }
          if (set[a][i]) {
            d_.at(entry, context + ": given again (first at " + where(*set[a][i]) + ")");
            continue;
          }
          set[a][i] = &entry;
          if (!entry.is_table()) {
            d_.at(entry, context + ": expected { position = [-1, 1], salience = >= 0 }, found " + type_name(entry));
            continue;
          }
          Fields f(entry, context, d_);
          auto& interest = s.interests[a][i];
          interest.position = f.number("position", true, -1, 1, "a number in [-1, 1]").value_or(0);
          interest.salience = f.number("salience", true, 0, 1e6, "a number >= 0").value_or(0);
          interest.note = f.string("note", false).value_or("");
        }
      }
    }
    for (int a = 0; a < n; ++a) {
      double total = 0;
      for (int i = 0; i < m; ++i) {
        total += s.interests[a][i].salience;
        if (!set[a][i]) {
          const std::string msg = "agent '" + s.agents[a].id + "' has no interest for issue '" + s.issues[i].id +
                                  "'; expected " + s.issues[i].id + " = { position = ..., salience = ... } in [interests." +
                                  s.agents[a].id + "]";
          d_.at(agent_site[a] ? *agent_site[a] : *agent_sites_[a], msg);  // its interests, or the agent itself
        }
      }
      if (total <= 0 && agent_site[a]) {
        d_.at(*agent_site[a], "agent '" + s.agents[a].id + "': saliences must not all be 0");
      }
    }
  }

  void read_initial_alignment(Scenario& s) {
    for (const auto& [doc, value] : each("initial_alignment")) {
      Fields top(doc->root, doc->path, d_, false);
      top.tables("initial_alignment", "[[initial_alignment]] with from, to, value", [&](const Value& t) {
        Fields f(t, "initial_alignment", d_);
        InitialAlignment ia;
        ia.from = agent_field(s, f, "from");
        ia.to = agent_field(s, f, "to");
        ia.value = f.number("value", true, -1, 1, "a number in [-1, 1]").value_or(0);
        const bool both = f.boolean("both_ways").value_or(false);
        if (ia.from < 0 || ia.to < 0) return;
        if (ia.from == ia.to) {
          d_.at(t, "initial_alignment: 'from' and 'to' must be different agents");
          return;
        }
        s.initial_alignment.push_back(ia);
        if (both) s.initial_alignment.push_back({ia.to, ia.from, ia.value});
      });
    }
  }

  void check_in_horizon(const Scenario& s, const Value& at, const std::string& context, Month m, int slack = 0) {
    const auto& p = s.parameters;
    if (m + (-slack) < p.start || p.end < m + slack) {
      d_.at(at, context + ": " + m.str() + (slack ? " ± " + std::to_string(slack) + " months" : std::string()) +
                    " is outside the horizon " + p.start.str() + " to " + p.end.str());
    }
  }

  void read_events(Scenario& s) {
    // First every id, so that events may refer to events defined later or in other files.
    std::vector<const Value*> tables;
    for (const auto& doc : docs_) {
      if (doc.overlay) apply_overlay(doc, tables, choice_tables_);
      Fields top(doc.root, doc.path, d_, false);
      if (doc.root.as_table().count("events")) {
        top.tables("events", "[[events]]", [&](const Value& t) { tables.push_back(&t); });
      }
      if (doc.root.as_table().count("choices")) {
        top.tables("choices", "[[choices]] with id, title, actor, from, to, source, options",
                   [&](const Value& t) { choice_tables_.push_back(&t); });
      }
    }
    std::map<std::string, const Value*> seen;
    for (const Value* t : tables) {
      Event e;
      const auto& table = t->as_table();
      const auto it = table.find("id");
      if (it == table.end() || !it->second.is_string()) {
        d_.at(*t, "event: missing 'id' (a unique snake_case id)");
        continue;
      }
      e.id = it->second.as_string().str;
      if (!std::regex_match(e.id, snake_pattern())) {
        d_.at(it->second, "event: 'id' must be snake_case (a-z, 0-9, _), found \"" + e.id + "\"");
        continue;
      }
      if (seen.count(e.id)) {
        d_.at(it->second, "duplicate event id '" + e.id + "' (first at " + where(*seen[e.id]) + ")");
        continue;
      }
      seen[e.id] = &it->second;
      s.events.push_back(std::move(e));
      event_tables_.push_back(t);
    }
    for (std::size_t k = 0; k < s.events.size(); ++k) event_ids_.emplace(s.events[k].id, static_cast<int>(k));
    for (std::size_t k = 0; k < s.events.size(); ++k) read_event(s, s.events[k], *event_tables_[k]);
  }

  void read_eras(Scenario& s) {
    std::map<std::string, const Value*> seen;
    for (const auto& [doc, value] : each("eras")) {
      Fields top(doc->root, doc->path, d_, false);
      top.tables("eras", "[[eras]] with id, title, from, to", [&](const Value& t) {
        Fields f(t, "era", d_);
        Era e;
        e.id = f.string("id", true, "a snake_case id").value_or("");
        e.title = f.string("title", true, "a title").value_or("");
        const auto from = f.month("from", true);
        const auto to = f.month("to", true);
        if (!e.id.empty() && !std::regex_match(e.id, snake_pattern())) {
          d_.at(*f.find("id"), "era: 'id' must be snake_case, found \"" + e.id + "\"");
          return;
        }
        if (seen.count(e.id)) {
          d_.at(*f.find("id"), "duplicate era id '" + e.id + "' (first at " + where(*seen[e.id]) + ")");
          return;
        }
        if (!from || !to) return;
        seen[e.id] = f.find("id");
        e.from = *from;
        e.to = *to;
        check_in_horizon(s, *f.find("from"), "era '" + e.id + "' 'from'", e.from);
        check_in_horizon(s, *f.find("to"), "era '" + e.id + "' 'to'", e.to);
        if (e.to < e.from) d_.at(*f.find("to"), "era '" + e.id + "': 'to' is before 'from'");
        s.eras.push_back(std::move(e));
      });
    }
  }

  /// The position of each event id among `tables` (the first, if an id is given twice).
  static std::unordered_map<std::string, int> event_table_index(const std::vector<const Value*>& tables) {
    std::unordered_map<std::string, int> index;
    for (std::size_t k = 0; k < tables.size(); ++k) {
      const auto& t = tables[k]->as_table();
      const auto it = t.find("id");
      if (it != t.end() && it->second.is_string()) index.emplace(it->second.as_string().str, static_cast<int>(k));
    }
    return index;
  }

  /// An overlay's `remove`, `replace` and `patch`, applied to the events and choices read before it.
  void apply_overlay(const Document& doc, std::vector<const Value*>& tables, std::vector<const Value*>& choices) {
    // Events are looked up by id in constant time and removed at the end: an overlay may name many.
    // Choices are few: looked up in order.
    auto index = event_table_index(tables);
    const auto find_event_table = [&](const std::vector<const Value*>& list, const std::string& id) {
      if (&list != &tables) {
        const auto in_list = event_table_index(list);
        const auto it = in_list.find(id);
        return it == in_list.end() ? -1 : it->second;
      }
      const auto it = index.find(id);
      return it == index.end() ? -1 : it->second;
    };
    struct Compact {
      std::vector<const Value*>& tables;
      ~Compact() { std::erase(tables, nullptr); }
    } compact{tables};
    Fields top(doc.root, doc.path, d_, false);
    const std::string base = " in the scenario it extends";
    if (const auto* removes = top.array("remove", false, "an array of event ids")) {
      for (const auto& v : *removes) {
        if (!v.is_string()) {
          d_.at(v, doc.path + ": 'remove' names events by id, found " + type_name(v));
          continue;
        }
        const int k = find_event_table(tables, v.as_string().str);
        if (k < 0) {
          d_.at(v, doc.path + ": cannot remove '" + v.as_string().str + "': no such event" + base);
        } else {
          tables[k] = nullptr;
          index.erase(v.as_string().str);
          removed_[v.as_string().str] = &v;
        }
      }
    }
    top.tables("replace", "[[replace]] with a whole event", [&](const Value& t) {
      const auto& table = t.as_table();
      const auto it = table.find("id");
      if (it == table.end() || !it->second.is_string()) {
        d_.at(t, doc.path + ": [[replace]] needs the 'id' of the event it replaces");
        return;
      }
      const int k = find_event_table(tables, it->second.as_string().str);
      if (k < 0) {
        d_.at(it->second, doc.path + ": cannot replace '" + it->second.as_string().str + "': no such event" + base);
      } else {
        tables[k] = &t;
      }
    });
    top.tables("patch", "[[patch]] with event = ID (or choice = ID) and the fields to change", [&](const Value& p) {
      const auto& patch = p.as_table();
      const auto it = patch.find("event");
      const auto ct = patch.find("choice");
      const bool is_choice = it == patch.end() && ct != patch.end();
      const auto& named = is_choice ? ct->second : (it == patch.end() ? p : it->second);
      if ((it == patch.end()) == (ct == patch.end()) || !named.is_string()) {
        d_.at(p, doc.path + ": [[patch]] needs either 'event' or 'choice', the id of what it changes");
        return;
      }
      auto& list = is_choice ? choices : tables;
      const int k = find_event_table(list, named.as_string().str);
      if (k < 0) {
        d_.at(named, doc.path + ": cannot patch '" + named.as_string().str + "': no such " +
                         (is_choice ? "choice" : "event") + base);
        return;
      }
      Value merged = *list[k];
      auto& fields = merged.as_table();
      for (const auto& [key, value] : patch) {
        if (key == "event" || key == "choice") continue;
        if (key == "id") {
          d_.at(value, doc.path + ": a patch cannot change an id; remove the event and add a new one");
          continue;
        }
        const auto old = fields.find(key);
        if (key == "decision" && value.is_table() && old != fields.end() && old->second.is_table()) {
          for (const auto& [sub, v] : value.as_table()) old->second.as_table()[sub] = v;  // patch single terms
        } else {
          fields[key] = value;
        }
      }
      owned_.push_back(std::move(merged));
      list[k] = &owned_.back();
    });
  }

  std::vector<int> event_refs(const Scenario& s, Fields& f, const std::string& key, const Event& self) {
    std::vector<int> out;
    const auto* items = f.array(key, false, "an array of event ids");
    if (!items) return out;
    for (const auto& v : *items) {
      const int k = event_ref(s, v, f.context(), key);
      if (k < 0) continue;
      if (s.events[k].id == self.id) {
        d_.at(v, f.context() + ": an event cannot name itself in '" + key + "'");
        continue;
      }
      out.push_back(k);
    }
    return out;
  }

  int event_ref(const Scenario& /*s*/, const Value& v, const std::string& context, const std::string& key) {
    if (!v.is_string()) {
      d_.at(v, context + ": '" + key + "' must name events by id, found " + type_name(v));
      return -1;
    }
    const auto it = event_ids_.find(v.as_string().str);
    const int k = it == event_ids_.end() ? -1 : it->second;
    if (k >= 0) return k;
    if (const auto removed = removed_.find(v.as_string().str); removed != removed_.end()) {
      // The overlay removed what the base still needs: the overlay's line is the one to change.
      d_.at(*removed->second, removed->second->location().file_name() + ": cannot remove '" + removed->first + "': " +
                                  context + " names it in '" + key + "' (" + where(v) + ")");
    } else {
      d_.at(v, context + ": unknown event '" + v.as_string().str + "' in '" + key + "'");
    }
    return k;
  }

  void read_event(const Scenario& s, Event& e, const Value& t) {
    Fields f(t, "event '" + e.id + "'", d_);
    f.find("id");
    const auto date = f.month("date", true);
    e.title = f.string("title", true, "a one-line title").value_or("");
    const auto kind = f.string("kind", true, "an event kind");
    if (kind) {
      const auto& kinds = event_kinds();
      if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) {
        std::string list;
        for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
        d_.at(*f.find("kind"), f.context() + ": unknown kind '" + *kind + "'; expected one of " + list);
      }
      e.kind = *kind;
    }
    if (const auto* actors = f.array("actors", true, "an array of agent ids")) {
      for (const auto& v : *actors) {
        const int a = agent_ref(s, v, f.context(), "actors");
        if (a >= 0) e.actors.push_back(a);
      }
    }
    e.context = f.boolean("context").value_or(false);
    e.reference = f.string("reference", false, "a standard work (author, title, publisher, year)").value_or("");
    if (e.context && e.reference.empty()) {
      d_.at(t, f.context() + ": a context event needs 'reference', the standard work it rests on");
    }
    e.source = paragraphs(f, "source", !e.context);
    if (!e.context && f.find("source") && e.source.empty()) {
      d_.at(*f.find("source"), f.context() + ": 'source' must cite at least one paragraph");
    }
    e.note = f.string("note", false).value_or("");
    e.exogenous = f.string("exogenous", false, "one line: why the event lies outside the agents' choices").value_or("");
    const Value* probability = f.find("probability");
    const Value* jitter = f.find("jitter_months");
    e.probability = f.number("probability", false, 0, 1, "a probability in [0, 1]").value_or(1.0);
    e.jitter_months = static_cast<int>(f.integer("jitter_months", false, 0, 600, "an integer in [0, 600]").value_or(0));
    e.required = event_refs(s, f, "requires", e);
    e.excluded = event_refs(s, f, "excludes", e);

    if (const Value* dv = f.find("decision")) {
      if (!dv->is_table()) {
        d_.at(*dv, f.context() + ": 'decision' must be a table with from, to, b0");
      } else {
        if (probability) d_.at(*probability, f.context() + ": a decision event takes no 'probability' (its logit decides)");
        if (jitter) d_.at(*jitter, f.context() + ": a decision event takes no 'jitter_months' (its window decides)");
        if (kind && act_class_of(*kind) < 0) {
          d_.at(*f.find("kind"), f.context() + ": an event of kind '" + *kind +
                                     "' is not an act of an agent's choosing and cannot be a decision; schedule it");
        }
        e.decision = read_decision(s, *dv, f.context() + " decision");
        decision_sites_[e.id] = dv;
        if (date && e.decision && e.decision->windowed &&
            (*date < e.decision->from || e.decision->to < *date)) {
          d_.at(*f.find("date"), f.context() + ": 'date' " + date->str() + " must lie in the decision window " +
                                     e.decision->from.str() + " to " + e.decision->to.str());
        }
      }
    }
    if (!e.exogenous.empty() && e.decision) {
      d_.at(*f.find("exogenous"), f.context() + ": 'exogenous' explains a scheduled event; a decision is an act");
    }
    if (date) {
      e.date = *date;
      check_in_horizon(s, *f.find("date"), f.context(), e.date, e.decision ? 0 : e.jitter_months);
    }

    f.tables("shocks", "[[events.shocks]] with from, to, goldstein or mean", [&](const Value& st) {
      Fields g(st, f.context() + " shock", d_);
      Shock k;
      k.from = agent_field(s, g, "from");
      k.to = agent_field(s, g, "to");
      k.goldstein = g.number("goldstein", false, -10, 10, "a Goldstein weight in [-10, 10]");
      k.mean = g.number("mean", false, -2, 2, "a number in [-2, 2]").value_or(0);
      if ((g.find("goldstein") != nullptr) == (g.find("mean") != nullptr)) {
        d_.at(st, g.context() + ": give exactly one of 'goldstein' or 'mean'");
      }
      k.sd = g.number("sd", false, 0, 2, "a standard deviation in [0, 2]").value_or(0);
      k.both_ways = g.boolean("both_ways").value_or(false);
      if (k.from >= 0 && k.from == k.to) d_.at(st, g.context() + ": 'from' and 'to' must be different agents");
      e.shocks.push_back(k);
    });
    f.tables("shifts", "[[events.shifts]] with agent, issue and a position or salience change", [&](const Value& st) {
      Fields g(st, f.context() + " shift", d_);
      Shift h;
      h.agent = agent_field(s, g, "agent");
      h.issue = issue_field(s, g, "issue");
      h.position = g.number("position", false, -1, 1, "a number in [-1, 1]");
      h.position_delta = g.number("position_delta", false, -2, 2, "a number in [-2, 2]");
      h.salience = g.number("salience", false, 0, 1e6, "a number >= 0");
      h.salience_delta = g.number("salience_delta", false, -1e6, 1e6, "a number");
      if (g.find("position") && g.find("position_delta")) {
        d_.at(st, g.context() + ": give 'position' or 'position_delta', not both");
      }
      if (g.find("salience") && g.find("salience_delta")) {
        d_.at(st, g.context() + ": give 'salience' or 'salience_delta', not both");
      }
      if (!g.find("position") && !g.find("position_delta") && !g.find("salience") && !g.find("salience_delta")) {
        d_.at(st, g.context() + ": expected at least one of position_delta, salience_delta (or, for a regime "
                                "change, position, salience)");
      }
      h.durable = g.boolean("durable").value_or(true);
      if ((h.position || h.salience) && !regime_change(e.kind)) {
        d_.at(*g.find(h.position ? "position" : "salience"),
              g.context() + ": an absolute '" + std::string(h.position ? "position" : "salience") +
                  "' is kept for regime changes (events of kind founding, succession or collapse); use '" +
                  (h.position ? "position_delta" : "salience_delta") + "'");
      }
      if ((h.position || h.salience) && g.find("durable") && !h.durable) {
        d_.at(*g.find("durable"), g.context() + ": an absolute setting moves the anchor too; it cannot be 'durable = false'");
      }
      e.shifts.push_back(h);
    });
    f.tables("capabilities", "[[events.capabilities]] with agent and value or factor", [&](const Value& st) {
      Fields g(st, f.context() + " capability change", d_);
      CapabilityChange c;
      c.agent = agent_field(s, g, "agent");
      c.value = g.number("value", false, 1e-9, 1e9, "a number > 0");
      c.factor = g.number("factor", false, 1e-9, 1e9, "a number > 0");
      if ((g.find("value") != nullptr) == (g.find("factor") != nullptr)) {
        d_.at(st, g.context() + ": give exactly one of 'value' or 'factor'");
      }
      e.capabilities.push_back(c);
    });
    f.tables("renames", "[[events.renames]] with agent and name", [&](const Value& st) {
      Fields g(st, f.context() + " rename", d_);
      Rename r;
      r.agent = agent_field(s, g, "agent");
      r.name = g.string("name", true, "the new display name").value_or("");
      e.renames.push_back(r);
    });
  }

  std::optional<Decision> read_decision(const Scenario& s, const Value& t, const std::string& context) {
    Fields f(t, context, d_);
    Decision dec;
    const auto from = f.month("from", false);
    const auto to = f.month("to", false);
    if (f.find("from") && !f.find("to")) d_.at(t, context + ": missing 'to' (the window's last month)");
    if (f.find("to") && !f.find("from")) d_.at(t, context + ": missing 'from' (the window's first month)");
    dec.b0 = f.number("b0", true, -50, 50, "a log-odds intercept in [-50, 50]").value_or(0);
    dec.near_certain = f.string("near_certain", false, "why the essay makes the act near-certain").value_or("");
    f.tables("dyads", "{ a, b, coef }", [&](const Value& dt) {
      Fields g(dt, context + " dyad", d_);
      DyadCoefficient c;
      c.a = agent_field(s, g, "a");
      c.b = agent_field(s, g, "b");
      c.coef = g.number("coef", true, -100, 100, "a coefficient in [-100, 100]").value_or(0);
      if (c.a >= 0 && c.a == c.b) d_.at(dt, g.context() + ": 'a' and 'b' must be different agents");
      dec.dyads.push_back(c);
    });
    f.tables("interests", "{ agent, issue, coef }", [&](const Value& it) {
      Fields g(it, context + " interest term", d_);
      InterestCoefficient c;
      c.agent = agent_field(s, g, "agent");
      c.issue = issue_field(s, g, "issue");
      c.coef = g.number("coef", true, -100, 100, "a coefficient in [-100, 100]").value_or(0);
      dec.interests.push_back(c);
    });
    f.tables("power", "{ a, b, coef }", [&](const Value& pt) {
      Fields g(pt, context + " power term", d_);
      DyadCoefficient c;
      c.a = agent_field(s, g, "a");
      c.b = agent_field(s, g, "b");
      c.coef = g.number("coef", true, -100, 100, "a coefficient in [-100, 100]").value_or(0);
      if (c.a >= 0 && c.a == c.b) d_.at(pt, g.context() + ": 'a' and 'b' must be different agents");
      dec.power.push_back(c);
    });
    f.tables("after", "{ event, coef }", [&](const Value& at) {
      Fields g(at, context + " 'after' term", d_);
      EventCoefficient c;
      const Value* ev = g.need("event", "an event id");
      c.event = ev ? event_ref(s, *ev, g.context(), "event") : -1;
      c.coef = g.number("coef", true, -100, 100, "a coefficient in [-100, 100]").value_or(0);
      dec.after.push_back(c);
    });
    if (!from && !to && !f.find("from") && !f.find("to")) return dec;  // an option: the choice gives the window
    if (!from || !to) return std::nullopt;
    dec.windowed = true;
    dec.from = *from;
    dec.to = *to;
    if (dec.to < dec.from) d_.at(*f.find("to"), context + ": window ends (" + to->str() + ") before it starts (" + from->str() + ")");
    check_in_horizon(s, *f.find("from"), context + " 'from'", dec.from);
    check_in_horizon(s, *f.find("to"), context + " 'to'", dec.to);
    return dec;
  }

  static bool regime_change(const std::string& kind) {
    return kind == "founding" || kind == "succession" || kind == "collapse";
  }

  /// Paragraph numbers of the source essay under `key`.
  std::vector<int> paragraphs(Fields& f, const std::string& key, bool required) {
    std::vector<int> out;
    if (const auto* source = f.array(key, required, "an array of paragraph numbers of the source essay")) {
      for (const auto& v : *source) {
        if (!v.is_integer() || v.as_integer() < 1 || v.as_integer() > 100000) {
          d_.at(v, f.context() + ": '" + key + "' holds paragraph numbers (integers >= 1), found " + type_name(v));
          continue;
        }
        out.push_back(static_cast<int>(v.as_integer()));
      }
    }
    return out;
  }

  void read_choices(Scenario& s) {
    std::map<std::string, const Value*> seen;
    for (const Value* t : choice_tables_) {
      Choice c;
      Fields f(*t, "choice", d_, false);
      c.id = f.string("id", true, "a unique snake_case id").value_or("");
      if (c.id.empty()) continue;
      const Value* id_site = f.find("id");
      if (!std::regex_match(c.id, snake_pattern())) {
        d_.at(*id_site, "choice: 'id' must be snake_case (a-z, 0-9, _), found \"" + c.id + "\"");
        continue;
      }
      if (seen.count(c.id)) {
        d_.at(*id_site, "duplicate choice id '" + c.id + "' (first at " + where(*seen[c.id]) + ")");
        continue;
      }
      if (s.event_index(c.id) >= 0) {
        d_.at(*id_site, "choice id '" + c.id + "' is also an event's id; events and choices share one set of ids");
        continue;
      }
      seen[c.id] = id_site;
      Fields g(*t, "choice '" + c.id + "'", d_);
      g.find("id");
      c.title = g.string("title", true, "a one-line title").value_or("");
      c.actor = agent_field(s, g, "actor");
      const auto from = g.month("from", true);
      const auto to = g.month("to", true);
      c.source = paragraphs(g, "source", true);
      c.note = g.string("note", false).value_or("");
      if (from && to) {
        c.from = *from;
        c.to = *to;
        check_in_horizon(s, *g.find("from"), g.context() + " 'from'", c.from);
        check_in_horizon(s, *g.find("to"), g.context() + " 'to'", c.to);
        if (c.to < c.from) d_.at(*g.find("to"), g.context() + ": window ends before it starts");
      }
      const int index = static_cast<int>(s.choices.size());
      if (const auto* options = g.array("options", true, "an array of at least one event id")) {
        for (const auto& v : *options) {
          const int k = event_ref(s, v, g.context(), "options");
          if (k < 0) continue;
          Event& e = s.events[k];
          if (std::find(c.options.begin(), c.options.end(), k) != c.options.end()) {
            d_.at(v, g.context() + ": option '" + e.id + "' is listed twice");
          } else if (e.choice >= 0) {
            d_.at(v, g.context() + ": '" + e.id + "' is already an option of choice '" + s.choices[e.choice].id + "'");
          } else if (!e.decision) {
            d_.at(v, g.context() + ": option '" + e.id + "' needs a decision table (b0 and its terms)");
          } else if (e.decision->windowed) {
            d_.at(*decision_sites_[e.id], "event '" + e.id + "' decision: an option of choice '" + c.id +
                                              "' takes the choice's window; remove 'from' and 'to'");
          } else {
            e.choice = index;
            c.options.push_back(k);
            if (from && to && (e.date < c.from || c.to < e.date)) {
              d_.at(*event_tables_[k], "event '" + e.id + "': 'date' " + e.date.str() + " must lie in the window of choice '" +
                                           c.id + "', " + c.from.str() + " to " + c.to.str());
            }
          }
        }
        if (options->empty()) d_.at(*g.find("options"), g.context() + ": 'options' must name at least one event");
      }
      const auto option_ref = [&](const Value& v, const std::string& key) {
        const int k = event_ref(s, v, g.context(), key);
        if (k >= 0 && std::find(c.options.begin(), c.options.end(), k) == c.options.end()) {
          d_.at(v, g.context() + ": '" + key + "' must name one of the choice's options, found '" + s.events[k].id + "'");
          return -1;
        }
        return k;
      };
      if (const Value* fv = g.find("force")) c.forced = option_ref(*fv, "force");
      if (const auto* ex = g.array("exclude", false, "an array of option ids")) {
        for (const auto& v : *ex) {
          const int k = option_ref(v, "exclude");
          if (k >= 0) c.excluded.push_back(k);
        }
        if (c.forced >= 0 && std::find(c.excluded.begin(), c.excluded.end(), c.forced) != c.excluded.end()) {
          d_.at(*g.find("exclude"), g.context() + ": the forced option '" + s.events[c.forced].id + "' cannot be excluded");
        }
      }
      s.choices.push_back(std::move(c));
      choice_sites_.push_back(t);
    }
  }

  /// A decision has its own window unless it is an option of a choice.
  void check_decision_windows(const Scenario& s) {
    for (const auto& e : s.events) {
      if (e.decision && !e.decision->windowed && e.choice < 0 && decision_sites_.count(e.id)) {
        d_.at(*decision_sites_[e.id], "event '" + e.id + "' decision: missing 'from' and 'to' (its window); only an "
                                      "option of a [[choices]] entry takes its window from the choice");
      }
    }
  }

  void check_requires_cycles(const Scenario& s) {
    const int n = s.event_count();
    std::vector<int> state(n, 0);  // 0 new, 1 on the path, 2 done
    std::vector<int> path;
    std::function<bool(int)> visit = [&](int k) {
      state[k] = 1;
      path.push_back(k);
      for (int r : s.events[k].required) {
        if (state[r] == 1) {
          std::string cycle;
          const auto start = std::find(path.begin(), path.end(), r);
          for (auto it = start; it != path.end(); ++it) cycle += s.events[*it].id + " -> ";
          d_.at(*event_tables_[r], "'requires' forms a cycle: " + cycle + s.events[r].id);
          return false;
        }
        if (state[r] == 0 && !visit(r)) return false;
      }
      path.pop_back();
      state[k] = 2;
      return true;
    };
    for (int k = 0; k < n; ++k) {
      if (state[k] == 0 && !visit(k)) return;
    }
  }

  void check_streams(const Scenario& s) {
    std::map<std::uint32_t, std::string> streams;
    const auto check = [&](const std::string& id, const Value& site) {
      const auto [it, inserted] = streams.emplace(event_stream(id), id);
      if (!inserted) d_.at(site, "ids '" + it->second + "' and '" + id + "' hash to the same random stream; rename one of them");
    };
    for (int k = 0; k < s.event_count(); ++k) check(s.events[k].id, *event_tables_[k]);
    for (std::size_t c = 0; c < s.choices.size(); ++c) check(s.choices[c].id, *choice_sites_[c]);
  }

  Diagnostics d_;
  std::vector<Document> docs_;
  std::vector<std::filesystem::path> stack_;
  std::set<std::filesystem::path> loaded_;
  std::vector<std::filesystem::path> files_;
  std::filesystem::path base_file_;  ///< what the entry file extends
  std::vector<const Value*> agent_sites_;  ///< the id of each of Scenario::agents, where it is given
  std::size_t budget_ = kMaxTomlBytes;  ///< bytes the scenario's files may still hold
  std::vector<const Value*> event_tables_;
  std::unordered_map<std::string, int> event_ids_, issue_ids_;  ///< ids to indices: references may be many
  std::map<std::string, const Value*> removed_;                  ///< events an overlay removed, and where
  std::vector<const Value*> choice_tables_;  ///< as read, overlays applied
  std::vector<const Value*> choice_sites_;   ///< the table of each of Scenario::choices
  std::map<std::string, const Value*> decision_sites_;  ///< each decision table, by event id
  std::deque<Value> owned_;  ///< tables made by merging (patched events, overridden parameters)
};

/// The loaded scenario; for an overlay, with the names and hashes of the scenarios a comparison may
/// take as its baseline (Scenario::base): the one it extends is loaded on its own (as `alignsim run`
/// would) once the overlay has loaded without errors.
Scenario build_with_base(Loader& loader) {
  Scenario s = loader.build();
  if (loader.base_file().empty()) return s;
  const Scenario base = load_scenario(loader.base_file());
  s.base = {base.name};
  s.base_fnv1a = {fnv1a64_hex(to_toml(base))};
  if (!base.question.empty()) {  // a counterfactual's baseline may serve too
    s.base.insert(s.base.end(), base.base.begin(), base.base.end());
    s.base_fnv1a.insert(s.base_fnv1a.end(), base.base_fnv1a.begin(), base.base_fnv1a.end());
  }
  return s;
}

}  // namespace detail

Scenario load_scenario(const std::filesystem::path& path, std::vector<std::filesystem::path>* files) {
  detail::Loader loader;
  loader.load_entry_file(path);
  if (files) *files = loader.files();
  return detail::build_with_base(loader);
}

Scenario load_scenario_text(const std::string& text, const std::string& name,
                            const std::filesystem::path& base_dir) {
  detail::Loader loader;
  loader.load_entry_text(text, name, base_dir);
  return detail::build_with_base(loader);
}

}  // namespace alignsim
