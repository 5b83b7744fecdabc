#!/usr/bin/env python3
"""Figures of one alignsim ensemble file.

    /usr/bin/python3 analysis/plot_ensemble.py FILE.h5 --out DIR [--dyads PK-RU,PK-US] [--dates 1950,1971-12]

Writes, into DIR (created if needed), PNG files named after the input file's stem:

  <stem>_dyads.png     one panel per dyad: ensemble mean of M = (W + W^T)/2 over all runs, the 25-75%
                       and 5-95% quantile bands over all runs, a few stored runs as thin lines, and
                       ticks at the dates of events whose actors include both agents of the dyad;
  <stem>_events.png    every event, by scheduled date: the share of runs in which it happened (bar)
                       and, over the runs in which it happened, its month, both as a year and relative
                       to the scheduled date: median (dot), 25-75% (thick), 5-95% (thin), scheduled
                       date as a cross; events whose occurrence or month varies between runs are
                       coloured, fixed ones grey (skipped when the file has no events);
  <stem>_heatmaps.png  the mean M at chosen dates, with the two blocs of the leading eigenvector and the
                       least frustration of that matrix (see alignsim_io.blocs / frustration).

Prints the path of each file written. Run with Debian's /usr/bin/python3 (see analysis/README.md).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

import alignsim_io as aio  # noqa: E402

DPI = 130
DASH = "\u2013"


def names(ds):
    """Agent id -> display names over the horizon ("USSR/Russia")."""
    return aio.display_names(ds)


def fmt_prob(p):
    """0.832, 0.06, >0.999, <0.001, 0, 1."""
    if p <= 0 or p >= 1:
        return f"{p:.0f}"
    if p > 0.999:
        return ">0.999"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}".rstrip("0")


def band_levels(ds):
    """Symmetric quantile pairs stored in the file, widest first, at most two: by default
    [(0.05, 0.95), (0.25, 0.75)]."""
    levels = [float(q) for q in ds["quantile"].values]
    pairs = []
    for q in sorted(levels):
        if q < 0.5 and aio.quantile_or_none(ds, 1 - q, tol=1e-4) is not None:
            pairs.append((q, aio.quantile_or_none(ds, 1 - q, tol=1e-4)))
    return pairs[:2]


def dyad_title(a, b, nm):
    """'PK–RU   (Pakistan – USSR)', without the names when they are the ids."""
    title = f"{a}{DASH}{b}"
    if (nm.get(a, a), nm.get(b, b)) != (a, b):
        title += f"   ({nm.get(a, a)} {DASH} {nm.get(b, b)})"
    return title


def event_actors(ds) -> dict[str, list[str]]:
    """Event id -> actors, from the scenario text stored in the file."""
    return {str(e.get("id")): list(e.get("actors", [])) for e in aio.scenario(ds).get("events", [])}


def event_months(ds) -> np.ndarray:
    """event_month (run, event) as int array; -1 = did not happen."""
    return np.asarray(ds["event_month"].values, dtype=np.int64)


def year_ticks(ax, x0, x1):
    span = x1 - x0
    step = next((s for s in (1, 2, 5, 10, 20, 50) if span / s <= 12), 100)
    if span < 3:  # a short horizon: ticks every quarter/half year labelled as YYYY-MM
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(0.25 if span <= 2 else 0.5))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: f"{int(math.floor(v + 1e-9))}-{int(round((v - math.floor(v + 1e-9)) * 12)) + 1:02d}"))
    else:
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(step))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%d"))
    ax.set_xlim(x0, x1)


# ------------------------------------------------------------------------------------------------
# (a) dyads


def plot_dyads(ds, pairs, path, show_runs=5, event_marks=True):
    yrs = aio.years(ds)
    nm = names(ds)
    n = len(pairs)
    ncols = 1 if n <= 3 else (2 if n <= 12 else 3)
    nrows = math.ceil(n / ncols)
    width = 8.0 if ncols == 1 else 6.6 * ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, 2.35 * nrows + 1.6), sharex=True, sharey=True,
                             squeeze=False)
    bands = band_levels(ds)  # [(lo, hi), ...] widest first; at most two drawn
    k = min(show_runs, ds.sizes.get("sample", 0))
    actors = event_actors(ds) if event_marks else {}
    em = event_months(ds) if event_marks and ds.sizes.get("event", 0) else None
    ev_ids = [str(e) for e in ds["event"].values]
    for idx, (a, b) in enumerate(pairs):
        ax = axes[idx // ncols][idx % ncols]
        ax.axhline(0, color="0.6", lw=0.7, zorder=1)
        for (qlo, qhi), alpha, z in zip(bands, (0.18, 0.35), (2, 3)):
            lo, hi = aio.dyad_band(ds, a, b, qlo, qhi)
            ax.fill_between(yrs, lo.values, hi.values, color="C0", alpha=alpha, lw=0, zorder=z)
        if k:
            runs = aio.dyad_runs(ds, a, b, samples=slice(0, k))
            for r in runs:
                ax.plot(yrs, r, color="0.25", lw=0.45, alpha=0.55, zorder=4)
        ax.plot(yrs, aio.dyad_mean(ds, a, b).values, color="C3", lw=1.6, zorder=5)
        if em is not None:
            # ticks at the bottom for events involving both agents, at the median month they happen
            for e, eid in enumerate(ev_ids):
                act = actors.get(eid, [])
                if a in act and b in act:
                    happened = em[:, e][em[:, e] >= 0]
                    if happened.size:
                        t = int(np.median(happened))
                        ax.plot([yrs[t], yrs[t]], [-1.21, -1.1], color="k", lw=0.8,
                                alpha=0.3 + 0.7 * happened.size / em.shape[0], zorder=6)
        ax.set_title(dyad_title(a, b, nm), fontsize=10, loc="left")
        ax.set_ylim(-1.23 if em is not None else -1.08, 1.08)
        ax.set_yticks([-1, -0.5, 0, 0.5, 1])
        ax.grid(True, color="0.9", lw=0.6, zorder=0)
        year_ticks(ax, yrs[0], yrs[-1])
    for idx in range(n, nrows * ncols):
        axes[idx // ncols][idx % ncols].set_visible(False)
        # keep x tick labels on the panel above an empty slot
        above = idx - ncols
        if above >= 0:
            axes[above // ncols][above % ncols].xaxis.set_tick_params(labelbottom=True)
    for r in range(nrows):
        axes[r][0].set_ylabel("alignment M")
    handles = [Line2D([], [], color="C3", lw=1.6, label="mean, all runs")]
    for (qlo, qhi), alpha in reversed(list(zip(bands, (0.18, 0.35 + 0.18 * 0.65)))):
        handles.append(Patch(color="C0", alpha=alpha, label=f"{100 * qlo:g}–{100 * qhi:g}% of runs"))
    if k:
        handles.append(Line2D([], [], color="0.25", lw=0.6, alpha=0.7, label=f"{k} stored runs"))
    if em is not None:
        handles.append(Line2D([], [], color="k", lw=0.8, marker="|", ls="", markersize=8,
                              label="event involving both (median month)"))
    H = fig.get_figheight()
    fig.suptitle(f"Dyad alignment M = (W + Wᵀ)/2\n{aio.describe(ds)}", fontsize=12, y=1 - 0.1 / H)
    W = fig.get_figwidth()
    ncol_legend = 3 if ncols == 1 else 5
    legend_rows = math.ceil(len(handles) / ncol_legend)
    fig.legend(handles=handles, loc="upper center", ncol=ncol_legend, fontsize=8.5, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.55 / H))
    fig.subplots_adjust(left=0.75 / W, right=1 - 0.2 / W, bottom=(0.7 if em is not None else 0.45) / H, top=1 - (0.95 + 0.2 * legend_rows) / H,
                        hspace=0.32, wspace=0.05)
    if em is not None:
        fig.text(0.5, 0.08 / H, "Ticks at the foot of a panel: events whose actors include both agents, at the median "
                 "month they happen; darker = likelier.", ha="center", fontsize=7.5, color="0.3")
    aio.save_figure(fig, path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------
# (b) events


def plot_events(ds, path):
    yrs = aio.years(ds)
    em = event_months(ds)
    R, E = em.shape
    ids = [str(e) for e in ds["event"].values]
    dates = [str(d) for d in ds["event_date"].values]
    prob = (em >= 0).mean(axis=0)
    order = sorted(range(E), key=lambda e: (dates[e], e))  # scheduled date, then file order
    months = aio.month_labels(ds)
    y0, m0 = (int(v) for v in months[0].split("-")[:2])

    def month_number(d):  # months since the first month of the horizon (may fall outside it)
        try:
            y, m = (int(v) for v in d.split("-")[:2])
        except ValueError:
            return None
        return (y - y0) * 12 + (m - m0)

    stats = {}
    for e in range(E):
        happened = em[:, e][em[:, e] >= 0]
        nominal = month_number(dates[e])
        varies = bool((0 < prob[e] < 1) or (happened.size and happened.min() != happened.max()))
        pct = np.percentile(happened, [5, 25, 50, 75, 95], method="nearest") if happened.size else None
        stats[e] = (happened, nominal, varies, pct)
    offsets = [stats[e][3] - stats[e][1] for e in range(E) if stats[e][3] is not None and stats[e][1] is not None]
    lo_off = min([0] + [o[0] for o in offsets])
    hi_off = max([0] + [o[4] for o in offsets])
    pad = max(1.0, 0.06 * (hi_off - lo_off))

    height = 0.2 * E + 2.0
    fig, (axp, axt, axo) = plt.subplots(1, 3, figsize=(14, height), sharey=True,
                                        gridspec_kw={"width_ratios": [1.0, 2.6, 1.7], "wspace": 0.1})
    for ax in (axp, axt, axo):
        for row in range(0, E, 2):
            ax.axhspan(row - 0.5, row + 0.5, color="0.95", lw=0, zorder=0)
    varied = 0
    for row, e in enumerate(order):
        happened, nominal, varies, pct = stats[e]
        varied += varies
        col = "C0" if varies else "0.6"
        dot = "C3" if varies else "0.3"
        axp.barh(row, prob[e], height=0.66, color=col, zorder=2)
        if prob[e] < 1:
            label = fmt_prob(prob[e])
            inside = prob[e] > 0.7
            axp.text(prob[e] - 0.02 if inside else prob[e] + 0.02, row, label, va="center",
                     ha="right" if inside else "left", fontsize=6.5, color="white" if inside else "0.15", zorder=3)
        if nominal is not None:
            xn = y0 + (m0 - 1 + nominal) / 12
            axt.plot([xn], [row], marker="x", color="0.35", ms=3.8, mew=0.9, zorder=3)
        if pct is None:
            axt.text((y0 + (m0 - 1 + nominal) / 12 if nominal is not None else yrs[0]) + 0.5, row, "never",
                     va="center", fontsize=6.5, color="C3", zorder=6)
            continue
        p5, p25, p50, p75, p95 = yrs[pct]
        axt.plot([p5, p95], [row, row], color=col, lw=1.0, zorder=4, solid_capstyle="butt")
        axt.plot([p25, p75], [row, row], color=col, lw=3.4, zorder=5, solid_capstyle="butt")
        axt.plot([p50], [row], marker="o", color=dot, ms=3.2, zorder=6)
        if nominal is not None:
            o = pct - nominal
            axo.plot([o[0], o[4]], [row, row], color=col, lw=1.0, zorder=4, solid_capstyle="butt")
            axo.plot([o[1], o[3]], [row, row], color=col, lw=3.4, zorder=5, solid_capstyle="butt")
            axo.plot([o[2]], [row], marker="o", color=dot, ms=3.2, zorder=6)
    axp.set_yticks(np.arange(E))
    axp.set_yticklabels([f"{dates[e]}  {ids[e]}" for e in order], fontsize=7, family="monospace")
    axp.set_ylim(E - 0.5, -0.5)
    axp.set_xlim(0, 1)
    axp.set_xticks([0, 0.5, 1])
    axp.set_xlabel("probability\n(share of runs)", fontsize=8.5)
    axt.set_xlabel("year it happens, in the runs where it does\n(× = scheduled date)", fontsize=8.5)
    pad_years = 0.5 if yrs[-1] - yrs[0] > 5 else 1.5 / 12
    year_ticks(axt, yrs[0] - pad_years, yrs[-1] + pad_years)
    axo.set_xlabel("months after the scheduled date\n(decision events: after the date given)", fontsize=8.5)
    axo.set_xlim(lo_off - pad, hi_off + pad)
    axo.axvline(0, color="0.5", lw=0.8, zorder=1)
    axo.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=8, integer=True))
    for ax in (axp, axt, axo):
        ax.grid(True, axis="x", color="0.85", lw=0.6, zorder=1)
        ax.tick_params(axis="x", labelsize=8, top=True, labeltop=True)
        ax.tick_params(axis="y", length=0)
    handles = [Patch(color="C0", label="varies between runs"), Patch(color="0.6", label="same in every run"),
               Line2D([], [], color="C0", lw=3.4, label="25–75% of runs"),
               Line2D([], [], color="C0", lw=1.0, label="5–95%"),
               Line2D([], [], color="C3", marker="o", ls="", ms=4, label="median"),
               Line2D([], [], color="0.35", marker="x", ls="", ms=5, label="scheduled date")]
    fig.suptitle(f"Events: probability and timing ({E} events, {varied} vary between runs)\n{aio.describe(ds)}",
                 fontsize=11.5, y=1 - 0.12 / height)
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.62 / height))
    fig.subplots_adjust(left=0.235, right=0.985, top=1 - 1.3 / height, bottom=0.8 / height)
    aio.save_figure(fig, path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------
# (c) heatmaps


def pick_dates(ds, text, count=6):
    months = aio.month_labels(ds)
    T = len(months)
    if not text:
        idx = [int(round(x)) for x in np.linspace(0, T - 1, min(count, T))]
        if T > 12 * 5:  # a long horizon: the inner dates move to the nearest January
            for p in range(1, len(idx) - 1):
                jan = [i for i, m in enumerate(months) if m.endswith("-01")]
                idx[p] = min(jan, key=lambda i: abs(i - idx[p]))
        return sorted(set(idx))
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if item in months:
            out.append(months.index(item))
            continue
        if item.isdigit() and len(item) == 4:  # a year: its January, or the first month of it in the horizon
            hits = [i for i, m in enumerate(months) if m.startswith(item + "-")]
            if hits:
                out.append(hits[0])
                continue
        raise ValueError(f"date {item!r} is not in the horizon {months[0]}..{months[-1]} (use YYYY or YYYY-MM)")
    return out


def plot_heatmaps(ds, tindex, path):
    ids = aio.agents(ds)
    n = len(ids)
    months = aio.month_labels(ds)
    k = len(tindex)
    ncols = 2 if k == 4 else min(k, 3)
    nrows = math.ceil(k / ncols)
    cell = 0.6 + 0.42 * n  # inches per matrix
    W = ncols * (cell + 0.55) + 1.4
    H = nrows * (cell + 0.95) + 1.35
    fig, axes = plt.subplots(nrows, ncols, figsize=(W, H), squeeze=False)
    fig.subplots_adjust(left=0.55 / W, right=1 - 1.35 / W, top=1 - 1.3 / H, bottom=0.75 / H,
                        hspace=0.95 / cell, wspace=0.55 / cell)
    mean = np.asarray(ds["alignment_mean"].values, dtype=np.float64)
    cmap = plt.get_cmap("RdBu").copy()
    cmap.set_bad("0.85")
    im = None
    for p, t in enumerate(tindex):
        ax = axes[p // ncols][p % ncols]
        M = mean[t].copy()
        np.fill_diagonal(M, np.nan)
        im = ax.imshow(M, cmap=cmap, vmin=-1, vmax=1)
        for i in range(n):
            for j in range(n):
                if i != j and np.isfinite(M[i, j]):
                    ax.text(j, i, f"{M[i, j]:+.2f}", ha="center", va="center", fontsize=7.5 if n <= 8 else 5.5,
                            color="white" if abs(M[i, j]) > 0.55 else "black")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xticklabels(ids, fontsize=8)
        ax.set_yticklabels(ids, fontsize=8)
        ax.tick_params(length=0)
        lab = aio.blocs(M)
        F = aio.frustration(M)
        ax.set_title(f"{months[t]}\nblocs {aio.format_blocs(ids, lab)}\nfrustration {F:.2f}", fontsize=8.5)
    for p in range(k, nrows * ncols):
        axes[p // ncols][p % ncols].set_visible(False)
    fig.suptitle(f"Mean dyad alignment M at chosen months\n{aio.describe(ds)}", fontsize=11, y=1 - 0.12 / H)
    cax = fig.add_axes((1 - 1.05 / W, 0.2, 0.18 / W, 0.6))
    fig.colorbar(im, cax=cax, label="M (−1 hostile, +1 allied)")
    fig.text(0.01, 0.01, "blocs: sign pattern of the leading eigenvector of M (Marvel et al. 2011); frustration: "
             "least weight of friendly ties\ncut plus hostile ties kept within a bloc over all two-bloc splits "
             "(unweighted; 0 = structurally balanced)", fontsize=7, color="0.3", va="bottom")
    aio.save_figure(fig, path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Figures: <stem>_dyads.png, <stem>_events.png, <stem>_heatmaps.png.")
    ap.add_argument("file", help="alignsim ensemble file (.h5)")
    ap.add_argument("--out", required=True, help="directory for the PNG files (created if needed)")
    ap.add_argument("--dyads", help="comma-separated dyads, e.g. PK-RU,PK-US (default: every dyad)")
    ap.add_argument("--dates", help="months for the heatmaps, e.g. 1950,1960,1971-12 (default: 6 evenly spaced)")
    ap.add_argument("--runs-shown", type=int, default=5, metavar="K", help="stored runs drawn as thin lines (default 5)")
    ap.add_argument("--no-event-marks", action="store_true", help="no event ticks in the dyad panels")
    ap.add_argument("--prefix", help="file name prefix (default: the input file's stem)")
    args = ap.parse_args(argv)

    ds = aio.open_or_exit(args.file)
    try:
        pairs = aio.parse_dyads(ds, args.dyads)
        tindex = pick_dates(ds, args.dates)
    except (KeyError, ValueError) as e:
        aio.fail(str(e).strip("'\""))
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        aio.fail(f"--out {args.out}: it is a file, not a folder")
    os.makedirs(args.out, exist_ok=True)
    prefix = args.prefix if args.prefix is not None else os.path.splitext(os.path.basename(args.file))[0]
    written = []

    path = os.path.join(args.out, f"{prefix}_dyads.png")
    plot_dyads(ds, pairs, path, show_runs=max(args.runs_shown, 0), event_marks=not args.no_event_marks)
    written.append(path)
    if ds.sizes.get("event", 0):
        path = os.path.join(args.out, f"{prefix}_events.png")
        plot_events(ds, path)
        written.append(path)
    else:
        print(f"{args.file}: no events in the scenario; no event figure", file=sys.stderr)
    path = os.path.join(args.out, f"{prefix}_heatmaps.png")
    plot_heatmaps(ds, tindex, path)
    written.append(path)
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    aio.run_script(main)
