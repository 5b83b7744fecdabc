#include "Model.hpp"

#include <algorithm>
#include <cmath>
#include <queue>

#include "scenario/ScenarioLoader.hpp"

namespace alignsim {

namespace {

/// Events ordered so that each comes after the events it requires; ties by id, so the order (and
/// with it every result) does not depend on where an event stands in the files.
std::vector<int> processing_order(const Scenario& s) {
  const int n = s.event_count();
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<int>> dependents(n);
  for (int k = 0; k < n; ++k) {
    for (int r : s.events[k].required) {
      ++indegree[k];
      dependents[r].push_back(k);
    }
  }
  const auto later = [&](int a, int b) { return s.events[a].id > s.events[b].id; };
  std::priority_queue<int, std::vector<int>, decltype(later)> ready(later);
  for (int k = 0; k < n; ++k) {
    if (indegree[k] == 0) ready.push(k);
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int k = ready.top();
    ready.pop();
    order.push_back(k);
    for (int d : dependents[k]) {
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

  const std::vector<int> order = processing_order(s);
  position_of_.assign(order.size(), -1);
  for (std::size_t k = 0; k < order.size(); ++k) position_of_[order[k]] = static_cast<int>(k);

  const Month start = s.parameters.start;
  for (const int index : order) {
    const Event& e = s.events[index];
    CompiledEvent c;
    c.scenario_index = index;
    c.stream = event_stream(e.id);
    c.decision = e.is_decision();
    c.date = e.date - start;
    c.jitter = e.jitter_months;
    c.probability = static_cast<float>(e.probability);
    c.random_occurrence = e.probability < 1.0 || e.jitter_months > 0;
    if (e.decision) {
      c.window_from = e.decision->from - start;
      c.window_to = e.decision->to - start;
      c.b0 = static_cast<float>(e.decision->b0);
      for (const auto& dc : e.decision->dyads) {
        c.dyad_ab.push_back(dc.a * n_ + dc.b);
        c.dyad_ba.push_back(dc.b * n_ + dc.a);
        c.dyad_coef.push_back(static_cast<float>(dc.coef));
      }
      for (const auto& ec : e.decision->after) {
        c.after.push_back(position_of_[ec.event]);
        c.after_coef.push_back(static_cast<float>(ec.coef));
      }
    }
    for (int r : e.required) c.required.push_back(position_of_[r]);
    for (int x : e.excluded) c.excluded.push_back(position_of_[x]);
    for (const auto& k : e.shocks) {
      c.shocks.push_back({k.from * n_ + k.to, k.both_ways ? k.to * n_ + k.from : -1,
                          static_cast<float>(k.effective_mean(s.parameters)), static_cast<float>(k.sd)});
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
      c.shifts.push_back(cs);
    }
    for (const auto& cap : e.capabilities) {
      c.capabilities.push_back({cap.agent, cap.factor.has_value(),
                                static_cast<float>(cap.factor ? *cap.factor : cap.value.value_or(1))});
    }
    events_.push_back(std::move(c));
  }

  for (const auto& era : s.eras) eras_.emplace_back(era.from - start, era.to - start);

  candidates_.assign(static_cast<std::size_t>(t_), {});
  for (std::size_t k = 0; k < events_.size(); ++k) {
    const auto& c = events_[k];
    const int from = std::max(0, c.decision ? c.window_from : c.date - c.jitter);
    const int to = std::min(t_ - 1, c.decision ? c.window_to : c.date + c.jitter);
    for (int t = from; t <= to; ++t) candidates_[t].push_back(static_cast<int>(k));
  }
}

}  // namespace alignsim
