#!/usr/bin/env python3
"""Compare two benchmark result files, result by result.

    /usr/bin/python3 bench/compare.py A.json B.json [--tolerance 0.02]

Prints a table  name | A | B | ratio B/A | B vs A  and exits 0 (exit 2 only if a file cannot be read
or does not follow the schema). "better"/"worse" says whether B improves on A, given each result's
higher_is_better; within the tolerance (default 2%) the verdict is "same". Results present in only
one file are listed with "-" in the other column. If a result's unit differs between the files, no
ratio is computed and the row says "unit differs".

Schema of a result file (written by bench/bench_engine.cpp as bench.json, and by
bench/peer_numpy.py and bench/peer_numba.py with --json, whose single result is named "numpy_peer"
or "numba_peer"):

    {
      "machine": { ... },                  # free-form: cpu, cores, memory, kernel, compiler, ...
      "results": [
        {
          "name": "kernel_1_thread",       # unique within the file; rows are matched by name
          "value": 12100000.0,             # a number
          "unit": "run-steps/s",           # free text, compared verbatim between files
          "higher_is_better": true,        # true for rates, false for times and memory
          "note": "200000 runs"            # optional, free text
        },
        ...
      ]
    }

Other top-level keys are allowed and ignored. Machine entries present in both files with different
values are printed first, since a ratio across machines measures the machines as much as the code.
"""

import argparse
import json
import math
import sys


def load(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise ValueError(f"{path}: cannot read ({e.strerror})")
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON ({e})")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ValueError(f"{path}: expected an object with a 'results' list (see bench/compare.py --help)")
    machine = data.get("machine", {})
    if not isinstance(machine, dict):
        raise ValueError(f"{path}: 'machine' must be an object")
    results = {}
    for k, r in enumerate(data["results"]):
        where = f"{path}: results[{k}]"
        if not isinstance(r, dict):
            raise ValueError(f"{where}: not an object")
        for key, kind in (("name", str), ("unit", str), ("higher_is_better", bool)):
            if not isinstance(r.get(key), kind):
                raise ValueError(f"{where}: '{key}' missing or not a {kind.__name__}")
        value = r.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} ({r['name']}): 'value' missing or not a number")
        if r["name"] in results:
            raise ValueError(f"{where}: duplicate name {r['name']!r}")
        results[r["name"]] = r
    return machine, results


def fmt(v):
    if v is None:
        return "-"
    if v == 0 or (1e-3 <= abs(v) < 1e6):
        return f"{v:.4g}"
    return f"{v:.3e}"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compare two benchmark JSON files (see the schema in this script's "
                                 "docstring).")
    ap.add_argument("a", help="first result file (the reference)")
    ap.add_argument("b", help="second result file")
    ap.add_argument("--tolerance", type=float, default=0.02,
                    help="relative change below which the verdict is 'same' (default 0.02)")
    args = ap.parse_args(argv)
    try:
        ma, ra = load(args.a)
        mb, rb = load(args.b)
    except ValueError as e:
        print(f"compare.py: error: {e}", file=sys.stderr)
        return 2

    differ = [k for k in ma if k in mb and ma[k] != mb[k]]
    if differ:
        print("machines differ:")
        for key in differ:
            print(f"  {key}: A = {ma[key]}   B = {mb[key]}")
        print()

    names = list(ra) + [n for n in rb if n not in ra]
    rows = []
    for n in names:
        a, b = ra.get(n), rb.get(n)
        unit = (a or b)["unit"]
        va = a["value"] if a else None
        vb = b["value"] if b else None
        ratio, verdict = "-", ""
        if a and b:
            if a["unit"] != b["unit"]:
                verdict = f"unit differs ({a['unit']} vs {b['unit']})"
            elif va == 0 or not (math.isfinite(va) and math.isfinite(vb)):
                verdict = "same" if va == vb else "n/a"
            else:
                r = vb / va
                ratio = f"{r:.3f}"
                if abs(r - 1) <= args.tolerance:
                    verdict = "same"
                elif r < 0:
                    verdict = "sign differs"
                else:
                    verdict = "better" if (r > 1) == bool(b["higher_is_better"]) else "worse"
        else:
            verdict = "only in A" if a else "only in B"
        rows.append((n, fmt(va), fmt(vb), unit, ratio, verdict))

    head = ("name", "A", "B", "unit", "ratio B/A", "B vs A")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    right = {1, 2, 4}

    def line(cells):
        return " | ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(f"A = {args.a}\nB = {args.b}\n")
    print(line(head))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    counts = {v: sum(r[5] == v for r in rows) for v in ("better", "worse", "same")}
    print(f"\n{counts['better']} better, {counts['worse']} worse, {counts['same']} same "
          f"(tolerance {args.tolerance:g}), {len(rows)} results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
