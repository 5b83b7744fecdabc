#include "ScenarioWriter.hpp"

#include "Quote.hpp"

#include <charconv>
#include <sstream>

namespace alignsim {

namespace {

std::string num(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  std::string s(buffer, result.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a TOML float
  return s;
}


template <class F>
std::string list(const std::vector<int>& items, F name) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + name(items[i]);
  return out + "]";
}

std::string strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
  return out + "]";
}

}  // namespace

std::string to_toml(const Scenario& s, const Event& e) {
  std::ostringstream o;
  const auto agent = [&](int i) { return quoted(s.agents[i].id); };
  const auto event = [&](int k) { return quoted(s.events[k].id); };
  o << "\n[[events]]\nid = " << quoted(e.id) << "\ndate = " << quoted(e.date.str()) << "\ntitle = " << quoted(e.title)
    << "\nkind = " << quoted(e.kind) << "\nactors = " << list(e.actors, agent) << "\nsource = "
    << list(e.source, [](int x) { return std::to_string(x); }) << '\n';
  if (e.context) o << "context = true\nreference = " << quoted(e.reference) << '\n';
  if (!e.note.empty()) o << "note = " << quoted(e.note) << '\n';
  if (!e.exogenous.empty()) o << "exogenous = " << quoted(e.exogenous) << '\n';
  if (!e.is_decision()) {
    if (e.probability != 1.0) o << "probability = " << num(e.probability) << '\n';
    if (e.jitter_months != 0) o << "jitter_months = " << e.jitter_months << '\n';
  }
  if (!e.required.empty()) o << "requires = " << list(e.required, event) << '\n';
  if (!e.excluded.empty()) o << "excludes = " << list(e.excluded, event) << '\n';
  if (e.decision) {
    const auto& d = *e.decision;
    const auto dyads = [&](const std::vector<DyadCoefficient>& terms) {
      std::string out;
      for (std::size_t k = 0; k < terms.size(); ++k) {
        out += (k ? ", " : "") + std::string("{ a = ") + agent(terms[k].a) + ", b = " + agent(terms[k].b) +
               ", coef = " + num(terms[k].coef) + " }";
      }
      return out;
    };
    o << "decision = { ";
    if (d.windowed) o << "from = " << quoted(d.from.str()) << ", to = " << quoted(d.to.str()) << ", ";
    o << "b0 = " << num(d.b0) << ", dyads = [" << dyads(d.dyads) << "], interests = [";
    for (std::size_t k = 0; k < d.interests.size(); ++k) {
      o << (k ? ", " : "") << "{ agent = " << agent(d.interests[k].agent) << ", issue = "
        << quoted(s.issues[d.interests[k].issue].id) << ", coef = " << num(d.interests[k].coef) << " }";
    }
    o << "], power = [" << dyads(d.power) << "], ";
    if (!d.near_certain.empty()) o << "near_certain = " << quoted(d.near_certain) << ", ";
    o << "after = [";
    for (std::size_t k = 0; k < d.after.size(); ++k) {
      o << (k ? ", " : "") << "{ event = " << event(d.after[k].event) << ", coef = " << num(d.after[k].coef) << " }";
    }
    o << "] }\n";
  }
  for (const auto& k : e.shocks) {
    o << "[[events.shocks]]\nfrom = " << agent(k.from) << "\nto = " << agent(k.to) << '\n';
    if (k.goldstein) o << "goldstein = " << num(*k.goldstein) << '\n'; else o << "mean = " << num(k.mean) << '\n';
    o << "sd = " << num(k.sd) << "\nboth_ways = " << (k.both_ways ? "true" : "false") << '\n';
  }
  for (const auto& h : e.shifts) {
    o << "[[events.shifts]]\nagent = " << agent(h.agent) << "\nissue = " << quoted(s.issues[h.issue].id) << '\n';
    if (h.position) o << "position = " << num(*h.position) << '\n';
    if (h.position_delta) o << "position_delta = " << num(*h.position_delta) << '\n';
    if (h.salience) o << "salience = " << num(*h.salience) << '\n';
    if (h.salience_delta) o << "salience_delta = " << num(*h.salience_delta) << '\n';
    if (!h.durable) o << "durable = false\n";
  }
  for (const auto& c : e.capabilities) {
    o << "[[events.capabilities]]\nagent = " << agent(c.agent) << '\n';
    if (c.value) o << "value = " << num(*c.value) << '\n'; else o << "factor = " << num(*c.factor) << '\n';
  }
  for (const auto& r : e.renames) o << "[[events.renames]]\nagent = " << agent(r.agent) << "\nname = " << quoted(r.name) << '\n';
  return o.str();
}

std::string to_toml(const Scenario& s, const Choice& c) {
  std::ostringstream o;
  const auto event = [&](int k) { return quoted(s.events[k].id); };
  o << "\n[[choices]]\nid = " << quoted(c.id) << "\ntitle = " << quoted(c.title) << "\nactor = "
    << quoted(s.agents[c.actor].id) << "\nfrom = " << quoted(c.from.str()) << "\nto = " << quoted(c.to.str())
    << "\nsource = " << list(c.source, [](int x) { return std::to_string(x); }) << "\noptions = " << list(c.options, event)
    << '\n';
  if (!c.note.empty()) o << "note = " << quoted(c.note) << '\n';
  if (c.forced >= 0) o << "force = " << event(c.forced) << '\n';
  if (!c.excluded.empty()) o << "exclude = " << list(c.excluded, event) << '\n';
  return o.str();
}

std::string to_toml(const Scenario& s) {
  std::ostringstream o;
  const auto agent = [&](int i) { return quoted(s.agents[i].id); };
  const auto& p = s.parameters;

  o << "[scenario]\nname = " << quoted(s.name) << "\ntitle = " << quoted(s.title) << '\n';
  if (!s.description.empty()) o << "description = " << quoted(s.description) << '\n';
  if (!s.question.empty()) o << "question = " << quoted(s.question) << '\n';
  if (!s.source.empty()) o << "source = " << list(s.source, [](int x) { return std::to_string(x); }) << '\n';
  if (!s.base.empty()) o << "base = " << strings(s.base) << "\nbase_fnv1a = " << strings(s.base_fnv1a) << '\n';
  o << "\n[parameters]\nstart = " << quoted(p.start.str()) << "\nend = " << quoted(p.end.str()) << '\n';
  for (const auto& row : parameter_table()) o << row.name << " = " << num(row.get(p)) << '\n';

  for (const auto& a : s.agents) {
    o << "\n[[agents]]\nid = " << quoted(a.id) << "\nname = " << quoted(a.name) << "\ncapability = " << num(a.capability)
      << '\n';
    if (!a.note.empty()) o << "note = " << quoted(a.note) << '\n';
    if (a.ccode) o << "ccode = " << a.ccode << '\n';
  }
  for (const auto& i : s.issues) o << "\n[[issues]]\nid = " << quoted(i.id) << "\nmeaning = " << quoted(i.meaning) << '\n';
  for (int a = 0; a < s.agent_count(); ++a) {
    o << "\n[interests." << s.agents[a].id << "]\n";
    for (int i = 0; i < s.issue_count(); ++i) {
      const auto& x = s.interests[a][i];
      o << s.issues[i].id << " = { position = " << num(x.position) << ", salience = " << num(x.salience);
      if (!x.note.empty()) o << ", note = " << quoted(x.note);
      o << " }\n";
    }
  }
  for (const auto& ia : s.initial_alignment) {
    o << "\n[[initial_alignment]]\nfrom = " << agent(ia.from) << "\nto = " << agent(ia.to) << "\nvalue = " << num(ia.value)
      << '\n';
  }
  for (const auto& e : s.eras) {
    o << "\n[[eras]]\nid = " << quoted(e.id) << "\ntitle = " << quoted(e.title) << "\nfrom = " << quoted(e.from.str())
      << "\nto = " << quoted(e.to.str()) << '\n';
  }
  for (const auto& e : s.events) o << to_toml(s, e);
  for (const auto& c : s.choices) o << to_toml(s, c);
  return o.str();
}

}  // namespace alignsim
