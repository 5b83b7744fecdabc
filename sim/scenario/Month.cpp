#include "Month.hpp"

#include <cstdio>

namespace alignsim {

std::optional<Month> Month::parse(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  int year = 0;
  int month = 0;
  for (int i = 0; i < 4; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    year = year * 10 + (text[i] - '0');
  }
  for (int i = 5; i < 7; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    month = month * 10 + (text[i] - '0');
  }
  if (year < 1000 || month < 1 || month > 12) return std::nullopt;
  return Month::of(year, month);
}

std::string Month::str() const {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d", year(), month());
  return buffer;
}

namespace {
// Days from 0000-03-01 to the given date (Howard Hinnant's days_from_civil).
long days_from_civil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe);
}
}  // namespace

long Month::days_since(Month epoch) const {
  return days_from_civil(year(), static_cast<unsigned>(month()), 1) -
         days_from_civil(epoch.year(), static_cast<unsigned>(epoch.month()), 1);
}

}  // namespace alignsim
