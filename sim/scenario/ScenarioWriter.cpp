#include "ScenarioWriter.hpp"

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

std::string str(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

template <class F>
std::string list(const std::vector<int>& items, F name) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + name(items[i]);
  return out + "]";
}

}  // namespace

std::string to_toml(const Scenario& s, const Event& e) {
  std::ostringstream o;
  const auto agent = [&](int i) { return str(s.agents[i].id); };
  const auto event = [&](int k) { return str(s.events[k].id); };
  o << "\n[[events]]\nid = " << str(e.id) << "\ndate = " << str(e.date.str()) << "\ntitle = " << str(e.title)
    << "\nkind = " << str(e.kind) << "\nactors = " << list(e.actors, agent) << "\nsource = "
    << list(e.source, [](int x) { return std::to_string(x); }) << '\n';
  if (!e.note.empty()) o << "note = " << str(e.note) << '\n';
  if (!e.is_decision()) {
    if (e.probability != 1.0) o << "probability = " << num(e.probability) << '\n';
    if (e.jitter_months != 0) o << "jitter_months = " << e.jitter_months << '\n';
  }
  if (!e.required.empty()) o << "requires = " << list(e.required, event) << '\n';
  if (!e.excluded.empty()) o << "excludes = " << list(e.excluded, event) << '\n';
  if (e.decision) {
    const auto& d = *e.decision;
    o << "decision = { from = " << str(d.from.str()) << ", to = " << str(d.to.str()) << ", b0 = " << num(d.b0);
    o << ", dyads = [";
    for (std::size_t k = 0; k < d.dyads.size(); ++k) {
      o << (k ? ", " : "") << "{ a = " << agent(d.dyads[k].a) << ", b = " << agent(d.dyads[k].b)
        << ", coef = " << num(d.dyads[k].coef) << " }";
    }
    o << "], after = [";
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
    o << "[[events.shifts]]\nagent = " << agent(h.agent) << "\nissue = " << str(s.issues[h.issue].id) << '\n';
    if (h.position) o << "position = " << num(*h.position) << '\n';
    if (h.position_delta) o << "position_delta = " << num(*h.position_delta) << '\n';
    if (h.salience) o << "salience = " << num(*h.salience) << '\n';
    if (h.salience_delta) o << "salience_delta = " << num(*h.salience_delta) << '\n';
  }
  for (const auto& c : e.capabilities) {
    o << "[[events.capabilities]]\nagent = " << agent(c.agent) << '\n';
    if (c.value) o << "value = " << num(*c.value) << '\n'; else o << "factor = " << num(*c.factor) << '\n';
  }
  for (const auto& r : e.renames) o << "[[events.renames]]\nagent = " << agent(r.agent) << "\nname = " << str(r.name) << '\n';
  return o.str();
}

std::string to_toml(const Scenario& s) {
  std::ostringstream o;
  const auto agent = [&](int i) { return str(s.agents[i].id); };
  const auto& p = s.parameters;

  o << "[scenario]\nname = " << str(s.name) << "\ntitle = " << str(s.title) << '\n';
  if (!s.description.empty()) o << "description = " << str(s.description) << '\n';
  if (!s.question.empty()) o << "question = " << str(s.question) << '\n';
  if (!s.source.empty()) o << "source = " << list(s.source, [](int x) { return std::to_string(x); }) << '\n';
  o << "\n[parameters]\nstart = " << str(p.start.str()) << "\nend = " << str(p.end.str())
    << "\nk_a = " << num(p.k_a) << "\nk_r = " << num(p.k_r) << "\nk_b = " << num(p.k_b)
    << "\nsigma = " << num(p.sigma) << "\nshock_scale = " << num(p.shock_scale) << '\n';

  for (const auto& a : s.agents) {
    o << "\n[[agents]]\nid = " << str(a.id) << "\nname = " << str(a.name) << "\ncapability = " << num(a.capability)
      << '\n';
    if (!a.note.empty()) o << "note = " << str(a.note) << '\n';
  }
  for (const auto& i : s.issues) o << "\n[[issues]]\nid = " << str(i.id) << "\nmeaning = " << str(i.meaning) << '\n';
  for (int a = 0; a < s.agent_count(); ++a) {
    o << "\n[interests." << s.agents[a].id << "]\n";
    for (int i = 0; i < s.issue_count(); ++i) {
      const auto& x = s.interests[a][i];
      o << s.issues[i].id << " = { position = " << num(x.position) << ", salience = " << num(x.salience);
      if (!x.note.empty()) o << ", note = " << str(x.note);
      o << " }\n";
    }
  }
  for (const auto& ia : s.initial_alignment) {
    o << "\n[[initial_alignment]]\nfrom = " << agent(ia.from) << "\nto = " << agent(ia.to) << "\nvalue = " << num(ia.value)
      << '\n';
  }
  for (const auto& e : s.eras) {
    o << "\n[[eras]]\nid = " << str(e.id) << "\ntitle = " << str(e.title) << "\nfrom = " << str(e.from.str())
      << "\nto = " << str(e.to.str()) << '\n';
  }
  for (const auto& e : s.events) o << to_toml(s, e);
  return o.str();
}

}  // namespace alignsim
