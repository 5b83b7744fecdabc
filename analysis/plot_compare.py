#!/usr/bin/env python3
"""Paired comparison of a counterfactual ensemble with its baseline.

    /usr/bin/python3 analysis/plot_compare.py BASE.h5 CF.h5 --out DIR [--dyads PK-RU,PK-US]

Both files must come from the same seed and the same number of runs: run r of the counterfactual
then shares every random draw with run r of the baseline except those of the events it changed
(common random numbers), and differences are computed run by run (paired). The script exits with
an error if the seeds or run counts differ, or if the agents or months differ.

Writes into DIR (created if needed), and prints the paths of:

  <cf>_vs_<base>_dyads.png   for each dyad, the difference of the ensemble mean of M = (W + W^T)/2,
                             CF - BASE, over all runs, with a 95% confidence band. The band is
                             +-t * sd_d / sqrt(R): sd_d is the standard deviation of the paired
                             differences M_cf[r] - M_base[r] over the stored runs present in both files
                             (same run index, `sample_run`), R the number of runs, t the 97.5% point of
                             Student's t with K - 1 degrees of freedom (K stored pairs). Dotted lines show
                             the unpaired band +-1.96 * sqrt((sd_base^2 + sd_cf^2) / R) from the files'
                             alignment_std, for comparison: the gap between them is what pairing buys.
  <cf>_vs_<base>_events.png  the difference in each event's probability, CF - BASE, with a 95%
                             confidence interval from the paired per-run indicators (happened or not,
                             from event_month): mean of d_r = I_cf[r] - I_base[r] +- 1.96 * sd(d) / sqrt(R)
                             (normal approximation). Events whose indicator is the same in every run
                             are left out (their count is given); an event present in only one file
                             counts as never happening in the other. With only a handful of runs
                             differing, the normal approximation is rough.

The paired band's sd comes from the stored runs only (--store-runs, default 100, the first runs).
When rare event flips drive the differences, those runs may contain none of them and the band is
too narrow; store more runs, the same number in both files, for a trustworthy band.

Run with Debian's /usr/bin/python3 (see analysis/README.md).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

import alignsim_io as aio  # noqa: E402
from plot_ensemble import DPI, dyad_title, names, year_ticks  # noqa: E402

Z975 = 1.959963984540054
BLOCK = 256  # stored runs read at a time


def t975(df: int) -> float:
    """97.5% point of Student's t with df degrees of freedom (Cornish-Fisher expansion about the
    normal; error < 1e-3 for df >= 5, exact limit 1.95996 as df grows)."""
    if df <= 0:
        return float("nan")
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}
    if df in table:
        return table[df]
    z = Z975
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def check_pair(base, cf, pb, pc):
    def attr(ds, k):
        v = ds.attrs.get(k)
        return int(v) if v is not None else None

    problems = []
    if attr(base, "seed") != attr(cf, "seed"):
        problems.append(f"the seeds differ (BASE seed {attr(base, 'seed')}, CF seed {attr(cf, 'seed')})")
    rb, rc = attr(base, "runs"), attr(cf, "runs")
    if rb != rc or base.sizes["run"] != cf.sizes["run"]:
        problems.append(f"the run counts differ (BASE {rb} runs, CF {rc} runs)")
    if problems:
        aio.fail(f"{pb} and {pc}: {' and '.join(problems)}. A paired comparison needs both ensembles run with "
                 f"the same --seed and --runs, so that run r of each shares its random numbers; rerun one of them.")
    if aio.agents(base) != aio.agents(cf):
        aio.fail(f"{pb} and {pc}: the agents differ ({', '.join(aio.agents(base))} vs {', '.join(aio.agents(cf))})")
    if aio.month_labels(base) != aio.month_labels(cf):
        mb, mc = aio.month_labels(base), aio.month_labels(cf)
        aio.fail(f"{pb} and {pc}: the horizons differ ({mb[0]}..{mb[-1]} vs {mc[0]}..{mc[-1]})")
    for key in ("software_version", "git_commit"):
        vb, vc = base.attrs.get(key), cf.attrs.get(key)
        if vb is not None and vc is not None and vb != vc:
            print(f"plot_compare.py: warning: {pb} and {pc} were written by different builds of alignsim ({key} {vb} vs {vc}); "
                  f"the differences include any change in the engine, not only in the scenario", file=sys.stderr)
            break
    mismatch = aio.base_mismatch(base, cf)
    if mismatch:
        print(f"plot_compare.py: warning: {mismatch}; the differences mix the counterfactual's changes with the "
              f"differences between the two scenarios. Compare it with an ensemble of the scenario it extends",
              file=sys.stderr)
    same = base.attrs.get("scenario_sha256") and base.attrs.get("scenario_sha256") == cf.attrs.get("scenario_sha256")
    if same:
        print(f"plot_compare.py: warning: {pb} and {pc} hold the same scenario; differences can only come from the engine",
              file=sys.stderr)


def paired_dyad_stats(base, cf, pairs):
    """Mean and sd over the common stored runs of M_cf - M_base: arrays (P, T), and the pair count K."""
    sb = np.asarray(base["sample_run"].values if "sample_run" in base else base["sample"].values, dtype=np.int64)
    sc = np.asarray(cf["sample_run"].values if "sample_run" in cf else cf["sample"].values, dtype=np.int64)
    common, ib, ic = np.intersect1d(sb, sc, return_indices=True)
    K = common.size
    ids = aio.agents(base)
    ia = np.array([ids.index(a) for a, _ in pairs])
    ja = np.array([ids.index(b) for _, b in pairs])
    T = base.sizes["time"]
    s1 = np.zeros((len(pairs), T))
    s2 = np.zeros((len(pairs), T))
    for start in range(0, K, BLOCK):
        xb = np.asarray(base["alignment"].isel(sample=ib[start:start + BLOCK]).values, dtype=np.float64)
        xc = np.asarray(cf["alignment"].isel(sample=ic[start:start + BLOCK]).values, dtype=np.float64)
        mb = 0.5 * (xb[:, :, ia, ja] + xb[:, :, ja, ia])  # (block, T, P)
        mc = 0.5 * (xc[:, :, ia, ja] + xc[:, :, ja, ia])
        d = mc - mb
        s1 += d.sum(axis=0).T
        s2 += (d * d).sum(axis=0).T
    if K == 0:
        return None, None, 0
    mean = s1 / K
    var = np.maximum(s2 - K * mean * mean, 0.0) / max(K - 1, 1)
    return mean, np.sqrt(var), K


def event_indicators(ds):
    em = np.asarray(ds["event_month"].values)
    return {str(e): em[:, k] >= 0 for k, e in enumerate(ds["event"].values)}


def event_dates(ds):
    return {str(e): str(d) for e, d in zip(ds["event"].values, ds["event_date"].values)}


def event_diffs(base, cf):
    """Rows (id, date, p_base, p_cf, diff, half_width, where) for events that differ in some run,
    and the count of events identical in every run."""
    Ib, Ic = event_indicators(base), event_indicators(cf)
    db, dc = event_dates(base), event_dates(cf)
    R = base.sizes["run"]
    order = list(Ib) + [e for e in Ic if e not in Ib]
    rows, same = [], 0
    for e in order:
        xb = Ib.get(e, np.zeros(R, bool))
        xc = Ic.get(e, np.zeros(R, bool))
        d = xc.astype(np.float64) - xb.astype(np.float64)
        if not np.any(d):
            same += 1
            continue
        sd = d.std(ddof=1) if R > 1 else float("nan")
        where = "both" if (e in Ib and e in Ic) else ("BASE only" if e in Ib else "CF only")
        rows.append((e, db.get(e) or dc.get(e), xb.mean(), xc.mean(), d.mean(), Z975 * sd / math.sqrt(R), where))
    rows.sort(key=lambda r: (r[1], order.index(r[0])))
    return rows, same


def changed_event_years(cf, rows):
    """Decimal years of the median month, in the counterfactual, of the (at most 6) events whose
    probability changed most (by 0.01 or more, interval excluding 0). An event that never happens in
    the counterfactual has no month there and gets no line (its baseline month would mislead)."""
    yrs = aio.years(cf)
    em_c = {str(e): np.asarray(cf["event_month"].values[:, k]) for k, e in enumerate(cf["event"].values)}
    changed = []
    for r in sorted(rows, key=lambda r: -abs(r[4])):
        if abs(r[4]) <= r[5] or abs(r[4]) < 0.01:
            continue
        em = em_c.get(r[0])
        if em is not None and np.any(em >= 0):
            changed.append(float(yrs[int(np.median(em[em >= 0]))]))
        if len(changed) == 6:
            break
    return changed


def footnote(paragraphs, width_inches, fontsize=7.5):
    """The paragraphs wrapped to a figure's width (about 0.5 em per character), one per line or more."""
    chars = max(40, int(width_inches * 72 / (0.5 * fontsize) * 0.92))
    return "\n".join(textwrap.fill(p, chars) for p in paragraphs)


def plot_dyads(base, cf, pairs, path, changed_dates, title):
    yrs = aio.years(base)
    R = base.sizes["run"]
    mean_d, sd_d, K = paired_dyad_stats(base, cf, pairs)
    if K < 2:
        aio.fail(f"the files share {K} stored run index(es); a paired band needs at least 2 "
                 f"(store more runs with --store-runs, the same in both)")
    t = t975(K - 1)
    nm = names(base)
    ids = aio.agents(base)
    mb = np.asarray(base["alignment_mean"].values, dtype=np.float64)
    mc = np.asarray(cf["alignment_mean"].values, dtype=np.float64)
    vb = np.asarray(base["alignment_std"].values, dtype=np.float64) ** 2
    vc = np.asarray(cf["alignment_std"].values, dtype=np.float64) ** 2
    n = len(pairs)
    ncols = 1 if n <= 3 else (2 if n <= 12 else 3)
    nrows = math.ceil(n / ncols)
    width = 8.0 if ncols == 1 else 6.6 * ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 2.2 * nrows + 2.1), sharex=True, sharey=True,
                             squeeze=False)
    lim = 0.02
    widest_paired = widest_unpaired = 0.0
    for p, (a, b) in enumerate(pairs):
        ax = axes[p // ncols][p % ncols]
        i, j = ids.index(a), ids.index(b)
        diff = mc[:, i, j] - mb[:, i, j]
        half = t * sd_d[p] / math.sqrt(R)
        unpaired = Z975 * np.sqrt((vb[:, i, j] + vc[:, i, j]) / R)
        ax.axhline(0, color="0.5", lw=0.8, zorder=1)
        for x in changed_dates:
            ax.axvline(x, color="0.55", lw=0.7, ls=":", zorder=1)
        ax.fill_between(yrs, diff - half, diff + half, color="C0", alpha=0.3, lw=0, zorder=2)
        ax.plot(yrs, diff - half, color="C0", lw=0.6, zorder=5)
        ax.plot(yrs, diff + half, color="C0", lw=0.6, zorder=5)
        widest_paired = max(widest_paired, float(np.nanmax(half)))
        widest_unpaired = max(widest_unpaired, float(np.nanmax(unpaired)))
        ax.plot(yrs, diff - unpaired, color="0.35", lw=0.6, ls=(0, (1.5, 1.5)), zorder=3)
        ax.plot(yrs, diff + unpaired, color="0.35", lw=0.6, ls=(0, (1.5, 1.5)), zorder=3)
        ax.plot(yrs, diff, color="C3", lw=1.0, zorder=6)
        lim = max(lim, np.nanmax(np.abs(diff) + half), np.nanmax(np.abs(diff)) * 1.05)
        ax.set_title(dyad_title(a, b, nm), fontsize=10, loc="left")
        ax.grid(True, color="0.9", lw=0.6, zorder=0)
        year_ticks(ax, yrs[0], yrs[-1])
    for ax in axes.flat:
        ax.set_ylim(-lim * 1.08, lim * 1.08)
    for p in range(n, nrows * ncols):
        axes[p // ncols][p % ncols].set_visible(False)
        above = p - ncols
        if above >= 0:
            axes[above // ncols][above % ncols].xaxis.set_tick_params(labelbottom=True)
    for r in range(nrows):
        axes[r][0].set_ylabel("ΔM (CF − BASE)")
    handles = [Line2D([], [], color="C3", lw=1.0, label="difference of means, all runs"),
               Patch(facecolor=(0.12, 0.47, 0.71, 0.3), edgecolor="C0", lw=0.6,
                     label=f"95% CI, paired ({K} stored run pairs)"),
               Line2D([], [], color="0.35", lw=0.8, ls=(0, (1.5, 1.5)), label="95% CI if unpaired")]
    if changed_dates:
        handles.append(Line2D([], [], color="0.55", lw=0.8, ls=":", label="events whose probability changed"))
    H, W = fig.get_figheight(), fig.get_figwidth()
    fig.suptitle(f"Counterfactual minus baseline: dyad alignment M\n{title}", fontsize=11, y=1 - 0.1 / H)
    ncol_legend = 2 if ncols == 1 else 4
    fig.legend(handles=handles, loc="upper center", ncol=ncol_legend, fontsize=8.5, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.82 / H))
    rows_legend = math.ceil(len(handles) / ncol_legend)
    note = footnote([f"Band: mean ± t·sd/√R, sd of the paired differences over the {K} stored runs with the same "
                     f"run index in both files, R = {R} runs; widest half-width {widest_paired:.4f} paired, "
                     f"{widest_unpaired:.4f} unpaired.",
                     "Dotted vertical lines: median month, in the counterfactual, of the (at most 6) events whose "
                     "probability changed most, by 0.01 or more and significantly, among those that happen in it."], W)
    fig.subplots_adjust(left=0.8 / W, right=1 - 0.2 / W, bottom=(0.55 + 0.13 * note.count("\n")) / H,
                        top=1 - (1.25 + 0.2 * rows_legend) / H, hspace=0.32, wspace=0.05)
    fig.text(0.5, 0.08 / H, note, ha="center", va="bottom", fontsize=7.5, color="0.3")
    aio.save_figure(fig, path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


def plot_events(rows, same, path, title, R):
    n = len(rows)
    height = 0.24 * max(n, 3) + 2.6
    fig, ax = plt.subplots(figsize=(11, height))
    if n == 0:
        fig.text(0.5, 0.4, "No event differs between the two files in any run.", ha="center", va="center",
                 fontsize=11)
        ax.set_axis_off()
    else:
        y = np.arange(n)
        for row in range(0, n, 2):
            ax.axhspan(row - 0.5, row + 0.5, color="0.95", lw=0, zorder=0)
        diff = np.array([r[4] for r in rows])
        half = np.array([r[5] for r in rows])
        sig = np.abs(diff) > half
        colors = ["C3" if d > 0 and s else ("C0" if d < 0 and s else "0.65") for d, s in zip(diff, sig)]
        ax.barh(y, diff, height=0.62, color=colors, zorder=2)
        ax.errorbar(diff, y, xerr=half, fmt="none", ecolor="0.15", elinewidth=0.9, capsize=2.5, zorder=3)
        ax.axvline(0, color="0.3", lw=0.8, zorder=1)
        lim = max(0.02, float(np.max(np.abs(diff) + half)))
        # Room for the labels beside the bars, but differences of probabilities lie in [-1, 1].
        xmax = max(min(lim * 2.1, 1.0), lim)
        ax.set_xlim(-xmax, xmax)
        for k, r in enumerate(rows):
            digits = 3 if r[5] >= 0.001 else (4 if r[5] >= 0.0001 else 5)
            note = (f"{r[2]:.3f} → {r[3]:.3f}  ({r[4]:+.{digits}f} ± {r[5]:.{digits}f})"
                    + ("" if r[6] == "both" else f"  [{r[6]}]"))
            right = diff[k] >= 0
            x = diff[k] + half[k] if right else diff[k] - half[k]
            if abs(x) > xmax / 2.1:  # no room beyond the bar's end: the label goes on the other side of 0
                right, x = not right, 0.0
            ax.text(x + (0.02 if right else -0.02) * lim, k, note, va="center",
                    ha="left" if right else "right", fontsize=7, zorder=4,
                    color={"C3": "#a01010", "C0": "#0b4f8a"}.get(colors[k], "0.35"))
        ax.set_yticks(y)
        ax.set_yticklabels([f"{r[1]}  {r[0]}" for r in rows], fontsize=7.5, family="monospace")
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlabel("difference in probability, CF − BASE   (labels: BASE → CF probability (difference ± 95% half-width), "
                      "coloured like the bar)", fontsize=9)
        ax.grid(True, axis="x", color="0.88", lw=0.6, zorder=1)
        ax.tick_params(axis="x", labelsize=8, top=True, labeltop=True)
        ax.tick_params(axis="y", length=0)
        handles = [Patch(color="C3", label="likelier in CF"), Patch(color="C0", label="less likely in CF"),
                   Patch(color="0.65", label="CI includes 0"),
                   Line2D([], [], color="0.15", marker="|", ls="-", lw=0.9, label="95% CI (paired, normal approx.)")]
        fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 1 - 1.0 / height))
    fig.suptitle(f"Counterfactual minus baseline: event probabilities ({n} events differ in some run; "
                 f"{same} identical in every run, not shown)\n{title}", fontsize=11, y=1 - 0.1 / height)
    fig.subplots_adjust(left=0.3, right=0.97, top=1 - 1.75 / height, bottom=0.65 / height)
    aio.save_figure(fig, path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Both files need the same --seed and --runs (paired, common random numbers).")
    ap.add_argument("base", help="baseline ensemble file (.h5)")
    ap.add_argument("cf", help="counterfactual ensemble file (.h5), same seed and runs")
    ap.add_argument("--out", required=True, help="directory for the PNG files (created if needed)")
    ap.add_argument("--dyads", help="comma-separated dyads, e.g. PK-RU,PK-US (default: every dyad)")
    ap.add_argument("--prefix", help="file name prefix (default: <cf stem>_vs_<base stem>)")
    args = ap.parse_args(argv)

    base = aio.open_or_exit(args.base)
    cf = aio.open_or_exit(args.cf)
    check_pair(base, cf, args.base, args.cf)
    try:
        pairs = aio.parse_dyads(base, args.dyads)
    except (KeyError, ValueError) as e:
        aio.fail(str(e).strip("'\""))
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        aio.fail(f"--out {args.out}: it is a file, not a folder")
    os.makedirs(args.out, exist_ok=True)
    stem = lambda p: os.path.splitext(os.path.basename(p))[0]  # noqa: E731
    prefix = args.prefix if args.prefix is not None else f"{stem(args.cf)}_vs_{stem(args.base)}"
    R = base.sizes["run"]
    title = (f"CF: {aio.scenario_title(cf)}\nBASE: {aio.scenario_title(base)}\n"
             f"{R} runs each, seed {base.attrs.get('seed')}, paired by run index")

    rows, same = event_diffs(base, cf)
    changed = changed_event_years(cf, rows)

    written = []
    path = os.path.join(args.out, f"{prefix}_dyads.png")
    plot_dyads(base, cf, pairs, path, sorted(set(changed)), title)
    written.append(path)
    path = os.path.join(args.out, f"{prefix}_events.png")
    plot_events(rows, same, path, title, R)
    written.append(path)
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    aio.run_script(main)
