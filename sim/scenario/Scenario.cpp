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

const std::vector<std::string>& event_kinds() {
  static const std::vector<std::string> kinds = {
      "founding", "diplomatic", "invitation", "visit",     "agreement",    "treaty",
      "aid",      "trade",      "arms",       "alliance",  "war",          "veto",
      "statement", "incident",  "succession", "intervention", "withdrawal", "sanction",
      "nuclear_test", "collapse", "mediation"};
  return kinds;
}

}  // namespace alignsim
