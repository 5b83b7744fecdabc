#include <doctest/doctest.h>

#include "scenario/Month.hpp"

using alignsim::Month;

TEST_CASE("months parse, format and count") {
  const auto m = Month::parse("1954-09");
  REQUIRE(m.has_value());
  CHECK(m->year() == 1954);
  CHECK(m->month() == 9);
  CHECK(m->str() == "1954-09");
  CHECK(*Month::parse("1955-02") - *m == 5);
  CHECK((*m + 4).str() == "1955-01");
  for (const char* bad : {"1954-13", "1954-00", "1954-9", "54-09", "1954/09", "", "1954-09-01", "abcd-ef"}) {
    CHECK_MESSAGE(!Month::parse(bad).has_value(), bad);
  }
}

TEST_CASE("days since 1947-01-01 follow the Gregorian calendar") {
  const Month epoch = Month::of(1947, 1);
  CHECK(Month::of(1947, 1).days_since(epoch) == 0);
  CHECK(Month::of(1947, 2).days_since(epoch) == 31);
  CHECK(Month::of(1948, 3).days_since(epoch) == 365 + 31 + 29);  // 1948 is a leap year
  CHECK(Month::of(2000, 12).days_since(epoch) == 19693);         // 1947-01-01 to 2000-12-01
}
