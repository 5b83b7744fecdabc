#!/usr/bin/env python3
"""Write the Morris table of docs/sensitivity.md from the CSV `alignsim sensitivity --csv` wrote.

The block between `<!-- sens:table CSV -->` and `<!-- sens:end -->` is the table of CSV (a path
relative to the repository): per output and parameter, its range, mu, mu* and sigma.

    sensitivity_doc.py           rewrite the blocks of docs/sensitivity.md
    sensitivity_doc.py --check   exit 1, with a diff, if a block is not what its CSV gives

Standard library only. Run from anywhere: paths are relative to the repository.
"""
from __future__ import annotations

import argparse
import csv
import difflib
import os
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "sensitivity.md"
BEGIN = re.compile(r"^<!-- sens:table (\S+) -->$")
END = "<!-- sens:end -->"


def label(output: str) -> str:
    kind, _, rest = output.partition(":")
    if kind == "probability":
        return f"P(`{rest}`)"
    dyad, start, end = rest.split(":")
    return f"mean M({dyad.replace('-', ', ')}), {start} to {end}"


def num(x: str) -> str:
    return f"{float(x):+.4f}".replace("-", "−")


def block(path: pathlib.Path) -> list[str]:
    out = ["", "| output | parameter | range | mu | mu* | sigma |", "|---|---|---|---:|---:|---:|"]
    last = None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")
    for r in rows:
        shown = label(r["output"]) if r["output"] != last else ""
        last = r["output"]
        out.append(f"| {shown} | `{r['parameter']}` | {float(r['lo']):g} – {float(r['hi']):g} | {num(r['mu'])} | "
                   f"{float(r['mu_star']):.4f} | {float(r['sigma']):.4f} |")
    return out + [""]


def rewrite(text: str) -> str:
    lines, out, k = text.split("\n"), [], 0
    while k < len(lines):
        out.append(lines[k])
        m = BEGIN.match(lines[k])
        k += 1
        if m:
            end = next((j for j in range(k, len(lines)) if lines[j] == END), None)
            if end is None:
                raise ValueError(f"{DOC}:{k}: no {END}")
            out += block(REPO / m.group(1)) + [END]
            k = end + 1
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    try:
        old = DOC.read_text()
        new = rewrite(old)
    except (OSError, ValueError, KeyError) as e:
        print(f"sensitivity_doc: error: {e}", file=sys.stderr)
        return 2
    if a.check:
        if new != old:
            sys.stderr.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(DOC), "generated"))
            print("sensitivity_doc: docs/sensitivity.md is not what its CSV gives; run "
                  "/usr/bin/python3 analysis/sensitivity_doc.py", file=sys.stderr)
            return 1
        return 0
    if new != old:
        temp = DOC.with_name(f".{DOC.name}.tmp-{os.getpid()}")
        temp.write_text(new)
        os.replace(temp, DOC)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
