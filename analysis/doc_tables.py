#!/usr/bin/env python3
"""Write the tables of docs/ that come from a command's CSV, or check that they are current.

    <!-- sens:table CSV --> ... <!-- sens:end -->   docs/sensitivity.md: the Morris table that
                                                   `alignsim sensitivity --csv` wrote: per output
                                                   and parameter, its range, mu, mu* and sigma
    <!-- diag:table CSV --> ... <!-- diag:end -->   docs/model.md: what `alignsim diagnose --csv`
                                                   wrote, every fourth year and the last, with the
                                                   range over all years

CSV is a path relative to the repository.

    doc_tables.py           rewrite the blocks
    doc_tables.py --check   exit 1, with a diff, if a block is not what its CSV gives

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
DOCS = [REPO / "docs" / "sensitivity.md", REPO / "docs" / "model.md"]
BEGIN = re.compile(r"^<!-- (sens|sobol|diag):table (\S+) -->$")


def label(output: str) -> str:
    kind, _, rest = output.partition(":")
    if kind == "probability":
        return f"P(`{rest}`)"
    dyad, start, end = rest.split(":")
    return f"mean M({dyad.replace('-', ', ')}), {start} to {end}"


def num(x: str) -> str:
    return f"{float(x):+.4f}".replace("-", "−")


def diag_block(path: pathlib.Path) -> list[str]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")
    cols = [("mean_abs_m", "mean abs(M)"), ("saturated", "pairs with abs(M) > 0.9"),
            ("position_spread", "spread of positions"), ("anchor_gap", "distance from anchors")]
    out = ["", "| year | " + " | ".join(c[1] for c in cols) + " |", "|---|" + "---:|" * len(cols)]
    shown = [r for k, r in enumerate(rows) if k % 4 == 0 or k == len(rows) - 1]
    out += ["| " + r["year"] + " | " + " | ".join(f"{float(r[c]):.3f}" for c, _ in cols) + " |" for r in shown]
    out.append("| all years, range | " + " | ".join(
        f"{min(float(r[c]) for r in rows):.3f} – {max(float(r[c]) for r in rows):.3f}" for c, _ in cols) + " |")
    return out + [""]


def sens_block(path: pathlib.Path) -> list[str]:
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


def sobol_block(path: pathlib.Path) -> list[str]:
    out = ["", "| output | parameter | drawn from | S1 | 95% interval | ST | 95% interval |",
           "|---|---|---|---:|---|---:|---|"]
    last = None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no rows")

    def interval(lo: str, hi: str) -> str:
        return f"[{float(lo):+.2f}, {float(hi):+.2f}]".replace("-", "−")

    for r in rows:
        shown = label(r["output"]) if r["output"] != last else ""
        last = r["output"]
        source = (f"{float(r['lo']):g} – {float(r['hi']):g}" if r["distribution"] == "range"
                  else "posterior marginal")
        out.append(f"| {shown} | `{r['parameter']}` | {source} | {float(r['S1']):+.2f} | "
                   f"{interval(r['S1_low'], r['S1_high'])} | {float(r['ST']):+.2f} | "
                   f"{interval(r['ST_low'], r['ST_high'])} |".replace("| +", "| ").replace("| -", "| −"))
    return out + [""]


def rewrite(text: str, doc: pathlib.Path) -> str:
    lines, out, k = text.split("\n"), [], 0
    while k < len(lines):
        out.append(lines[k])
        m = BEGIN.match(lines[k])
        k += 1
        if m:
            end_marker = f"<!-- {m.group(1)}:end -->"
            end = next((j for j in range(k, len(lines)) if lines[j] == end_marker), None)
            if end is None:
                raise ValueError(f"{doc}:{k}: no {end_marker}")
            make = {"sens": sens_block, "sobol": sobol_block, "diag": diag_block}[m.group(1)]
            out += make(REPO / m.group(2)) + [end_marker]
            k = end + 1
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    status = 0
    for doc in DOCS:
        try:
            old = doc.read_text()
            new = rewrite(old, doc)
        except (OSError, ValueError, KeyError) as e:
            print(f"doc_tables: error: {e}", file=sys.stderr)
            return 2
        if a.check:
            if new != old:
                sys.stderr.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(doc),
                                                           "generated"))
                print(f"doc_tables: {doc} is not what its CSV gives; run /usr/bin/python3 analysis/doc_tables.py",
                      file=sys.stderr)
                status = 1
        elif new != old:
            temp = doc.with_name(f".{doc.name}.tmp-{os.getpid()}")
            temp.write_text(new)
            os.replace(temp, doc)
            print(f"wrote {doc}")
    return status


if __name__ == "__main__":
    sys.exit(main())
