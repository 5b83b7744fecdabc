#include "Model.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

namespace alignsim {

namespace {

/// Events ordered so that each comes after the events it requires; the options of a choice stand
/// together, after everything any of them requires. Ties go by id (a choice's options by theirs),
/// so the order (and with it every result) does not depend on where an event stands in the files.
std::vector<int> processing_order(const Scenario& s) {
  const int n = s.event_count();
  // Units: one per event outside choices, one per choice.
  std::vector<int> unit_of(n);
  std::vector<std::string> unit_id;
  std::vector<std::vector<int>> members;
  for (int k = 0; k < n; ++k) {
    if (s.events[k].choice >= 0) continue;
    unit_of[k] = static_cast<int>(unit_id.size());
    unit_id.push_back(s.events[k].id);
    members.push_back({k});
  }
  for (const auto& c : s.choices) {
    const int u = static_cast<int>(unit_id.size());
    unit_id.push_back(c.id);
    std::vector<int> options = c.options;
    std::sort(options.begin(), options.end(), [&](int a, int b) { return s.events[a].id < s.events[b].id; });
    for (int k : options) unit_of[k] = u;
    members.push_back(options);
  }
  const int units = static_cast<int>(unit_id.size());
  std::vector<int> indegree(units, 0);
  std::vector<std::vector<int>> dependents(units);
  for (int k = 0; k < n; ++k) {
    for (int r : s.events[k].required) {
      if (unit_of[r] == unit_of[k]) continue;
      ++indegree[unit_of[k]];
      dependents[unit_of[r]].push_back(unit_of[k]);
    }
  }
  const auto later = [&](int a, int b) { return unit_id[a] > unit_id[b]; };
  std::priority_queue<int, std::vector<int>, decltype(later)> ready(later);
  for (int u = 0; u < units; ++u) {
    if (indegree[u] == 0) ready.push(u);
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int u = ready.top();
    ready.pop();
    for (int k : members[u]) order.push_back(k);
    for (int d : dependents[u]) {
      if (--indegree[d] == 0) ready.push(d);
    }
  }
  return order;  // the loader has rejected cycles, so every event is here
}

}  // namespace

Model::Model(const Scenario& s)
    : n_(s.agent_count()), d_(s.issue_count()), t_(s.parameters.months()), parameters_(s.parameters) {
  position_.resize(static_cast<std::size_t>(n_ * d_));
  salience_.resize(position_.size());
  for (int i = 0; i < n_; ++i) {
    for (int d = 0; d < d_; ++d) {
      position_[i * d_ + d] = static_cast<float>(s.interests[i][d].position);
      salience_[i * d_ + d] = static_cast<float>(s.interests[i][d].salience);
    }
  }
  for (const auto& a : s.agents) capability_.push_back(static_cast<float>(a.capability));
  initial_.assign(static_cast<std::size_t>(n_ * n_), 0.0f);
  initial_set_.assign(initial_.size(), 0);
  for (const auto& ia : s.initial_alignment) {
    initial_[ia.from * n_ + ia.to] = static_cast<float>(ia.value);
    initial_set_[ia.from * n_ + ia.to] = 1;
  }

  for (const auto& row : parameter_table()) {
    theta_.push_back(row.get(s.parameters));
    theta_names_.push_back(row.name);
  }
  std::vector<int> b0_index(s.events.size(), -1);
  for (std::size_t k = 0; k < s.events.size(); ++k) {
    if (!s.events[k].decision) continue;
    b0_index[k] = static_cast<int>(theta_.size());
    theta_.push_back(s.events[k].decision->b0);
    theta_names_.push_back("b0:" + s.events[k].id);
  }

  const std::vector<int> order = processing_order(s);
  position_of_.assign(order.size(), -1);
  for (std::size_t k = 0; k < order.size(); ++k) position_of_[order[k]] = static_cast<int>(k);

  const Month start = s.parameters.start;
  for (const int index : order) {
    const Event& e = s.events[index];
    CompiledEvent c;
    c.scenario_index = index;
    c.stream = event_stream(e.id);
    c.type = e.is_option() ? CompiledEvent::Type::Option
                           : (e.is_decision() ? CompiledEvent::Type::Decision : CompiledEvent::Type::Scheduled);
    c.date = e.date - start;
    c.jitter = e.jitter_months;
    c.probability = static_cast<float>(e.probability);
    c.random_occurrence = e.probability < 1.0 || e.jitter_months > 0;
    if (e.decision) {
      const Decision& d = *e.decision;
      const Month from = e.is_option() ? s.choices[e.choice].from : d.from;
      const Month to = e.is_option() ? s.choices[e.choice].to : d.to;
      c.window_from = from - start;
      c.window_to = to - start;
      c.choice = e.choice;
      auto& g = c.logit;
      g.b0 = b0_index[index];
      g.response = theta::kResponse + std::max(0, act_class_of(e.kind));
      for (const auto& dc : d.dyads) {
        g.dyad_ab.push_back(dc.a * n_ + dc.b);
        g.dyad_ba.push_back(dc.b * n_ + dc.a);
        g.dyad_coef.push_back(static_cast<float>(dc.coef));
      }
      for (const auto& ic : d.interests) {
        g.interest_cell.push_back(ic.agent * d_ + ic.issue);
        g.interest_coef.push_back(static_cast<float>(ic.coef));
      }
      for (const auto& ec : d.after) {
        g.after.push_back(position_of_[ec.event]);
        g.after_coef.push_back(static_cast<float>(ec.coef));
      }
      for (const auto& pc : d.power) {
        g.power_a.push_back(pc.a);
        g.power_b.push_back(pc.b);
        g.power_coef.push_back(static_cast<float>(pc.coef));
      }
    }
    for (int r : e.required) c.required.push_back(position_of_[r]);
    for (int x : e.excluded) c.excluded.push_back(position_of_[x]);
    for (const auto& k : e.shocks) {
      c.shocks.push_back({k.from * n_ + k.to, k.both_ways ? k.to * n_ + k.from : -1,
                          static_cast<float>(k.goldstein ? *k.goldstein : k.mean), k.goldstein.has_value(),
                          static_cast<float>(k.sd)});
    }
    for (const auto& h : e.shifts) {
      CompiledShift cs;
      cs.cell = h.agent * d_ + h.issue;
      cs.set_position = h.position.has_value();
      cs.add_position = h.position_delta.has_value();
      cs.position = static_cast<float>(h.position ? *h.position : h.position_delta.value_or(0));
      cs.set_salience = h.salience.has_value();
      cs.add_salience = h.salience_delta.has_value();
      cs.salience = static_cast<float>(h.salience ? *h.salience : h.salience_delta.value_or(0));
      cs.durable = h.durable;
      c.shifts.push_back(cs);
    }
    for (const auto& cap : e.capabilities) {
      c.capabilities.push_back({cap.agent, cap.factor.has_value(),
                                static_cast<float>(cap.factor ? *cap.factor : cap.value.value_or(1))});
    }
    events_.push_back(std::move(c));
  }

  for (std::size_t ci = 0; ci < s.choices.size(); ++ci) {
    const Choice& ch = s.choices[ci];
    CompiledChoice c;
    c.scenario_index = static_cast<int>(ci);
    c.stream = event_stream(ch.id);
    c.window_from = ch.from - start;
    c.window_to = ch.to - start;
    c.first = static_cast<int>(events_.size());
    for (int k : ch.options) {
      c.first = std::min(c.first, position_of_[k]);
      if (std::find(ch.excluded.begin(), ch.excluded.end(), k) == ch.excluded.end()) c.options.push_back(position_of_[k]);
    }
    std::sort(c.options.begin(), c.options.end());
    if (ch.forced >= 0) {
      c.forced = position_of_[ch.forced];
      c.forced_month = s.events[ch.forced].date - start;
    }
    choices_.push_back(std::move(c));
  }

  for (const auto& era : s.eras) eras_.emplace_back(era.from - start, era.to - start);

  candidates_.assign(static_cast<std::size_t>(t_), {});
  for (std::size_t k = 0; k < events_.size(); ++k) {
    const auto& c = events_[k];
    const int from = std::max(0, c.decision() ? c.window_from : c.date - c.jitter);
    const int to = std::min(t_ - 1, c.decision() ? c.window_to : c.date + c.jitter);
    for (int t = from; t <= to; ++t) candidates_[t].push_back(static_cast<int>(k));
  }
}

}  // namespace alignsim
