#!/usr/bin/env python3
"""Write the numbers of README.md from the files they describe, or check that they are current.

Every block of README.md between a marker line `<!-- readme:NAME -->` and `<!-- readme:end -->` is
written here from the project's files; the text outside the markers is left as it is:

    readme:history      the baseline's events by how they happen   scenarios/baseline/scenario.toml
    readme:main-job     the main job's runs and seed                cmake/AlignsimMainJob.cmake
    readme:liaquat      M(RU, PK) per era, baseline and Liaquat     results/compare/liaquat_moscow_1950.csv
                        in Moscow, with the paired 95% interval     (written by the main job)
    readme:calibration  targets and decisions met, fitted and       results/calibration/report.json and
                        held out                                    holdout_*/report.json
    readme:performance  the benchmark, with its machine and date    results/bench/bench.json

    readme_numbers.py           rewrite the blocks of README.md
    readme_numbers.py --check   exit 1, with a diff, if a block is not what the files give

Standard library only (Python 3.11+). Run from anywhere: paths are relative to the repository.
"""
from __future__ import annotations

import argparse
import csv
import difflib
import json
import os
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "analysis"))
import history_table  # noqa: E402  (the same reading of the scenario as docs/history.md's table)

BEGIN = re.compile(r"^<!-- readme:([\w-]+) -->$")
END = "<!-- readme:end -->"


class ReadmeError(Exception):
    """A marker or an input file is wrong."""


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def main_job_setting(name: str) -> str:
    text = (REPO / "cmake" / "AlignsimMainJob.cmake").read_text()
    m = re.search(rf"set\({name} (\S+) CACHE", text)
    if not m:
        raise ReadmeError(f"cmake/AlignsimMainJob.cmake: no `set({name} ...)`")
    return m.group(1)


def block_history() -> list[str]:
    choices: list[dict] = []
    events = history_table.load_events(REPO / "scenarios" / "baseline" / "scenario.toml", choices)
    options = {o for c in choices for o in c.get("options", [])}
    context = sum(1 for e in events if e.get("context"))
    scheduled = sum(1 for e in events if e.get("exogenous"))
    in_choices = sum(1 for e in events if e["id"] in options)
    decisions = len(events) - scheduled - in_choices
    return [f"The baseline holds {len(events)} events: {decisions} decisions, {in_choices} options of "
            f"{len(choices)} choices, and {scheduled} scheduled events that no agent chooses (each with its "
            f"reason); {context} of them are context events, from the dyad-year data sets rather than "
            f"the essay (`docs/history.md`)."]


def block_main_job() -> list[str]:
    runs = int(main_job_setting("ALIGNSIM_MAIN_RUNS"))
    seed = main_job_setting("ALIGNSIM_MAIN_SEED")
    posterior_runs = int(main_job_setting("ALIGNSIM_MAIN_POSTERIOR_RUNS"))
    return [f"The main job runs {runs:,} runs of the calibrated baseline and of "
            f"`scenarios/counterfactuals/liaquat_moscow_1950.toml` with seed {seed}, then {posterior_runs:,} runs of "
            f"each over the baseline's posterior."]


def block_liaquat() -> list[str]:
    path = REPO / "results" / "compare" / "liaquat_moscow_1950.csv"
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["quantity"] == "alignment" and {r["a"], r["b"]} == {"RU", "PK"} and r["a"] == "RU":
                d, lo, hi = float(r["difference"]), float(r["ci_low"]), float(r["ci_high"])
                rows.append([r["era"], f"{float(r['base']):+.3f}", f"{float(r['cf']):+.3f}",
                             f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"])
    if not rows:
        raise ReadmeError(f"{path.relative_to(REPO)}: no RU-PK alignment rows")
    return table(["era", "M(RU, PK), baseline", "Liaquat in Moscow", "difference, paired 95% CI"], rows)


def block_liaquat_posterior() -> list[str]:
    path = REPO / "results" / "compare" / "liaquat_moscow_1950_posterior.csv"
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["quantity"] == "alignment" and r["a"] == "RU" and r["b"] == "PK":
                d, lo, hi = float(r["difference"]), float(r["ci_low"]), float(r["ci_high"])
                dlo, dhi, p = float(r["draws_low"]), float(r["draws_high"]), float(r["p_positive"])
                rows.append([r["era"], f"{d:+.4f}", f"[{lo:+.4f}, {hi:+.4f}]", f"[{dlo:+.4f}, {dhi:+.4f}]", f"{p:.2f}",
                             "yes" if r["robust"] == "1" else "no", f"{float(r['draws_noise_share']):.2f}"])
    if not rows:
        raise ReadmeError(f"{path.relative_to(REPO)}: no RU-PK alignment rows")
    ratios = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["quantity"] == "alignment" and r["a"] == "RU" and r["b"] == "PK":
                mc = float(r["ci_high"]) - float(r["ci_low"])
                ratios.append((float(r["draws_high"]) - float(r["draws_low"])) / mc if mc > 0 else float("inf"))
    robust = sum(1 for row in rows if row[5] == "yes")
    posterior = json.loads((REPO / "results" / "calibration" / "posterior" / "posterior.json").read_text())
    return ([f"Over the posterior (`scenarios/baseline/posterior.csv`: {posterior['particles']} parameter sets that fit "
             f"the targets, `docs/calibration.md`), with {int(main_job_setting('ALIGNSIM_MAIN_POSTERIOR_RUNS')):,} paired "
             f"runs, each run taking one set (about {int(main_job_setting('ALIGNSIM_MAIN_POSTERIOR_RUNS')) // posterior['particles']:,} "
             f"runs each):", ""] +
            table(["era", "RU-PK difference", "Monte Carlo 95%", "across parameters, 5-95%", "P(>0)", "robust", "noise"],
                  rows) +
            ["", f"The effect's sign is robust in {robust} of the {len(rows)} eras; the spread across parameter sets "
                 f"is {min(ratios):.0f} to {max(ratios):.0f} times as wide as the Monte Carlo interval."])


def met(d: dict, key: str) -> str:
    return f"{d[key]['after']}/{d[key]['of']}"


def block_calibration() -> list[str]:
    folder = REPO / "results" / "calibration"
    main = json.loads((folder / "report.json").read_text())
    lines = [f"The calibrated baseline meets {met(main, 'targets_met')} targets and {met(main, 'decisions_met')} "
             f"decision targets (`{main['command']}`)."]
    for name, what in (("holdout_1971", "Fitted to the targets up to 1971 alone, the model meets"),
                       ("holdout_random", "Fitted without a random fifth of the targets, it meets")):
        p = folder / name / "report.json"
        if p.is_file():
            h = json.loads(p.read_text())
            lines.append(f"{what} {met(h, 'held_out_met')} of the targets and decisions it did not see "
                         f"(`results/calibration/{name}/`).")
    return [" ".join(lines)]


def value(results: dict, name: str) -> float:
    if name not in results:
        raise ReadmeError(f"results/bench/bench.json: no result '{name}'")
    return results[name]["value"]


def block_performance() -> list[str]:
    bench = json.loads((REPO / "results" / "bench" / "bench.json").read_text())
    m = bench["machine"]
    r = {x["name"]: x for x in bench["results"]}
    rows = []

    def row(what: str, shown: str, measured: float, target: float | None, higher: bool = True, target_shown: str = ""):
        met = "" if target is None else ("yes" if (measured >= target if higher else measured < target) else "**no**")
        rows.append([what, shown, target_shown, met])

    row("run-steps per second, 1 thread, summaries only", f"{value(r, 'kernel_1_thread') / 1e6:.1f} million",
        value(r, "kernel_1_thread"), 12e6, target_shown="≥ 12 million")
    row("speed-up, 1 → 2 threads", f"{value(r, 'speedup_1_to_all_threads'):.2f}", value(r, "speedup_1_to_all_threads"),
        1.8, target_shown="≥ 1.8")
    row("peak memory, 1,000,000 runs, summaries only, file written", f"{value(r, 'memory_1M_runs_peak'):.0f} MiB",
        value(r, "memory_1M_runs_peak"), 512, higher=False, target_shown="< 512 MiB")
    for peer in ("numpy", "numba"):
        if f"{peer}_peer" in r:
            ratio = value(r, "kernel_1_thread_peer_runs") / value(r, f"{peer}_peer")
            row(f"against the {'NumPy' if peer == 'numpy' else 'Numba'} peer (`bench/peer_{peer}.py`, "
                f"{value(r, f'{peer}_peer') / 1e6:.2f} million run-steps/s), per thread", f"{ratio:.1f}×", ratio, 10.0,
                target_shown="≥ 10×")
    if "per_run_parameters_throughput" in r:
        row("each run with its own parameters, against the scenario's", f"{value(r, 'per_run_parameters_throughput'):.2f}×",
            value(r, "per_run_parameters_throughput"), 0.85, target_shown="≥ 0.85×")
    if "store_all_runs_deflate0_vs_disk" in r:
        row("storing every run uncompressed, against the disk's speed",
            f"{value(r, 'store_all_runs_deflate0_vs_disk'):.2f}×", value(r, "store_all_runs_deflate0_vs_disk"), 0.5,
            target_shown="≥ 0.5×")
    date = m.get("date", "an unrecorded date")
    return ([f"Measured {date} on {m['cpu']} ({m['cores']} cores, {'AVX-512, ' if m.get('avx512') else ''}"
             f"{m['compiler']}) with the baseline `{m['scenario']}` ({m['agents']} agents, {m['months']} months, "
             f"{m['events']} events):", ""] +
            table(["configuration", "measured", "target", "met"], rows))


BLOCKS = {"history": block_history, "main-job": block_main_job, "liaquat": block_liaquat,
          "liaquat-posterior": block_liaquat_posterior,
          "calibration": block_calibration, "performance": block_performance}


def rewrite(text: str) -> str:
    out: list[str] = []
    lines = text.split("\n")
    k = 0
    while k < len(lines):
        line = lines[k]
        out.append(line)
        m = BEGIN.match(line)
        k += 1
        if not m:
            continue
        name = m.group(1)
        if name not in BLOCKS:
            raise ReadmeError(f"README.md:{k}: unknown block 'readme:{name}' (known: {', '.join(BLOCKS)})")
        end = next((j for j in range(k, len(lines)) if lines[j] == END), None)
        if end is None:
            raise ReadmeError(f"README.md:{k}: 'readme:{name}' has no {END}")
        try:
            out += BLOCKS[name]()
        except (OSError, KeyError, ValueError) as e:
            raise ReadmeError(f"README.md:{k}: readme:{name}: {e}") from None
        out.append(END)
        k = end + 1
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", type=pathlib.Path, default=REPO / "README.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if README.md is not current")
    a = ap.parse_args(argv)
    try:
        old = a.readme.read_text()
        new = rewrite(old)
    except (OSError, ReadmeError, history_table.ScenarioProblem) as e:
        print(f"readme_numbers: error: {e}", file=sys.stderr)
        return 2
    if a.check:
        if new != old:
            sys.stderr.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), str(a.readme),
                                                       "generated"))
            print(f"readme_numbers: {a.readme} is not what the files give; run "
                  f"/usr/bin/python3 analysis/readme_numbers.py", file=sys.stderr)
            return 1
        return 0
    if new != old:
        temp = a.readme.with_name(f".{a.readme.name}.tmp-{os.getpid()}")
        try:
            temp.write_text(new)
            os.replace(temp, a.readme)
        finally:
            if temp.exists():
                temp.unlink()
        print(f"wrote {a.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
