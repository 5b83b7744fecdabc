#include "Scenario.hpp"

#include <algorithm>

namespace alignsim {

namespace {
template <class T>
int index_of(const std::vector<T>& items, const std::string& id) {
  const auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return x.id == id; });
  return it == items.end() ? -1 : static_cast<int>(it - items.begin());
}
}  // namespace

int Scenario::agent_index(const std::string& id) const { return index_of(agents, id); }
int Scenario::issue_index(const std::string& id) const { return index_of(issues, id); }
int Scenario::event_index(const std::string& id) const { return index_of(events, id); }
int Scenario::choice_index(const std::string& id) const { return index_of(choices, id); }

namespace {
constexpr const char* kClassNames[kActClasses] = {"contact", "agreement", "aid",       "arms",
                                                   "alliance", "un_vote",  "statement", "force"};
}

const char* act_class_name(int c) { return kClassNames[c]; }

int act_class_of(const std::string& kind) {
  static const std::vector<std::pair<std::string, int>> table = {
      {"diplomatic", 0}, {"invitation", 0}, {"visit", 0},        {"agreement", 1},    {"treaty", 1},
      {"trade", 1},      {"aid", 2},        {"arms", 3},         {"alliance", 4},     {"veto", 5},
      {"statement", 6},  {"mediation", 6},  {"war", 7},          {"incident", 7},     {"intervention", 7},
      {"withdrawal", 7}, {"sanction", 7},   {"nuclear_test", 7}};
  for (const auto& [k, c] : table) {
    if (k == kind) return c;
  }
  return -1;
}

const std::vector<ParameterInfo>& parameter_table() {
  static const std::vector<ParameterInfo> table = [] {
    std::vector<ParameterInfo> t = {
        {"k_a", 0, 1, 0.01, 0.15, "pull of alignment toward interest affinity, per month",
         [](Parameters& p) -> double& { return p.k_a; }},
        {"k_r", 0, 1, 0.0, 0.3, "reciprocity: pull of W[i,j] toward W[j,i], per month",
         [](Parameters& p) -> double& { return p.k_r; }},
        {"k_b", 0, 1, 0.0, 0.15, "structural balance, per month", [](Parameters& p) -> double& { return p.k_b; }},
        {"sigma", 0, 1, 0.005, 0.05, "standard deviation of the monthly alignment noise",
         [](Parameters& p) -> double& { return p.sigma; }},
        {"shock_scale", 0, 0.2, 0.01, 0.03, "alignment units per Goldstein point",
         [](Parameters& p) -> double& { return p.shock_scale; }},
        {"k_p", 0, 1, 0.0, 0.1, "influence: pull of positions toward consistency with alignment, per month",
         [](Parameters& p) -> double& { return p.k_p; }},
        {"k_0", 0, 1, 0.0, 0.1, "anchoring: pull of positions back toward their anchors, per month",
         [](Parameters& p) -> double& { return p.k_0; }},
    };
    // One response multiplier per class of act; a captureless lambda per class.
    using Ref = double& (*)(Parameters&);
    static constexpr Ref refs[kActClasses] = {
        [](Parameters& p) -> double& { return p.response[0]; }, [](Parameters& p) -> double& { return p.response[1]; },
        [](Parameters& p) -> double& { return p.response[2]; }, [](Parameters& p) -> double& { return p.response[3]; },
        [](Parameters& p) -> double& { return p.response[4]; }, [](Parameters& p) -> double& { return p.response[5]; },
        [](Parameters& p) -> double& { return p.response[6]; }, [](Parameters& p) -> double& { return p.response[7]; }};
    for (int c = 0; c < kActClasses; ++c) {
      t.push_back({std::string("response_") + kClassNames[c], 0, 20, 0.25, 4.0,
                   std::string("multiplier of the state terms in the logits of ") + kClassNames[c] + " decisions",
                   refs[c]});
    }
    return t;
  }();
  return table;
}

const ParameterInfo* find_parameter(const std::string& name) {
  for (const auto& row : parameter_table()) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

const std::vector<std::string>& event_kinds() {
  static const std::vector<std::string> kinds = {
      "founding", "diplomatic", "invitation", "visit",     "agreement",    "treaty",
      "aid",      "trade",      "arms",       "alliance",  "war",          "veto",
      "statement", "incident",  "succession", "intervention", "withdrawal", "sanction",
      "nuclear_test", "collapse", "mediation"};
  return kinds;
}

}  // namespace alignsim
