#include "ScenarioLoader.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "ScenarioError.hpp"
#include "TomlFields.hpp"

namespace alignsim {

std::uint32_t event_stream(const std::string& id) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, 64 bits, folded to 32
  for (unsigned char ch : id) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  const auto folded = static_cast<std::uint32_t>(h ^ (h >> 32));
  return folded == 0 ? 1u : folded;
}

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
    std::istringstream in(text);
    try {
      Document doc{name, base_dir, toml::parse<toml::discard_comments, std::map, std::vector>(in, name), true};
      add_document(std::move(doc), name);
    } catch (const toml::syntax_error& e) {
      syntax(e);
    }
  }

  Scenario build() {
    d_.throw_if_any();  // nothing else makes sense over unreadable files
    Scenario s;
    read_top_level(s);
    read_agents_and_issues(s);
    d_.throw_if_any();  // every reference below needs the ids
    read_interests(s);
    read_initial_alignment(s);
    read_events(s);
    read_eras(s);
    check_requires_cycles(s);
    check_streams(s);
    d_.throw_if_any();
    return s;
  }

 private:
  void syntax(const toml::exception& e) { d_.add(syntax_diagnostic(e)); }

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
    std::ifstream in(canonical, std::ios::binary);
    if (!in) {
      const std::string msg = "cannot open scenario file '" + shown.string() + "': " +
                              (std::filesystem::exists(canonical) ? "permission denied or not a file"
                                                                  : "no such file");
      if (site) d_.at(*site, msg); else d_.in_file(shown.string(), msg);
      return;
    }
    loaded_.insert(canonical);
    try {
      Document doc{shown.string(), canonical.parent_path(),
                   toml::parse<toml::discard_comments, std::map, std::vector>(in, shown.string()), entry};
      stack_.push_back(canonical);
      add_document(std::move(doc), shown.string());
      stack_.pop_back();
    } catch (const toml::syntax_error& e) {
      syntax(e);
    }
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
      } else {
        const std::filesystem::path rel = it->second.as_string().str;
        std::error_code ec;
        parse_file(std::filesystem::path(shown).parent_path() / rel,
                   std::filesystem::weakly_canonical(rel.is_absolute() ? rel : dir / rel, ec), &it->second, true);
      }
    }
    docs_.push_back(std::move(doc));
    Fields f(root, shown, d_);
    for (const char* key : {"scenario", "parameters", "agents", "issues", "interests", "initial_alignment", "events",
                            "eras", "extends", "remove", "replace", "patch"}) {
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
    p.k_a = f.number("k_a", false, 0, 1, "a number in [0, 1]").value_or(p.k_a);
    p.k_r = f.number("k_r", false, 0, 1, "a number in [0, 1]").value_or(p.k_r);
    p.k_b = f.number("k_b", false, 0, 1, "a number in [0, 1]").value_or(p.k_b);
    p.sigma = f.number("sigma", false, 0, 1, "a number in [0, 1]").value_or(p.sigma);
    p.shock_scale = f.number("shock_scale", false, 0, 0.2, "a number in [0, 0.2]").value_or(p.shock_scale);
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
          s.agents.push_back(std::move(a));
        }
      });
    }
    if (s.agents.size() < 2 || s.agents.size() > 16) {
      d_.in_file(docs_.front().path, "a scenario needs 2 to 16 [[agents]], found " + std::to_string(s.agents.size()));
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

  int issue_field(const Scenario& s, Fields& f, const std::string& key) {
    const Value* v = f.need(key, "an issue id");
    if (!v) return -1;
    if (!v->is_string()) {
      d_.at(*v, f.context() + ": '" + key + "' must be an issue id, found " + type_name(*v));
      return -1;
    }
    const int i = s.issue_index(v->as_string().str);
    if (i < 0) d_.at(*v, f.context() + ": unknown issue '" + v->as_string().str + "'");
    return i;
  }

  void read_interests(Scenario& s) {
    const int n = s.agent_count();
    const int m = s.issue_count();
    s.interests.assign(n, std::vector<Interest>(m));
    std::vector<std::vector<const Value*>> set(n, std::vector<const Value*>(m, nullptr));
    std::vector<const Value*> agent_site(n, nullptr);
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
          const int i = s.issue_index(issue_id);
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
          if (agent_site[a]) d_.at(*agent_site[a], msg); else d_.in_file(docs_.front().path, msg);
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
      if (doc.overlay) apply_overlay(doc, tables);
      if (!doc.root.as_table().count("events")) continue;
      Fields top(doc.root, doc.path, d_, false);
      top.tables("events", "[[events]]", [&](const Value& t) { tables.push_back(&t); });
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

  static int find_event_table(const std::vector<const Value*>& tables, const std::string& id) {
    for (std::size_t k = 0; k < tables.size(); ++k) {
      const auto& t = tables[k]->as_table();
      const auto it = t.find("id");
      if (it != t.end() && it->second.is_string() && it->second.as_string().str == id) return static_cast<int>(k);
    }
    return -1;
  }

  /// An overlay's `remove`, `replace` and `patch`, applied to the events read before it.
  void apply_overlay(const Document& doc, std::vector<const Value*>& tables) {
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
          tables.erase(tables.begin() + k);
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
    top.tables("patch", "[[patch]] with event = ID and the fields to change", [&](const Value& p) {
      const auto& patch = p.as_table();
      const auto it = patch.find("event");
      if (it == patch.end() || !it->second.is_string()) {
        d_.at(p, doc.path + ": [[patch]] needs 'event', the id of the event it changes");
        return;
      }
      const int k = find_event_table(tables, it->second.as_string().str);
      if (k < 0) {
        d_.at(it->second, doc.path + ": cannot patch '" + it->second.as_string().str + "': no such event" + base);
        return;
      }
      Value merged = *tables[k];
      auto& fields = merged.as_table();
      for (const auto& [key, value] : patch) {
        if (key == "event") continue;
        if (key == "id") {
          d_.at(value, doc.path + ": a patch cannot change an event's id; remove it and add a new event");
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
      tables[k] = &owned_.back();
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

  int event_ref(const Scenario& s, const Value& v, const std::string& context, const std::string& key) {
    if (!v.is_string()) {
      d_.at(v, context + ": '" + key + "' must name events by id, found " + type_name(v));
      return -1;
    }
    const int k = s.event_index(v.as_string().str);
    if (k < 0) d_.at(v, context + ": unknown event '" + v.as_string().str + "' in '" + key + "'");
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
    if (const auto* source = f.array("source", true, "an array of paragraph numbers of the source essay")) {
      for (const auto& v : *source) {
        if (!v.is_integer() || v.as_integer() < 1 || v.as_integer() > 100000) {
          d_.at(v, f.context() + ": 'source' holds paragraph numbers (integers >= 1), found " + type_name(v));
          continue;
        }
        e.source.push_back(static_cast<int>(v.as_integer()));
      }
      if (source->empty()) d_.at(*f.find("source"), f.context() + ": 'source' must cite at least one paragraph");
    }
    e.note = f.string("note", false).value_or("");
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
        if (probability) d_.at(*probability, f.context() + ": a decision event takes no 'probability' (its hazard decides)");
        if (jitter) d_.at(*jitter, f.context() + ": a decision event takes no 'jitter_months' (its window decides)");
        e.decision = read_decision(s, *dv, f.context() + " decision");
        if (date && e.decision && (*date < e.decision->from || e.decision->to < *date)) {
          d_.at(*f.find("date"), f.context() + ": 'date' " + date->str() + " must lie in the decision window " +
                                     e.decision->from.str() + " to " + e.decision->to.str());
        }
      }
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
        d_.at(st, g.context() + ": expected at least one of position, position_delta, salience, salience_delta");
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
    const auto from = f.month("from", true);
    const auto to = f.month("to", true);
    dec.b0 = f.number("b0", true, -50, 50, "a log-odds intercept in [-50, 50]").value_or(0);
    f.tables("dyads", "{ a, b, coef }", [&](const Value& dt) {
      Fields g(dt, context + " dyad", d_);
      DyadCoefficient c;
      c.a = agent_field(s, g, "a");
      c.b = agent_field(s, g, "b");
      c.coef = g.number("coef", true, -100, 100, "a coefficient in [-100, 100]").value_or(0);
      if (c.a >= 0 && c.a == c.b) d_.at(dt, g.context() + ": 'a' and 'b' must be different agents");
      dec.dyads.push_back(c);
    });
    f.tables("after", "{ event, coef }", [&](const Value& at) {
      Fields g(at, context + " 'after' term", d_);
      EventCoefficient c;
      const Value* ev = g.need("event", "an event id");
      c.event = ev ? event_ref(s, *ev, g.context(), "event") : -1;
      c.coef = g.number("coef", true, -100, 100, "a coefficient in [-100, 100]").value_or(0);
      dec.after.push_back(c);
    });
    if (!from || !to) return std::nullopt;
    dec.from = *from;
    dec.to = *to;
    if (dec.to < dec.from) d_.at(*f.find("to"), context + ": window ends (" + to->str() + ") before it starts (" + from->str() + ")");
    check_in_horizon(s, *f.find("from"), context + " 'from'", dec.from);
    check_in_horizon(s, *f.find("to"), context + " 'to'", dec.to);
    return dec;
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
    std::map<std::uint32_t, int> streams;
    for (int k = 0; k < s.event_count(); ++k) {
      const auto [it, inserted] = streams.emplace(event_stream(s.events[k].id), k);
      if (!inserted) {
        d_.at(*event_tables_[k], "event ids '" + s.events[it->second].id + "' and '" + s.events[k].id +
                                     "' hash to the same random stream; rename one of them");
      }
    }
  }

  Diagnostics d_;
  std::vector<Document> docs_;
  std::vector<std::filesystem::path> stack_;
  std::set<std::filesystem::path> loaded_;
  std::vector<const Value*> event_tables_;
  std::deque<Value> owned_;  ///< tables made by merging (patched events, overridden parameters)
};

}  // namespace detail

Scenario load_scenario(const std::filesystem::path& path) {
  detail::Loader loader;
  loader.load_entry_file(path);
  return loader.build();
}

Scenario load_scenario_text(const std::string& text, const std::string& name,
                            const std::filesystem::path& base_dir) {
  detail::Loader loader;
  loader.load_entry_text(text, name, base_dir);
  return loader.build();
}

}  // namespace alignsim
