#!/usr/bin/env python3
"""Check the baseline's context events against the dyad-year data sets.

Reads the context events (`context = true`) of scenarios/baseline/events/context.toml (or
--events) and the data sets of scenarios/data/ir/ (ATOP and COW alliances, Thompson's strategic
rivalries, the Gibler-Miller-Little MIDs, SIPRI arms transfers). For every event and every dyad its
shocks touch, it shows the dyad's data around the event's year and says whether the event's
direction agrees with what the data do then.

The event's direction on a dyad is the sign of the sum of its shocks' Goldstein weights (or means)
between the two agents: + (cooperative) or - (hostile). With y the event's year, four indicators
each read the data as "warmer", "colder" or no change (years a data set does not cover are left
out; an indicator with no year on one side is n/a):

  pact      ATOP (and COW) alliance value: mean over y..y+2 minus mean over y-3..y-1; a difference
            of 1/3 or more (one level in one of three years) is a change, up = warmer.
  rivalry   Thompson's strategic rivalry (0/1): the same difference; up = colder.
  disputes  GML MID highest hostility (0-5): for a hostile event, a dispute of hostility 3 (display
            of force) or more in y or y+1 is "colder"; otherwise, and for a cooperative event, the
            difference of the mean over y..y+2 and y-3..y-1, of one level or more, up = colder.
  arms      SIPRI TIV, both directions: mean over y..y+4 against y-5..y-1 (deliveries lag
            decisions); a change of at least 20 (million TIV) and of a third of the larger mean
            is a change, up = warmer.

An indicator agrees when its change has the event's direction, and disagrees when it has the other.
The verdict for the event and dyad is "agrees" (some agree, none disagree), "mixed" (both),
"disagrees" (only disagree) or "not visible" (no change). Anything but "agrees" must be explained
by a sentence starting "Data:" in the event's note; the table shows it.

    context_check.py                 print the report (Markdown) on stdout
    context_check.py --write         write it to results/context/check.md
    context_check.py --check         exit 1 if an event's verdict is not "agrees" and its note has
                                     no "Data:" explanation, or if results/context/check.md is not
                                     what the script writes

Standard library only (Python 3.11+). Exit status: 0 fine, 1 a check failed, 2 bad input (a missing
or malformed file, an event that is not a context event or lacks a reference).
"""
from __future__ import annotations

import argparse
import difflib
import pathlib
import re
import sys
import tomllib

import ir_data

REPO = ir_data.REPO
DEFAULT_EVENTS = REPO / "scenarios" / "baseline" / "events" / "context.toml"
DEFAULT_OUT = REPO / "results" / "context" / "check.md"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
DATA_NOTE = re.compile(r"\bData:\s*(.+)$", re.S)

PACT_STEP = 1.0 / 3.0 - 1e-9   # one level in one year of three
MID_STEP = 1.0                 # one hostility level of the three-year mean
MID_HOSTILE = 3                # a display of force or more
ARMS_ABS = 20.0                # million TIV
ARMS_REL = 1.0 / 3.0


class InputProblem(Exception):
    """The events file cannot be used."""


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _window(data, dataset, dyad, first, last):
    return [data.value(dataset, dyad, y) for y in range(first, last + 1)]


def _difference(data, dataset, dyad, year, before, after):
    """Mean over year..year+after-1 minus mean over year-before..year-1 (None when a side is empty)."""
    b = _mean(_window(data, dataset, dyad, year - before, year - 1))
    a = _mean(_window(data, dataset, dyad, year, year + after - 1))
    return None if a is None or b is None else a - b


def indicators(data, dyad: str, year: int, direction: int) -> list[tuple[str, str, str]]:
    """(indicator, reading, detail) for each indicator; reading is warmer, colder, none or n/a."""
    out = []
    for dataset, label in (("atop_alliance", "pact (ATOP)"), ("cow_alliance", "pact (COW)")):
        d = _difference(data, dataset, dyad, year, 3, 3)
        reading = "n/a" if d is None else "warmer" if d >= PACT_STEP else "colder" if d <= -PACT_STEP else "none"
        out.append((label, reading, "" if d is None else f"{d:+.2f}"))
    d = _difference(data, "strategic_rivalry", dyad, year, 3, 3)
    reading = "n/a" if d is None else "colder" if d >= PACT_STEP else "warmer" if d <= -PACT_STEP else "none"
    out.append(("rivalry", reading, "" if d is None else f"{d:+.2f}"))
    peak = max((v for v in _window(data, "gml_mid", dyad, year, year + 1) if v is not None), default=None)
    d = _difference(data, "gml_mid", dyad, year, 3, 3)
    if direction < 0 and peak is not None and peak >= MID_HOSTILE:
        out.append(("disputes", "colder", f"hostility {peak:.0f} in {year}-{year + 1}"))
    else:
        reading = "n/a" if d is None else "colder" if d >= MID_STEP else "warmer" if d <= -MID_STEP else "none"
        out.append(("disputes", reading, "" if d is None else f"{d:+.2f}"))
    b = _mean(_window(data, "sipri_tiv", dyad, year - 5, year - 1))
    a = _mean(_window(data, "sipri_tiv", dyad, year, year + 4))
    if a is None or b is None:
        out.append(("arms", "n/a", ""))
    else:
        change = a - b
        big = abs(change) >= ARMS_ABS and abs(change) >= ARMS_REL * max(a, b)
        reading = "none" if not big else "warmer" if change > 0 else "colder"
        out.append(("arms", reading, f"{b:.0f} -> {a:.0f}"))
    return out


def verdict(readings: list[str], direction: int) -> str:
    want = "warmer" if direction > 0 else "colder"
    other = "colder" if direction > 0 else "warmer"
    agree = sum(r == want for r in readings)
    disagree = sum(r == other for r in readings)
    if agree and disagree:
        return "mixed"
    if agree:
        return "agrees"
    if disagree:
        return "disagrees"
    return "not visible"


def load_events(path: pathlib.Path) -> list[dict]:
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise InputProblem(f"cannot read {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise InputProblem(f"invalid TOML in {path}: {e}") from e
    events = doc.get("events", [])
    if not isinstance(events, list) or not events:
        raise InputProblem(f"{path}: no [[events]]")
    for e in events:
        eid = e.get("id", "?")
        if e.get("context") is not True:
            raise InputProblem(f"{path}: event '{eid}' is not marked context = true")
        if not isinstance(e.get("reference"), str) or not e["reference"].strip():
            raise InputProblem(f"{path}: context event '{eid}' has no reference")
        if not isinstance(e.get("date"), str) or not MONTH.match(e["date"]):
            raise InputProblem(f"{path}: event '{eid}': expected date = \"YYYY-MM\"")
        if not e.get("shocks"):
            raise InputProblem(f"{path}: event '{eid}' has no shocks, so no direction to check")
    return events


def event_dyads(event: dict) -> dict[str, int]:
    """Each dyad the event's shocks touch, with the sign of their summed weight."""
    total: dict[str, float] = {}
    for s in event["shocks"]:
        weight = s["goldstein"] if "goldstein" in s else s["mean"]
        d = ir_data.dyad_id(s["from"], s["to"])
        total[d] = total.get(d, 0.0) + weight
    return {d: (1 if w > 0 else -1) for d, w in total.items() if w != 0}


def data_note(event: dict) -> str | None:
    m = DATA_NOTE.search(event.get("note", ""))
    return m.group(1).strip() if m else None


def _cell(v):
    return "." if v is None else f"{v:.0f}"


def report(events: list[dict], data, events_path: pathlib.Path) -> tuple[str, list[str]]:
    """The Markdown report and the list of problems (unexplained verdicts)."""
    rows, blocks, problems = [], [], []
    for e in sorted(events, key=lambda e: (e["date"], e["id"])):
        year = int(e["date"][:4])
        for dyad, direction in event_dyads(e).items():
            ind = indicators(data, dyad, year, direction)
            v = verdict([r for _, r, _ in ind], direction)
            note = data_note(e)
            if v != "agrees" and note is None:
                problems.append(f"{e['id']} ({dyad}, {'+' if direction > 0 else '-'}): data {v}, "
                                f"and its note has no 'Data:' explanation")
            shown = "; ".join(f"{name} {reading}" for name, reading, _ in ind if reading not in ("none", "n/a"))
            explained = note if note else "" if v == "agrees" else "**unexplained**"
            rows.append(f"| {e['date']} | `{e['id']}` | {dyad} | {'+' if direction > 0 else '-'} | "
                        f"{shown or 'no change'} | **{v}** | {explained} |")
            years = list(range(year - 3, year + 4))
            block = [f"### {e['date']} `{e['id']}` ({dyad}, {'cooperative' if direction > 0 else 'hostile'})",
                     "", e["title"] + ".", "",
                     "| data set | " + " | ".join(str(y) for y in years) + " |",
                     "|---|" + "---:|" * len(years)]
            for dataset, label in (("atop_alliance", "ATOP pact (0-3)"), ("cow_alliance", "COW pact (0-3)"),
                                   ("strategic_rivalry", "rivalry (0/1)"), ("gml_mid", "MID hostility (0-5)"),
                                   ("sipri_tiv", "arms (TIV)")):
                block.append(f"| {label} | " + " | ".join(_cell(data.value(dataset, dyad, y))
                                                        for y in years) + " |")
            block += ["", "Indicators: " + "; ".join(f"{n}: {r}" + (f" ({d})" if d else "") for n, r, d in ind)
                      + f". Verdict: **{v}**.", ""]
            blocks.append("\n".join(block))
    rel = events_path.resolve().relative_to(REPO) if events_path.resolve().is_relative_to(REPO) else events_path
    head = [
        "# Context events against the dyad-year data",
        "",
        f"Generated by `analysis/context_check.py` from `{rel}` and `scenarios/data/ir/`; do not edit.",
        "The rules are in the script's docstring: pact (ATOP, COW) and rivalry compare y..y+2 with",
        "y-3..y-1; disputes (GML MIDs) count a display of force or more in y or y+1 for a hostile event,",
        "else compare the means; arms (SIPRI TIV) compare y..y+4 with y-5..y-1. A verdict other than",
        "\"agrees\" is explained by the event's note (its \"Data:\" sentence). \".\" = year not covered.",
        "",
        "| date | event | dyad | sign | what the data do | verdict | the event's data note |",
        "|---|---|---|---|---|---|---|",
    ]
    counts = {}
    for r in rows:
        v = r.split("| **")[1].split("**")[0]
        counts[v] = counts.get(v, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    tail = ["", f"{len(rows)} event-dyads: {summary}.", "", "## The data around each event", ""]
    sources = ["## Data sets", ""] + [f"- `{k}`: {ir_data.DATASETS[k]}. {ir_data.CITATIONS[k]}."
                                      for k in ir_data.DATASETS if k != "cow_mid"] + [""]
    return "\n".join(head + rows + tail + blocks + sources), problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=pathlib.Path, default=DEFAULT_EVENTS, help="the context events file")
    p.add_argument("--data", type=pathlib.Path, default=ir_data.DEFAULT_DIR, help="the folder of data sets")
    p.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="the report file (--write, --check)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the report to --out")
    mode.add_argument("--check", action="store_true", help="check the verdicts and that --out is current")
    args = p.parse_args(argv)
    prog = pathlib.Path(sys.argv[0]).name
    try:
        events = load_events(args.events)
        data = ir_data.load(args.data)
    except (InputProblem, ir_data.IrDataError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    text, problems = report(events, data, args.events)
    if args.write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(args.out)
    elif not args.check:
        sys.stdout.write(text)
    for problem in problems:
        print(f"{prog}: {problem}", file=sys.stderr)
    if args.check:
        try:
            current = args.out.read_text(encoding="utf-8")
        except OSError as e:
            print(f"{prog}: cannot read {args.out}: {e.strerror}; run with --write", file=sys.stderr)
            return 1
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(args.out), "generated",
                                        lineterm="", n=1)
            print(f"{prog}: {args.out} is not current; run with --write", file=sys.stderr)
            print("\n".join(list(diff)[:40]), file=sys.stderr)
            return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
