#!/usr/bin/env python3
"""Fill the generated blocks of docs/calibration.md from the calibration's reports.

Runs no simulation. It reads what `alignsim calibrate` wrote:

  results/calibration/report.json      the baseline's calibration (all targets fitted)
  results/calibration/profile.csv      its loss profiles (`--profile N`)
  results/calibration/holdout_1971/report.json   the out-of-sample fit (`--fit-until 1971-12`)
  results/calibration/holdout_random/report.json the fit with a random share held out (`--hold-out`)
  results/calibration/posterior*/posterior.json  the posterior calibrations (`--posterior`), likewise

and rewrites every block of the document between a marker line `<!-- cal:NAME -->` and
`<!-- cal:end -->`:

  cal:command NAME   the command that wrote the report NAME (main, holdout_1971, holdout_random)
  cal:result NAME    targets and decisions met before and after, fitted and held out, the loss
  cal:free           the calibrated parameters (bounds, before, after) and a summary of the intercepts
  cal:missed NAME    the targets and decisions the calibrated scenario misses, with value and band
  cal:heldout NAME   per held-out target or decision: met or not (the out-of-sample coverage)
  cal:profile        per parameter: how the loss rises as it leaves its fitted value
  cal:posterior NAME      the posterior calibration NAME (posterior, posterior_holdout_1971,
                          posterior_holdout_random): its command, generations, tolerance, cost
  cal:posterior_free      the posterior of every parameter beside its prior, and of the intercepts
  cal:coverage            the posterior predictive coverage of the fitted and the held-out targets, for
                          all three posterior calibrations beside the point fits' share met

It also draws results/calibration/profile.png (the loss profiles) unless --check.

    calibration_doc.py            rewrite the blocks of docs/calibration.md (and the figure)
    calibration_doc.py --check    exit 1 if the document is not what would be written

Run with Debian's /usr/bin/python3 (the figure needs matplotlib; the tables only the standard library).
"""
from __future__ import annotations

import argparse
import csv
import difflib
import json
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "calibration.md"
RESULTS = REPO / "results" / "calibration"
REPORTS = {"main": RESULTS / "report.json", "holdout_1971": RESULTS / "holdout_1971" / "report.json",
           "holdout_random": RESULTS / "holdout_random" / "report.json",
           "posterior": RESULTS / "posterior" / "posterior.json",
           "posterior_holdout_1971": RESULTS / "posterior_holdout_1971" / "posterior.json",
           "posterior_holdout_random": RESULTS / "posterior_holdout_random" / "posterior.json"}
BEGIN = re.compile(r"^<!-- cal:(\w+)((?: [^ ]+)*) -->$")
END = "<!-- cal:end -->"
RISE = 0.1  # a parameter is "pinned" over the range where the loss stays within this of its fitted value


class DocError(Exception):
    pass


def load(name: str) -> dict:
    path = REPORTS.get(name)
    if path is None:
        raise DocError(f"unknown report '{name}'")
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise DocError(f"cannot read {path}: {e.strerror}") from e


def fmt(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def block_command(args: list[str]) -> list[str]:
    r = load(args[0])
    return ["```sh", r["command"].replace("alignsim ", "build/sim/app/alignsim ", 1), "```"]


def block_result(args: list[str]) -> list[str]:
    r = load(args[0])
    rows = [
        ["targets met", f"{r['targets_met']['before']} / {r['targets_met']['of']}",
         f"{r['targets_met']['after']} / {r['targets_met']['of']}"],
        ["decisions met", f"{r['decisions_met']['before']} / {r['decisions_met']['of']}",
         f"{r['decisions_met']['after']} / {r['decisions_met']['of']}"],
        ["fitted targets and decisions met", f"{r['fitted_met']['before']} / {r['fitted_met']['of']}",
         f"{r['fitted_met']['after']} / {r['fitted_met']['of']}"],
    ]
    if r["held_out_met"]["of"]:
        rows.append(["held out (not fitted), met", f"{r['held_out_met']['before']} / {r['held_out_met']['of']}",
                     f"{r['held_out_met']['after']} / {r['held_out_met']['of']}"])
    rows.append(["loss of the fitted targets", f"{r['loss']['before']:.4f}", f"{r['loss']['after']:.4f}"])
    out = table(["", "before", "after"], rows)
    share = r["fitted_met"]["after"] / max(1, r["fitted_met"]["of"])
    out += ["", f"{r['evaluations']} evaluations of {r['runs']} runs each (seed {r['seed']}), stopped by "
                f"{r['stop_reason']}; {share:.1%} of the fitted targets and decisions met."]
    return out


def block_free(args: list[str]) -> list[str]:
    r = load("main")
    rows, intercepts = [], []
    for v in r["free"]:
        if v["name"].startswith("b0:"):
            intercepts.append(v["after"] - v["before"])
            continue
        rows.append([f"`{v['name']}`", f"[{fmt(v['lo'])}, {fmt(v['hi'])}]", fmt(v["before"]), fmt(v["after"])])
    out = table(["parameter", "bounds", "start", "calibrated"], rows)
    if intercepts:
        moved = sorted(abs(x) for x in intercepts)
        out += ["", f"{len(intercepts)} decision intercepts (`b0`), each within ±3 of its prior value: median move "
                    f"{moved[len(moved) // 2]:.2f}, largest {moved[-1]:.2f} (log-odds). Every value is in "
                    "`scenarios/baseline/calibrated.toml` and `results/calibration/report.md`."]
    return out


def block_missed(args: list[str]) -> list[str]:
    r = load(args[0])
    rows = []
    for t in r["targets"]:
        if not t["after"]["met"]:
            rows.append([f"`{t['id']}`", t["what"], f"[{fmt(t['band'][0], 3)}, {fmt(t['band'][1], 3)}]",
                         fmt(t["after"]["value"], 3), "held out" if t.get("held_out") else "fitted"])
    for d in r["decisions"]:
        if not d["after"]["met"]:
            want = (f">= {d['share']} within {d['within_months']} months" if d["expect"] == "at_least"
                    else f"<= {d['share']} at all")
            rows.append([f"`{d['event']}`", f"decision, {d['date']}", want, fmt(d["after"]["value"], 3),
                         "held out" if d.get("held_out") else "fitted"])
    if not rows:
        return ["Every target and decision is met."]
    return table(["target", "what", "band", "value", ""], rows)


def block_heldout(args: list[str]) -> list[str]:
    r = load(args[0])
    groups: dict[str, list[bool]] = {}
    for t in r["targets"]:
        if t.get("held_out"):
            kind = "data regime" if t["id"].startswith("data_") else t["statistic"]
            groups.setdefault(kind, []).append(t["after"]["met"])
    for d in r["decisions"]:
        if d.get("held_out"):
            groups.setdefault("decision", []).append(d["after"]["met"])
    if not groups:
        return ["Nothing was held out."]
    rows = [[k, f"{sum(v)} / {len(v)}", f"{sum(v) / len(v):.0%}"] for k, v in sorted(groups.items())]
    total = [x for v in groups.values() for x in v]
    rows.append(["all held out", f"{sum(total)} / {len(total)}", f"{sum(total) / len(total):.0%}"])
    return table(["held-out kind", "met", "share met"], rows)


def read_profile() -> dict[str, list[tuple[float, float, float]]]:
    path = RESULTS / "profile.csv"
    try:
        rows = list(csv.DictReader(path.open()))
    except OSError as e:
        raise DocError(f"cannot read {path}: {e.strerror}") from e
    out: dict[str, list[tuple[float, float, float]]] = {}
    for row in rows:
        out.setdefault(row["parameter"], []).append((float(row["value"]), float(row["loss"]), float(row["fitted_value"])))
    return out


def block_profile(args: list[str]) -> list[str]:
    r = load("main")
    fitted_loss = r["loss"]["after"]
    rows = []
    for name, points in read_profile().items():
        fitted = points[0][2]
        within = [x for x, loss, _ in points if loss <= fitted_loss + RISE]
        lo_end, hi_end = points[0][0], points[-1][0]
        span = f"[{fmt(min(within))}, {fmt(max(within))}]" if within else "none of the grid"
        whole = bool(within) and min(within) == lo_end and max(within) == hi_end
        rows.append([f"`{name}`", fmt(fitted), f"[{fmt(lo_end)}, {fmt(hi_end)}]", span,
                     f"{min(l for _, l, _ in points):.3f} – {max(l for _, l, _ in points):.3f}",
                     "not pinned down" if whole else "pinned down"])
    return table(["parameter", "calibrated", "grid (its bounds)", f"values whose loss is within {RISE} of the fit",
                  "loss over the grid", "by the targets"], rows)


def block_posterior(args: list[str]) -> list[str]:
    r = load(args[0])
    g = r["generations"][-1]
    command = r["command"].replace("alignsim ", "build/sim/app/alignsim ", 1)
    cov = r["coverage"]
    held = (f"; held out (not fitted): {cov['held_out_covered']} / {cov['held_out']} covered, mean probability met "
            f"{cov['held_out_p_met']:.3f}" if cov["held_out"] else "")
    return ["```sh", command, "```", "",
            f"{len(r['free'])} free numbers; {r['particles']} particles of {r['runs']} runs each, "
            f"{len(r['generations'])} generations "
            f"({r['stop_reason']}); final tolerance {g['tolerance']:.4g} (the losses of the particles "
            f"{g['loss_min']:.4g} to {g['loss_max']:.4g}, median {g['loss_median']:.4g}); last acceptance "
            f"{g['acceptance']:.3f}; effective sample size {r['effective_sample_size']:.1f}; "
            f"{r['simulations']} ensembles in {r['seconds']:.0f} s ({1000 * r['seconds'] / r['simulations']:.0f} ms each, "
            f"2 threads, this project's 2-core machine). Posterior predictive check "
            f"({cov['runs']} runs per particle, fresh seeds): fitted {cov['fitted_covered']} / {cov['fitted']} covered, "
            f"mean probability met {cov['fitted_p_met']:.3f}{held}."]


def block_posterior_free(args: list[str]) -> list[str]:
    r = load("posterior")
    rows, shifts, narrowing = [], [], []
    for v in r["free"]:
        if v["name"].startswith("b0:"):
            m = re.match(r"normal, mean ([-\d.e+]+), sd ([-\d.e+]+)", v["prior"])
            if m:
                mu, sd = float(m.group(1)), float(m.group(2))
                shifts.append((v["mean"] - mu) / sd)
                narrowing.append(v["sd"] / sd)
            continue
        width = (v["q95"] - v["q05"]) / max(1e-300, v["prior_q95"] - v["prior_q05"])
        rows.append([f"`{v['name']}`", v["prior"], f"[{fmt(v['prior_q05'], 3)}, {fmt(v['prior_q95'], 3)}]",
                     fmt(v["q50"], 3), f"[{fmt(v['q05'], 3)}, {fmt(v['q95'], 3)}]", f"{width:.2f}"])
    out = table(["parameter", "prior", "prior 5-95%", "posterior median", "posterior 5-95%", "width"], rows)
    if shifts:
        moved = sum(1 for x in shifts if abs(x) >= 0.5)
        narrowed = sum(1 for x in narrowing if x <= 0.75)
        out += ["", f"Decision intercepts: {len(shifts)}, each a normal prior on the window log-odds. The posterior mean "
                    f"moved by half a prior sd or more for {moved} of them, and the posterior sd is at most three "
                    f"quarters of the prior's for {narrowed}; the median shift is {sorted(shifts)[len(shifts) // 2]:+.2f} "
                    f"prior sd, the median ratio of sds {sorted(narrowing)[len(narrowing) // 2]:.2f}."]
    out += ["", "\"width\": the posterior's 5-95% range as a share of the prior's; near 1, the targets leave the "
                "parameter where the prior put it."]
    return out


def block_coverage(args: list[str]) -> list[str]:
    rows = []
    for name, label in (("posterior", "all targets fitted"), ("posterior_holdout_1971", "fitted up to 1971"),
                        ("posterior_holdout_random", "a random fifth held out")):
        r = load(name)
        c = r["coverage"]
        held = (f"{c['held_out_covered']} / {c['held_out']} ({c['held_out_covered'] / c['held_out']:.0%})"
                if c["held_out"] else "none")
        held_p = f"{c['held_out_p_met']:.3f}" if c["held_out"] else ""
        rows.append([label, f"{c['fitted_covered']} / {c['fitted']} ({c['fitted_covered'] / c['fitted']:.0%})",
                     f"{c['fitted_p_met']:.3f}", held, held_p])
    return table(["posterior", "fitted: covered", "fitted: mean P(met)", "held out: covered", "held out: mean P(met)"],
                 rows)


BLOCKS = {"posterior": block_posterior, "posterior_free": block_posterior_free, "coverage": block_coverage,
          "command": block_command, "result": block_result, "free": block_free, "missed": block_missed,
          "heldout": block_heldout, "profile": block_profile}


def rewrite(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    k = 0
    while k < len(lines):
        m = BEGIN.match(lines[k])
        out.append(lines[k])
        k += 1
        if not m:
            continue
        try:
            end = lines.index(END, k)
        except ValueError as e:
            raise DocError(f"marker '{lines[k - 1]}' has no {END}") from e
        fn = BLOCKS.get(m.group(1))
        if fn is None:
            raise DocError(f"unknown block 'cal:{m.group(1)}'")
        out += [""] + fn(m.group(2).split()) + [""]
        out.append(END)
        k = end + 1
    return "\n".join(out)


def draw_profile(path: pathlib.Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    profile = read_profile()
    fitted_loss = load("main")["loss"]["after"]
    n = len(profile)
    cols = 4
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, (name, points) in zip(axes.flat, profile.items()):
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", ms=3)
        ax.axvline(points[0][2], color="grey", ls=":", lw=1)
        ax.axhline(fitted_loss + RISE, color="grey", ls="--", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("Loss of the fitted targets as one parameter moves over its bounds (others at the fit)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the document is not current")
    a = ap.parse_args()
    try:
        old = DOC.read_text()
        new = rewrite(old)
    except (OSError, DocError) as e:
        print(f"calibration_doc: {e}", file=sys.stderr)
        return 2
    if a.check:
        if new == old:
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(DOC), "regenerated"))
        print(f"calibration_doc: {DOC} is not current; run analysis/calibration_doc.py", file=sys.stderr)
        return 1
    if new != old:
        DOC.write_text(new)
        print(f"wrote {DOC}")
    draw_profile(RESULTS / "profile.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
