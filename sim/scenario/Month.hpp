#pragma once
/// Calendar months as plain integers: the month count since year 0 (year * 12 + month - 1).

#include <optional>
#include <string>
#include <string_view>

namespace alignsim {

/// A calendar month, stored as year * 12 + (month - 1) so that differences are month counts.
struct Month {
  int value = 0;

  static constexpr Month of(int year, int month) { return Month{year * 12 + (month - 1)}; }
  constexpr int year() const { return value / 12; }
  constexpr int month() const { return value % 12 + 1; }
  friend constexpr auto operator<=>(Month, Month) = default;
  friend constexpr int operator-(Month a, Month b) { return a.value - b.value; }
  friend constexpr Month operator+(Month a, int months) { return Month{a.value + months}; }

  /// Parses exactly "YYYY-MM" (year 1000-9999, month 01-12); nullopt otherwise.
  static std::optional<Month> parse(std::string_view text);
  /// Formats as "YYYY-MM".
  std::string str() const;
  /// Days from 1947-01-01 to the first day of this month (proleptic Gregorian), for CF time axes.
  long days_since(Month epoch) const;
};

}  // namespace alignsim
