// alignsim compare's printed event tables: which rows a table without --all-events shows.
#include <doctest/doctest.h>

#include "DrawSpread.hpp"

using namespace alignsim;
using alignsim::app::event_row;
using alignsim::app::EventRow;

namespace {
Difference change(double difference, double low, double high) {
  Difference d;
  d.base = 0.5;
  d.cf = 0.5 + difference;
  d.difference = difference;
  d.low = low;
  d.high = high;
  d.unpaired_low = difference - 0.01;  // wide whatever the change: not a reason to show a row
  d.unpaired_high = difference + 0.01;
  return d;
}
}  // namespace

TEST_CASE("compare's event table: a row is shown when one of its numbers prints as other than 0.0000") {
  CHECK(event_row(change(0, 0, 0)) == EventRow::Unchanged);
  // One run in 100,000 changed: every column prints +0.0000, so the row is left out (and counted).
  CHECK(event_row(change(0.00001, -0.00001, 0.00003)) == EventRow::LeftOut);
  CHECK(event_row(change(-0.00004, -0.0000499, 0)) == EventRow::LeftOut);
  CHECK(event_row(change(0, 0, 0.00001)) == EventRow::LeftOut);
  // At or past half the last printed digit, in the change or either end of its interval.
  CHECK(event_row(change(0.00005, 0.00001, 0.00009)) == EventRow::Shown);
  CHECK(event_row(change(-0.0001, -0.0003, 0.0001)) == EventRow::Shown);
  CHECK(event_row(change(0, -0.0002, 0.0002)) == EventRow::Shown);
  CHECK(event_row(change(0.00002, -0.00001, 0.00006)) == EventRow::Shown);
}

TEST_CASE("compare's event table over a posterior: the spread across draws can show a row") {
  const Difference d = change(0.00001, -0.00001, 0.00003);
  DrawSpread spread;
  CHECK(event_row(d, &spread) == EventRow::LeftOut);
  spread.high = 0.0001;  // some parameter sets move it visibly, though the mean over all runs does not
  CHECK(event_row(d, &spread) == EventRow::Shown);
  CHECK(event_row(d) == EventRow::LeftOut);
}
