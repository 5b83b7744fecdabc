#!/usr/bin/env python3
"""Set an ensemble's simulated yearly alignment beside the dyad-year data sets of international
relations: ATOP alliance obligations, strategic rivalries and militarised disputes (the project's
copies in scenarios/data/ir/, with their provenance READMEs). Nothing is fitted or tuned: the
script only measures where the simulation and the data agree in sign and where they do not.

    /usr/bin/python3 analysis/validate_ir.py FILE.h5 [--out results/validation] [--doc docs/validation.md]
                                             [--overwrite] [--check]

The yearly alignment of a dyad is the mean over all runs of each run's mean M = (W + W^T) / 2 over
the year's months (the `mean` column of `alignsim export --table dyad-year`: the mean of the
file's monthly means). Per data set, a dyad-year is flagged when

    defence pact     an ATOP defence or offence pact is in force (ATOP value 3): expected M > 0
    other ATOP pact  only a neutrality, consultation or non-aggression pact (value 2 or 1): expected
                     M > 0, a weaker test (rivals sign such pacts too)
    rivalry          a strategic rivalry (Thompson, Sakuwa and Suhas 2021) is ongoing: expected M < 0
    dispute          a militarised interstate dispute (GML MID 2.2.1) is ongoing: expected M < 0

and the script reports, for each, the share of flagged dyad-years whose simulated mean has the
expected sign, the mean M in flagged and other dyad-years, and the probability that a flagged
dyad-year lies on the expected side of an unflagged one (the AUC, from Mann-Whitney ranks), pooled
over the ten dyads; per dyad, the flagged years and the spells of years where the sign disagrees.

Writes OUT/validation.png (one panel per dyad: the monthly mean and 5-95% band of M over all runs,
with the flagged years as strips below) and OUT/validation.md (the tables), refusing existing files
without --overwrite. With --doc, also rewrites the section between the markers
<!-- validation:begin --> and <!-- validation:end --> of that page. --check writes nothing and
exits 1 if OUT/validation.md or the page's section differ from what FILE.h5 gives.
"""
from __future__ import annotations

import argparse
import csv
import difflib
import os
import pathlib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

import alignsim_io as aio  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
DATA = REPO / "scenarios" / "data" / "ir"
BEGIN = "<!-- validation:begin -->"
END = "<!-- validation:end -->"

# name, data set folder, flag of a row, expected sign of M, what a flagged year is
INDICATORS = [
    ("defence pact", "atop_alliance", lambda r: int(r["value"]) == 3, +1, "an ATOP defence or offence pact (value 3)"),
    ("other ATOP pact", "atop_alliance", lambda r: int(r["value"]) in (1, 2), +1,
     "only an ATOP neutrality, consultation or non-aggression pact (value 1-2)"),
    ("rivalry", "strategic_rivalry", lambda r: int(r["value"]) == 1, -1, "a strategic rivalry (TSS 2021)"),
    ("dispute", "gml_mid", lambda r: int(r["n"]) >= 1, -1, "an ongoing MID (GML 2.2.1)"),
]


def read_data(folder: str) -> dict[tuple[int, int, int], dict]:
    """Rows of a data set keyed by (ccode1, ccode2, year)."""
    with open(DATA / folder / f"{folder}.csv", newline="") as f:
        return {(int(r["ccode1"]), int(r["ccode2"]), int(r["year"])): r for r in csv.DictReader(f)}


def simulated_years(ds) -> tuple[list[dict], np.ndarray, list[str]]:
    """Dyads (ccode order) and the yearly mean M over all runs, [dyad][year], with the years."""
    ids = aio.agents(ds)
    if "agent_ccode" not in ds.variables:
        aio.fail("the file has no agent_ccode: simulate a scenario whose agents give their ccode")
    codes = [int(c) for c in ds["agent_ccode"].values]
    if any(c <= 0 for c in codes):
        aio.fail("every agent needs a Correlates of War code (ccode) to be matched with the data sets")
    months = aio.month_labels(ds)
    year_of = np.array([int(m[:4]) for m in months])
    years = sorted(set(year_of))
    mean = np.asarray(ds["alignment_mean"].values, dtype=np.float64)
    dyads = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            a, b = (i, j) if codes[i] < codes[j] else (j, i)
            dyads.append({"a": a, "b": b, "ccode1": codes[a], "ccode2": codes[b], "agent1": ids[a], "agent2": ids[b],
                          "dyad": "-".join(sorted((ids[a], ids[b])))})
    dyads.sort(key=lambda d: (d["ccode1"], d["ccode2"]))
    yearly = np.array([[mean[year_of == y, d["a"], d["b"]].mean() for y in years] for d in dyads])
    return dyads, yearly, years


def auc(flagged: np.ndarray, others: np.ndarray, sign: int) -> float:
    """P(a flagged value lies on the expected side of an unflagged one), ties counting half."""
    x, y = sign * flagged, sign * others
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    greater = (x[:, None] > y[None, :]).sum() + 0.5 * (x[:, None] == y[None, :]).sum()
    return float(greater / (len(x) * len(y)))


def spells(years: list[int]) -> str:
    """1958, 1959, 1960, 1963 -> '1958-1960, 1963'."""
    out, start = [], None
    for k, y in enumerate(years):
        if start is None:
            start = y
        if k + 1 == len(years) or years[k + 1] != y + 1:
            out.append(str(start) if start == y else f"{start}-{y}")
            start = None
    return ", ".join(out)


def measure(dyads, yearly, years):
    """Flags per indicator [indicator][dyad][year] (None where the data set has no row)."""
    flags = []
    for _, folder, flag, _, _ in INDICATORS:
        rows = read_data(folder)
        flags.append([[flag(rows[(d["ccode1"], d["ccode2"], y)]) if (d["ccode1"], d["ccode2"], y) in rows else None
                       for y in years] for d in dyads])
    return flags


def fmt(x: float, digits: int = 2) -> str:
    return "–" if x != x else f"{x:+.{digits}f}"


def percent(k: int, n: int) -> str:
    return "–" if n == 0 else f"{100 * k / n:.0f}% ({k}/{n})"


def tables(ds, dyads, yearly, years, flags) -> str:
    """The generated Markdown: summary, per-dyad table, and where the sign disagrees."""
    lines = [f"Simulated: {aio.describe(ds)}; yearly mean of M over all runs, {years[0]}-{years[-1]} "
             f"({len(dyads)} dyads, {len(dyads) * len(years)} dyad-years).", ""]
    lines += ["| data set: flagged dyad-years | flagged | M with the expected sign | mean M, flagged | "
              "mean M, others | AUC |", "|---|---|---|---|---|---|"]
    for (name, _, _, sign, what), f in zip(INDICATORS, flags):
        on = np.array([yearly[d, k] for d in range(len(dyads)) for k in range(len(years)) if f[d][k] is True])
        off = np.array([yearly[d, k] for d in range(len(dyads)) for k in range(len(years)) if f[d][k] is False])
        good = int((sign * on > 0).sum())
        lines.append(f"| {name}: {what}, expected M {'> 0' if sign > 0 else '< 0'} | {len(on)} | "
                     f"{percent(good, len(on))} | {fmt(on.mean() if len(on) else float('nan'))} | "
                     f"{fmt(off.mean() if len(off) else float('nan'))} | {auc(on, off, sign):.2f} |")
    lines += ["", "Per dyad: the mean M over all years and, per data set, the years it flags and the share of "
              "them in which the simulated yearly mean has the expected sign.", ""]
    head = "| dyad | ccode1, ccode2 | mean M | " + " | ".join(f"{name} years" for name, *_ in INDICATORS)
    lines += [head + " |", "|---|---|---|" + "---|" * len(INDICATORS)]
    agree, disagree = [], []
    for d, dy in enumerate(dyads):
        cells = []
        for (name, _, _, sign, _), f in zip(INDICATORS, flags):
            on = [k for k in range(len(years)) if f[d][k] is True]
            good = [k for k in on if sign * yearly[d, k] > 0]
            cells.append(f"{spells([years[k] for k in on])}: {percent(len(good), len(on))}" if on else "none")
            bad = [years[k] for k in on if sign * yearly[d, k] <= 0]
            if on and not bad:
                agree.append(f"{dy['dyad']} {name} ({spells([years[k] for k in on])})")
            if bad:
                values = [yearly[d, years.index(y)] for y in bad]
                disagree.append(f"- **{dy['dyad']}**, {name}: M {'≤ 0' if sign > 0 else '≥ 0'} in {spells(bad)} "
                                f"(mean M there {fmt(float(np.mean(values)))}, range {fmt(min(values))} to "
                                f"{fmt(max(values))})")
        lines.append(f"| {dy['dyad']} | {dy['ccode1']}, {dy['ccode2']} | {fmt(yearly[d].mean())} | " + " | ".join(cells) + " |")
    lines += ["", "The sign agrees in every flagged year: " + ("; ".join(agree) if agree else "nowhere") + ".", "",
              "Where the sign disagrees with the data set (flagged years whose simulated yearly mean is on the "
              "other side of 0):", ""]
    lines += disagree or ["- nowhere"]
    return "\n".join(lines) + "\n"


def figure(ds, dyads, yearly, years, flags, path: pathlib.Path) -> None:
    t = aio.years(ds)
    lo = aio.quantile_or_none(ds, 0.05)
    hi = aio.quantile_or_none(ds, 0.95)
    fig, axes = plt.subplots(5, 2, figsize=(13, 15.5), sharex=True)
    colours = ["tab:green", "yellowgreen", "tab:red", "tab:orange"]
    for ax, d, dy in zip(axes.flat, range(len(dyads)), dyads):
        a, b = dy["agent1"], dy["agent2"]
        if lo is not None and hi is not None:
            low, high = aio.dyad_band(ds, a, b, lo, hi)
            ax.fill_between(t, low.values, high.values, color="steelblue", alpha=0.25, lw=0, label="5-95% of runs")
        ax.plot(t, aio.dyad_mean(ds, a, b).values, color="navy", lw=0.8, label="mean M (monthly)")
        ax.step([y for y in years] + [years[-1] + 1], list(yearly[d]) + [yearly[d][-1]], where="post",
                color="black", lw=1.2, label="yearly mean")
        ax.axhline(0, color="grey", lw=0.5)
        for row, ((name, *_), f, colour) in enumerate(zip(INDICATORS, flags, colours)):
            y0 = -1.1 - 0.11 * row
            spans = [(years[k], 1) for k in range(len(years)) if f[d][k]]
            ax.broken_barh(spans, (y0, 0.08), color=colour)
        ax.set_ylim(-1.55, 1.05)
        ax.set_yticks([-1, -0.5, 0, 0.5, 1])
        ax.set_title(f"{dy['dyad']} (COW {dy['ccode1']}, {dy['ccode2']})", fontsize=10)
    handles, _ = axes.flat[0].get_legend_handles_labels()
    handles += [Patch(color=c, label=f"{name} years ({what})") for (name, _, _, _, what), c in zip(INDICATORS, colours)]
    fig.suptitle(f"Simulated alignment beside ATOP pacts, strategic rivalries and MIDs (GML)\n{aio.describe(ds)}",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.965))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def write_new(path: pathlib.Path, write, overwrite: bool) -> None:
    """Writes through a temporary file renamed when complete; refuses an existing file without --overwrite."""
    if path.exists() and not overwrite:
        aio.fail(f"{path} exists; pass --overwrite to replace it")
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def section(doc: pathlib.Path) -> tuple[str, str, str]:
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        aio.fail(f"{doc} lacks the markers {BEGIN} and {END}")
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    return head, body, tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="an alignsim ensemble file of the baseline")
    parser.add_argument("--out", default=str(REPO / "results" / "validation"), help="folder for the figure and table")
    parser.add_argument("--doc", help="also rewrite the generated section of this page (docs/validation.md)")
    parser.add_argument("--overwrite", action="store_true", help="replace the figure and table if they exist")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if OUT/validation.md or --doc's section are not what FILE gives")
    args = parser.parse_args()
    ds = aio.open_or_exit(args.file)
    dyads, yearly, years = simulated_years(ds)
    flags = measure(dyads, yearly, years)
    text = tables(ds, dyads, yearly, years, flags)
    out = pathlib.Path(args.out)
    doc = pathlib.Path(args.doc) if args.doc else None
    if args.check:
        stale = []
        table = out / "validation.md"
        if not table.exists() or table.read_text() != text:
            stale.append((str(table), table.read_text() if table.exists() else ""))
        if doc and section(doc)[1] != "\n" + text:
            stale.append((str(doc), section(doc)[1]))
        for name, old in stale:
            sys.stderr.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), name, "generated"))
            print(f"validate_ir.py: {name} is not what {args.file} gives; regenerate it with "
                  f"/usr/bin/python3 analysis/validate_ir.py FILE --overwrite --doc docs/validation.md", file=sys.stderr)
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    write_new(out / "validation.md", lambda p: p.write_text(text), args.overwrite)
    write_new(out / "validation.png", lambda p: figure(ds, dyads, yearly, years, flags, p), args.overwrite)
    print(out / "validation.md")
    print(out / "validation.png")
    if doc:
        head, _, tail = section(doc)
        write_new(doc, lambda p: p.write_text(head + BEGIN + "\n" + text + END + tail), True)
        print(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
