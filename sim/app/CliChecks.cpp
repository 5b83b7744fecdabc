#include "CliChecks.hpp"

#include <charconv>
#include <cmath>
#include <string>

namespace alignsim::app {

CLI::Validator integer_in(std::uint64_t lo, std::uint64_t hi) {
  const std::string expected = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [=](std::string& text) {
        std::uint64_t value = 0;
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (!digits || error != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
          return "expected " + expected + ", found '" + text + "'";
        }
        return std::string();
      },
      "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

CLI::Validator number_in(double lo, double hi) {
  char range[96];
  std::snprintf(range, sizeof range, "[%g, %g]", lo, hi);
  const std::string bounds = range;
  return CLI::Validator(
      [=](std::string& text) {
        double value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
            value < lo || value > hi) {
          return "expected a number in " + bounds + ", found '" + text + "'";
        }
        return std::string();
      },
      "NUMBER in " + bounds);
}

}  // namespace alignsim::app
