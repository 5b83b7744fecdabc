#!/usr/bin/env python3
"""Add Correlates of War codes to the project's copies of the dyad-year data sets.

Every CSV under scenarios/data/ir/ keys its rows by `dyad` (two agent ids sorted alphabetically,
e.g. PK-US). This script adds, right after `dyad`, the columns `ccode1` and `ccode2`: the COW
codes of the two agents, the smaller first, as peacesciencer orders non-directed dyad-years
(ccode1 < ccode2). The codes come from the `ccode` of each agent in the baseline scenario
(scenarios/baseline/agents.toml), the same codes `alignsim export` writes, so that its dyad-year
table merges with these files on ccode1, ccode2 and year. Rows are otherwise left unchanged.

    ir_codes.py            add (or refresh) the columns in every CSV
    ir_codes.py --check    exit 1 if any CSV lacks them or disagrees with the scenario's codes

Standard library only (Python 3.11+, tomllib); run with /usr/bin/python3 from any directory.
"""
from __future__ import annotations

import argparse
import csv
import io
import pathlib
import sys
import tomllib

REPO = pathlib.Path(__file__).resolve().parent.parent
DATA = REPO / "scenarios" / "data" / "ir"
AGENTS = REPO / "scenarios" / "baseline" / "agents.toml"


def codes(path: pathlib.Path = AGENTS) -> dict[str, int]:
    with open(path, "rb") as f:
        agents = tomllib.load(f).get("agents", [])
    found = {a["id"]: a["ccode"] for a in agents if "ccode" in a}
    if len(found) != len(agents):
        raise SystemExit(f"ir_codes.py: error: {path}: every agent needs a ccode")
    return found


def with_codes(text: str, ccode: dict[str, int], name: str) -> str:
    """The CSV text with ccode1, ccode2 after `dyad` (replacing any already there)."""
    rows = list(csv.reader(io.StringIO(text)))
    header = [c for c in rows[0] if c not in ("ccode1", "ccode2")]
    keep = [i for i, c in enumerate(rows[0]) if c not in ("ccode1", "ccode2")]
    at = header.index("dyad") + 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header[:at] + ["ccode1", "ccode2"] + header[at:])
    for line, row in enumerate(rows[1:], start=2):
        row = [row[i] for i in keep]
        a, b = row[header.index("dyad")].split("-")
        if a not in ccode or b not in ccode:
            raise SystemExit(f"ir_codes.py: error: {name}:{line}: dyad {a}-{b} has an agent without a ccode")
        pair = sorted((ccode[a], ccode[b]))
        writer.writerow(row[:at] + [str(pair[0]), str(pair[1])] + row[at:])
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check the files instead of writing them")
    args = parser.parse_args()
    ccode = codes()
    stale = []
    for path in sorted(DATA.glob("*/*.csv")):
        text = path.read_text()
        new = with_codes(text, ccode, str(path.relative_to(REPO)))
        if new == text:
            continue
        if args.check:
            stale.append(str(path.relative_to(REPO)))
        else:
            path.write_text(new)
            print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print("ir_codes.py: these files lack ccode1, ccode2 or disagree with " + str(AGENTS.relative_to(REPO)) +
              "; run /usr/bin/python3 analysis/ir_codes.py:\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
