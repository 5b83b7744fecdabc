#!/usr/bin/env python3
"""Generate scenarios/baseline/targets_data.toml: the regime of each dyad-year from the data sets.

Reads the dyad-year data sets of scenarios/data/ir/ and writes `level` targets on M[a,b] (the mean
over a window of the ensemble-median mutual alignment) for the spans of years whose regime the data
make clear. The rule, year by year for each of the ten dyads:

  1. Rivals in Thompson's strategic rivalries (TSS 2021)           -> hostile, band [-1, 0].
     A rivalry outweighs a pact in force the same year: an expert judgement of the whole
     relationship against a treaty text that may outlive it (China and the USSR, 1959-1980, rivals
     while ATOP and COW still list the 1950 treaty). The first and last year of a rivalry spell are
     years of transition (the data record years only, and the regime changed within them; where
     the data begin or end there is no transition): they take the regime of rules 2-4.
  2. Otherwise, an ATOP defence or offence pact (ATOP value 3)     -> alliance, band [0, 1].
  3. Otherwise, a GML militarised dispute of hostility 4 or 5 (use of force, war), with no ATOP
     commitment of any kind that year                             -> hostile, band [-1, 0].
     With an ATOP commitment (neutrality, consultation or non-aggression) the sources conflict and
     the year gets no target.
  4. Otherwise no target: the absence of a pact, a rivalry or a dispute is not a regime (neutral
     and friendly dyads look alike in these data), and neither is a consultation or non-aggression
     pact, a display of force or an arms flow on its own.

Consecutive years of one regime form a span. Spans are cut between 1971 and 1972 (so that targets
up to 1971 can be fitted and those from 1972 held out) and spans longer than 10 years are cut into
nearly equal pieces of at most 10 years, so that the persistence of a regime counts and not only its
average. A window runs from January of its first year to December of its last, clipped to the
scenario's horizon (scenarios/baseline/parameters.toml).

    data_targets.py            write scenarios/baseline/targets_data.toml
    data_targets.py --stdout   print it instead
    data_targets.py --check    exit 1 if the file is not what would be written

Standard library only (Python 3.11+). Exit status: 0 fine, 1 the file is not current, 2 bad input.
"""
from __future__ import annotations

import argparse
import difflib
import math
import pathlib
import sys
import tomllib

import ir_data

REPO = ir_data.REPO
DEFAULT_OUT = REPO / "scenarios" / "baseline" / "targets_data.toml"
DEFAULT_PARAMETERS = REPO / "scenarios" / "baseline" / "parameters.toml"
MAX_SPAN = 10          # years
HOLD_OUT_FROM = 1972   # spans never cross from 1971 into 1972
MID_FORCE = 4          # GML hostility: use of force (4) or war (5)
FIRST_YEAR, LAST_YEAR = 1946, 2000

NAMES = {"CN": "China", "IN": "India", "PK": "Pakistan", "RU": "the USSR/Russia", "US": "the United States"}


class InputProblem(Exception):
    """An input file cannot be used."""


def horizon(parameters: pathlib.Path) -> tuple[str, str]:
    try:
        with open(parameters, "rb") as f:
            p = tomllib.load(f).get("parameters", {})
    except OSError as e:
        raise InputProblem(f"cannot read {parameters}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise InputProblem(f"invalid TOML in {parameters}: {e}") from e
    if not isinstance(p.get("start"), str) or not isinstance(p.get("end"), str):
        raise InputProblem(f"{parameters}: expected [parameters] with start and end months")
    return p["start"], p["end"]


def transition_years(data, dyad: str) -> set[int]:
    """The first and last years of each rivalry spell, except where the data begin or end."""
    years = data.years("strategic_rivalry", dyad)
    rival = {y for y in years if data.value("strategic_rivalry", dyad, y) == 1}
    out = set()
    for y in rival:
        if y - 1 not in rival and y != years[0]:
            out.add(y)
        if y + 1 not in rival and y != years[-1]:
            out.add(y)
    return out


def regime(data, dyad: str, year: int, transitions: set[int]) -> str | None:
    """The regime of a dyad-year: 'hostile', 'alliance', None (no target) or 'conflict'."""
    rival = data.value("strategic_rivalry", dyad, year)
    atop = data.value("atop_alliance", dyad, year)
    mid = data.value("gml_mid", dyad, year)
    if rival == 1 and year not in transitions:
        return "hostile"
    if atop == 3:
        return "alliance"
    if mid is not None and mid >= MID_FORCE:
        return "hostile" if not atop else "conflict"
    return None


def split(first: int, last: int) -> list[tuple[int, int]]:
    """Cut [first, last] between 1971 and 1972, then into nearly equal pieces of at most MAX_SPAN years."""
    parts = [(first, last)]
    if first < HOLD_OUT_FROM <= last:
        parts = [(first, HOLD_OUT_FROM - 1), (HOLD_OUT_FROM, last)]
    out = []
    for a, b in parts:
        n = b - a + 1
        k = math.ceil(n / MAX_SPAN)
        size, extra = divmod(n, k)
        start = a
        for i in range(k):
            length = size + (1 if i < extra else 0)
            out.append((start, start + length - 1))
            start += length
    return out


def spans(data, dyad: str, first_year: int, last_year: int):
    """Runs of consecutive years with the same regime, (regime, first, last), and the conflicting years."""
    runs, conflicts = [], []
    current = None
    transitions = transition_years(data, dyad)
    for y in range(first_year, last_year + 1):
        r = regime(data, dyad, y, transitions)
        if r == "conflict":
            conflicts.append(y)
            r = None
        if current and r == current[0] and y == current[2] + 1:
            current[2] = y
        else:
            if current:
                runs.append(tuple(current))
            current = [r, y, y] if r else None
    if current:
        runs.append(tuple(current))
    return runs, conflicts


def years_text(years: list[int]) -> str:
    """1964, 1965, 1966, 1969 -> '1964-1966, 1969'."""
    out, i = [], 0
    while i < len(years):
        j = i
        while j + 1 < len(years) and years[j + 1] == years[j] + 1:
            j += 1
        out.append(str(years[i]) if i == j else f"{years[i]}-{years[j]}")
        i = j + 1
    return ", ".join(out)


def evidence(data, dyad: str, kind: str, first: int, last: int) -> tuple[str, list[str]]:
    """The statement of a target and the data sets it rests on."""
    years = list(range(first, last + 1))
    a, b = dyad.split("-")
    who = f"{NAMES[a]} and {NAMES[b]}"
    period = str(first) if first == last else f"{first}-{last}"
    transitions = transition_years(data, dyad)
    force = [y for y in years if (data.value("gml_mid", dyad, y) or 0) >= MID_FORCE]
    pact = [y for y in years if data.value("atop_alliance", dyad, y) == 3]
    rival = [y for y in years if data.value("strategic_rivalry", dyad, y) == 1 and y not in transitions]
    turning = [y for y in years if y in transitions]
    if kind == "alliance":
        text = f"ATOP lists a defence or offence pact between {who} in force in {period}"
        if turning:
            text += f"; a rivalry of Thompson's begins or ends in {years_text(turning)}, a year of transition"
        else:
            text += "; Thompson lists no rivalry then"
        return text + ".", ["atop_alliance", "strategic_rivalry"]
    parts, used = [], []
    if rival:
        parts.append(f"Thompson's strategic rivalries list {who} as rivals in {years_text(rival)}")
        used.append("strategic_rivalry")
        if pact:
            parts.append(f"ATOP still lists a defence pact in {years_text(pact)}, which the rivalry is taken to"
                         " outweigh")
            used.append("atop_alliance")
    if force:
        alone = [y for y in force if y not in rival]
        text = f"the GML data list militarised disputes of use of force or war in {years_text(force)}"
        if alone:
            why = ("a rivalry's year of transition" if any(y in transitions for y in alone) else "no rivalry")
            text += f" ({'' if alone == force else years_text(alone) + ': '}{why}, no pact of any kind in ATOP)"
        parts.append(text if parts else f"Between {who} t" + text[1:])
        used.append("gml_mid")
        if alone and "atop_alliance" not in used:
            used.append("atop_alliance")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + ".", used


def generate(data, start: str, end: str) -> str:
    start_year, end_year = int(start[:4]), int(end[:4])
    entries, notes, counts = [], [], {}
    for dyad in data.dyads():
        runs, conflicts = spans(data, dyad, max(FIRST_YEAR, start_year), min(LAST_YEAR, end_year))
        if conflicts:
            notes.append(f"#   {dyad}: {years_text(conflicts)} (a use of force while ATOP lists a "
                         f"non-aggression or consultation pact)")
        for kind, first, last in runs:
            for f, l in split(first, last):
                a, b = dyad.split("-")
                text, used = evidence(data, dyad, kind, f, l)
                window_from = max(f"{f}-01", start)
                window_to = min(f"{l}-12", end)
                band = "[0.0, 1.0]" if kind == "alliance" else "[-1.0, 0.0]"
                reference = "; ".join(ir_data.CITATIONS[u] for u in used)
                entries.append("\n".join([
                    "[[targets]]",
                    f'id = "data_{a.lower()}_{b.lower()}_{kind}_{f}_{l}"',
                    f'text = "{text}"',
                    f'reference = "{reference}"',
                    'statistic = "level"',
                    f'a = "{a}"',
                    f'b = "{b}"',
                    f'window = ["{window_from}", "{window_to}"]',
                    f"band = {band}",
                ]))
                counts[dyad] = counts.get(dyad, 0) + 1
    per_dyad = ", ".join(f"{d} {counts.get(d, 0)}" for d in data.dyads())
    header = HEADER.format(n=len(entries), per_dyad=per_dyad,
                           conflicts="\n".join(notes) if notes else "#   none",
                           citations="\n".join(f"#   {k}: {ir_data.CITATIONS[k]}" for k in
                                               ("atop_alliance", "strategic_rivalry", "gml_mid")))
    return header + "\n\n".join(entries) + "\n"


HEADER = """\
# Calibration targets from the dyad-year data: the regime of each dyad-year.
# Generated by analysis/data_targets.py from scenarios/data/ir/ -- do not edit; run the script
# (`/usr/bin/python3 analysis/data_targets.py`; `--check` tells whether this file is current).
#
# Each target is a `level` target (see the header of targets.toml): the mean over `window` of the
# ensemble-median M[a,b] must lie in `band`, [0, 1] for an alliance, [-1, 0] for a hostile regime.
# Instead of essay paragraphs (`source`), each cites the data set(s) it rests on (`reference`).
#
# The rule, year by year for each dyad (the script's docstring says more):
#   1. rivals in Thompson's strategic rivalries -> hostile (a rivalry outweighs a pact in force the
#      same year: China and the USSR in 1959-1980); the first and last year of a rivalry spell are
#      years of transition, which take the regime of rules 2-4;
#   2. otherwise an ATOP defence or offence pact -> alliance;
#   3. otherwise a GML militarised dispute of hostility 4-5 (use of force, war) and no ATOP
#      commitment of any kind -> hostile; with an ATOP neutrality, consultation or non-aggression
#      pact the sources conflict and the year gets no target;
#   4. otherwise no target: these data do not tell a neutral dyad from a friendly one, and a
#      consultation or non-aggression pact, a display of force or an arms flow alone is no regime.
# Spans of one regime are cut between 1971 and 1972 (fit up to 1971, hold out from 1972) and into
# pieces of at most 10 years, so that persistence counts; windows run from January of the first
# year to December of the last, clipped to the horizon.
#
# {n} targets. Per dyad: {per_dyad}.
# Years left out because the sources conflict:
{conflicts}
#
# Data sets (scenarios/data/ir/README.md gives the files, versions and caveats):
{citations}

"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=pathlib.Path, default=ir_data.DEFAULT_DIR, help="the folder of data sets")
    p.add_argument("--parameters", type=pathlib.Path, default=DEFAULT_PARAMETERS,
                   help="the scenario's parameters file, for its horizon")
    p.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="the targets file")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--stdout", action="store_true", help="print the file instead of writing it")
    mode.add_argument("--check", action="store_true", help="exit 1 if --out is not what would be written")
    args = p.parse_args(argv)
    prog = pathlib.Path(sys.argv[0]).name
    try:
        start, end = horizon(args.parameters)
        text = generate(ir_data.load(args.data), start, end)
    except (InputProblem, ir_data.IrDataError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            current = args.out.read_text(encoding="utf-8")
        except OSError as e:
            print(f"{prog}: cannot read {args.out}: {e.strerror}; run the script to write it", file=sys.stderr)
            return 1
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(args.out), "generated",
                                        lineterm="", n=1)
            print(f"{prog}: {args.out} is not current; run the script to rewrite it", file=sys.stderr)
            print("\n".join(list(diff)[:40]), file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
