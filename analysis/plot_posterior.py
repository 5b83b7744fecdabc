#!/usr/bin/env python3
"""Figures of a posterior and of a comparison of posterior ensembles.

    /usr/bin/python3 analysis/plot_posterior.py --posterior POSTERIOR.csv --out DIR
    /usr/bin/python3 analysis/plot_posterior.py --compare COMPARE.h5 --out DIR [--name NAME]

--posterior (a file of `alignsim calibrate --posterior`) writes into DIR:

  posterior_marginals.png  each parameter's posterior (weighted histogram of the particles) over its
                           prior (the line, from the file's "# prior" comments); the last panel sums up
                           the decisions' intercepts: how far each posterior mean moved from its prior
                           mean, and how much narrower it is, in prior standard deviations.
  posterior_pairs.png      the particles of the dynamics' rates two by two: what the targets tie together.

--compare (the HDF5 file of `alignsim compare --h5` on two posterior ensembles) writes:

  NAME_effect_distribution.png  for each dyad and era, the distribution over the posterior draws of the
                                draw's own mean effect (counterfactual minus baseline; a violin), the
                                5-95% range across draws (the bar), and the Monte Carlo 95% interval of
                                the mean over all runs (the black tick). A star marks a robust sign (90%
                                of the draws agree).
  NAME_decision_shifts.png      the decisions the counterfactual did not change whose probability moved
                                (the Monte Carlo interval excludes 0), by date: the mean shift, its Monte
                                Carlo interval and its 5-95% range across the posterior draws.

NAME defaults to the counterfactual's file name as the comparison records it. Exits 2 with one line
on stderr for a file that is not of the expected kind.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import os
import re
import sys
import textwrap

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alignsim_io as aio  # noqa: E402

RATES = ["k_a", "k_r", "k_b", "sigma", "shock_scale", "k_p", "k_0"]


def read_posterior(path):
    """(priors {name: text}, names, weights, values [particle, name]) of a posterior file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    priors = {}
    for line in text.splitlines():
        m = re.match(r"# prior (\S+): (.*)$", line)
        if m:
            priors[m.group(1)] = m.group(2)
    rows = list(csv.reader(io.StringIO("\n".join(l for l in text.splitlines() if l and not l.startswith("#")))))
    if not rows or rows[0][:3] != ["draw", "weight", "loss"]:
        raise ValueError(f"'{path}' is not a posterior file of alignsim calibrate --posterior (no 'draw,weight,loss' header)")
    names = rows[0][3:]
    data = np.array([[float(x) for x in r] for r in rows[1:]])
    return priors, names, data[:, 1], data[:, 3:]


def prior_density(text, x):
    """The prior's density at x from its description, or None when it cannot be read."""
    m = re.match(r"uniform on \[([-\d.e+]+), ([-\d.e+]+)\]", text)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return np.where((x >= lo) & (x <= hi), 1.0 / (hi - lo), 0.0)
    m = re.match(r"log-normal, median ([-\d.e+]+), sd of ln ([-\d.e+]+)", text)
    if m:
        med, s = float(m.group(1)), float(m.group(2))
        xx = np.maximum(x, 1e-12)
        return np.exp(-0.5 * ((np.log(xx) - math.log(med)) / s) ** 2) / (xx * s * math.sqrt(2 * math.pi))
    m = re.match(r"normal, mean ([-\d.e+]+), sd ([-\d.e+]+)", text)
    if m:
        mu, s = float(m.group(1)), float(m.group(2))
        return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    return None


def normal_prior(text):
    m = re.match(r"normal, mean ([-\d.e+]+), sd ([-\d.e+]+)", text)
    return (float(m.group(1)), float(m.group(2))) if m else None


def weighted_mean_sd(x, w):
    mean = float(np.sum(w * x) / np.sum(w))
    return mean, float(math.sqrt(max(0.0, np.sum(w * (x - mean) ** 2) / np.sum(w))))


def note(fig, paragraphs, width):
    chars = max(40, int(width * 72 / (0.5 * 7.5) * 0.92))
    fig.text(0.5, 0.005, "\n".join(textwrap.fill(p, chars) for p in paragraphs), ha="center", va="bottom",
             fontsize=7.5, color="0.3")


def plot_marginals(priors, names, w, values, path, source):
    params = [n for n in names if not n.startswith("b0:")]
    intercepts = [n for n in names if n.startswith("b0:")]
    panels = len(params) + (1 if intercepts else 0)
    cols = 4
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.6 * rows + 1.2), squeeze=False)
    for k, name in enumerate(params):
        ax = axes[k // cols][k % cols]
        x = values[:, names.index(name)]
        lo, hi = np.min(x), np.max(x)
        m = re.search(r"\[([-\d.e+]+), ([-\d.e+]+)\]", priors.get(name, ""))
        if m and priors.get(name, "").startswith("uniform"):
            lo, hi = float(m.group(1)), float(m.group(2))
        else:
            pad = 0.15 * (hi - lo + 1e-12)
            lo, hi = max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad
        ax.hist(x, bins=24, range=(lo, hi), weights=w, density=True, color="#4c72b0", alpha=0.75, label="posterior")
        grid = np.linspace(lo, hi, 200)
        dens = prior_density(priors.get(name, ""), grid)
        if dens is not None:
            ax.plot(grid, dens, color="0.2", lw=1.2, label="prior")
        mean, sd = weighted_mean_sd(x, w)
        ax.set_title(f"{name}\nposterior {mean:.3g} ± {sd:.2g}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
        if k == 0:
            ax.legend(fontsize=7, frameon=False)
    if intercepts:
        ax = axes[(panels - 1) // cols][(panels - 1) % cols]
        shift, narrow = [], []
        for name in intercepts:
            prior = normal_prior(priors.get(name, ""))
            if prior is None:
                continue
            mean, sd = weighted_mean_sd(values[:, names.index(name)], w)
            shift.append((mean - prior[0]) / prior[1])
            narrow.append(sd / prior[1])
        ax.scatter(shift, narrow, s=9, color="#dd8452")
        ax.axvline(0, color="0.6", lw=0.8)
        ax.axhline(1, color="0.6", lw=0.8)
        ax.set_xlabel("posterior mean − prior mean, in prior sd", fontsize=8)
        ax.set_ylabel("posterior sd / prior sd", fontsize=8)
        ax.set_title(f"{len(shift)} decision intercepts (window log-odds)", fontsize=9)
        ax.tick_params(labelsize=7)
    for k in range(panels, rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle(f"Posterior of the free numbers ({len(w)} weighted particles, effective sample size "
                 f"{np.sum(w) ** 2 / np.sum(w ** 2):.0f})", fontsize=11)
    note(fig, [f"Source: {source}. Bars: the posterior (weighted histogram of the particles); line: the prior "
               "as the file states it. An intercept near (0, 1) is where its prior put it: the targets say little "
               "of that decision; below 1, the targets narrowed it."], 12)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    aio.save_figure(fig, path, dpi=110)
    plt.close(fig)


def plot_pairs(names, w, values, path, source):
    params = [n for n in RATES if n in names]
    n = len(params)
    if n < 2:
        return False
    fig, axes = plt.subplots(n, n, figsize=(1.45 * n + 1, 1.45 * n + 1.2), squeeze=False)
    size = 4 + 40 * w / np.max(w)
    for i, a in enumerate(params):
        for j, b in enumerate(params):
            ax = axes[i][j]
            ax.tick_params(labelsize=6)
            if j > i:
                ax.axis("off")
                continue
            x, y = values[:, names.index(b)], values[:, names.index(a)]
            if i == j:
                ax.hist(x, bins=20, weights=w, color="#4c72b0", alpha=0.75)
                ax.set_yticks([])
            else:
                ax.scatter(x, y, s=size, alpha=0.35, color="#4c72b0", linewidths=0)
                r = np.corrcoef(x, y)[0, 1] if np.std(x) > 0 and np.std(y) > 0 else float("nan")
                ax.text(0.03, 0.97, f"r={r:+.2f}", transform=ax.transAxes, fontsize=6, va="top")
            if i == n - 1:
                ax.set_xlabel(b, fontsize=8)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(a, fontsize=8)
            elif j > 0:
                ax.set_yticklabels([])
    fig.suptitle("Posterior particles of the dynamics' rates, two by two", fontsize=11)
    note(fig, [f"Source: {source}. Point size: the particle's weight; r: the correlation across particles."], 1.45 * n + 1)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    aio.save_figure(fig, path, dpi=110)
    plt.close(fig)
    return True


def strings(ds):
    return [s.decode() if isinstance(s, bytes) else str(s) for s in ds[()]]


def read_comparison(path):
    with h5py.File(path, "r") as f:
        if "comparison" not in f:
            raise ValueError(f"'{path}' has no group /comparison: not a file of alignsim compare --h5")
        g = f["comparison"]
        if "era_alignment_draw_mean" not in g:
            raise ValueError(f"'{path}' compares ensembles with fixed parameters: run both with ensemble --posterior")
        out = {name: g[name][()] for name in g if isinstance(g[name], h5py.Dataset) and g[name].dtype.kind != "O"}
        for name in ("era", "agent", "event", "event_role"):
            out[name] = strings(g[name])
        out["counterfactual"] = g.attrs["counterfactual"]
        out["counterfactual"] = out["counterfactual"].decode() if isinstance(out["counterfactual"], bytes) else str(out["counterfactual"])
        out["draws"] = int(g.attrs["draws"])
        out["runs"] = int(g.attrs["runs"])
    return out


def plot_effects(c, path, name):
    agents, eras = c["agent"], c["era"]
    n = len(agents)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    cols = 2
    rows = math.ceil(len(pairs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.3 * rows + 1.4), squeeze=False, sharex=True)
    draw_mean = c["era_alignment_draw_mean"]
    x = np.arange(len(eras))
    for k, (i, j) in enumerate(pairs):
        ax = axes[k // cols][k % cols]
        data = [draw_mean[:, e, i, j] for e in range(len(eras))]
        parts = ax.violinplot(data, positions=x, widths=0.8, showextrema=False)
        for body in parts["bodies"]:
            body.set_facecolor("#4c72b0")
            body.set_alpha(0.35)
        lo, hi = c["era_alignment_draws_low"][:, i, j], c["era_alignment_draws_high"][:, i, j]
        ax.vlines(x, lo, hi, color="#4c72b0", lw=2.2, label="across parameters, 5-95%")
        mean = c["era_alignment_difference"][:, i, j]
        ax.errorbar(x, mean, yerr=[mean - c["era_alignment_ci_low"][:, i, j], c["era_alignment_ci_high"][:, i, j] - mean],
                    fmt="o", color="black", ms=3, capsize=3, lw=1, label="mean, Monte Carlo 95%")
        for e in range(len(eras)):
            if c["era_alignment_robust"][e, i, j]:
                ax.text(x[e], hi[e], "*", ha="center", va="bottom", fontsize=10)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_title(f"{agents[i]}-{agents[j]}", fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7, frameon=False, loc="lower left")
    for k in range(len(pairs), rows * cols):
        axes[k // cols][k % cols].axis("off")
    for ax in axes[-1]:
        ax.set_xticks(x)
        ax.set_xticklabels([e.replace("_", " ") for e in eras], rotation=30, ha="right", fontsize=7)
    fig.suptitle(f"{name}: effect on each dyad's alignment M per era, over the posterior", fontsize=11)
    note(fig, [f"Counterfactual minus baseline, paired run by run; {c['runs']} runs over {c['draws']} posterior draws. "
               "Violin: each draw's own mean effect; blue bar: its 5-95% range across draws (what the parameters leave "
               "open); black: the mean over all runs with its Monte Carlo 95% interval (how precisely the runs pin the "
               "average; more runs narrow it). *: the sign holds in at least 90% of the draws."], 12)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    aio.save_figure(fig, path, dpi=110)
    plt.close(fig)


def plot_decisions(c, path, name, limit=30):
    low, high = c["event_probability_ci_low"], c["event_probability_ci_high"]
    moved = [k for k, role in enumerate(c["event_role"]) if role == "responded" and (low[k] > 0 or high[k] < 0)]
    moved.sort(key=lambda k: -abs(c["event_probability_difference"][k]))
    shown = moved[:limit]
    shown.sort(key=lambda k: c["event"][k])
    order = sorted(shown, key=lambda k: moved.index(k))
    fig, ax = plt.subplots(figsize=(9, 0.32 * max(len(order), 3) + 2))
    y = np.arange(len(order))[::-1]
    for row, k in zip(y, order):
        d = c["event_probability_difference"][k]
        ax.hlines(row, c["event_probability_draws_low"][k], c["event_probability_draws_high"][k], color="#4c72b0", lw=4,
                  alpha=0.5)
        ax.hlines(row, low[k], high[k], color="black", lw=1.5)
        ax.plot([d], [row], "o", color="black", ms=3)
    ax.set_yticks(y)
    ax.set_yticklabels([c["event"][k] for k in order], fontsize=7)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_xlabel("change in the probability that the decision is made (counterfactual minus baseline)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"{name}: later decisions whose probability moved, over the posterior", fontsize=10)
    if not order:
        ax.text(0.5, 0.5, "No decision's probability moved.", ha="center", transform=ax.transAxes)
    more = f" The {len(moved) - len(order)} smaller shifts are left out." if len(moved) > len(order) else ""
    note(fig, [f"Decisions the counterfactual did not change, whose Monte Carlo 95% interval excludes 0, largest shift "
               f"first.{more} Black: the mean shift and its Monte Carlo 95% interval; blue: the 5-95% range of the shift "
               f"across the {c['draws']} posterior draws."], 9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    aio.save_figure(fig, path, dpi=110)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--posterior", help="a posterior file (alignsim calibrate --posterior)")
    p.add_argument("--compare", help="a comparison of posterior ensembles (alignsim compare --h5)")
    p.add_argument("--name", help="the counterfactual's name in the figures' names (default: from the comparison)")
    p.add_argument("--out", required=True, help="folder for the figures (created if needed)")
    a = p.parse_args()
    if not a.posterior and not a.compare:
        aio.fail("give --posterior, --compare or both")
    os.makedirs(a.out, exist_ok=True)
    written = []
    if a.posterior:
        priors, names, w, values = read_posterior(a.posterior)
        source = os.path.basename(a.posterior)
        written.append(os.path.join(a.out, "posterior_marginals.png"))
        plot_marginals(priors, names, w, values, written[-1], source)
        if plot_pairs(names, w, values, os.path.join(a.out, "posterior_pairs.png"), source):
            written.append(os.path.join(a.out, "posterior_pairs.png"))
    if a.compare:
        c = read_comparison(a.compare)
        name = a.name or os.path.splitext(os.path.basename(c["counterfactual"]))[0]
        written.append(os.path.join(a.out, f"{name}_effect_distribution.png"))
        plot_effects(c, written[-1], name)
        written.append(os.path.join(a.out, f"{name}_decision_shifts.png"))
        plot_decisions(c, written[-1], name)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    aio.run_script(main)
