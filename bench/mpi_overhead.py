#!/usr/bin/env python3
"""The cost of MPI mode against threads on one machine (docs/cluster.md): the same ensemble as one
process with two threads and as two ranks with one thread each, alternately, several times; wall
time, the program's own timing line, peak memory of each process, and h5diff of the two files.
Writes mpi_overhead.md and mpi_overhead.json to --out. Needs the -DALIGNSIM_MPI=ON build.

  /usr/bin/python3 bench/mpi_overhead.py --alignsim build-mpi/sim/app/alignsim --out results/bench
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--alignsim", required=True, help="the alignsim program of the -DALIGNSIM_MPI=ON build")
parser.add_argument("--scenario", default=str(ROOT / "scenarios/baseline/calibrated.toml"))
parser.add_argument("--runs", type=int, default=200000)
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--evaluations", type=int, default=20, help="calibration evaluations of each timed calibration")
parser.add_argument("--mpirun", default="mpirun")
parser.add_argument("--out", default=str(ROOT / "results/bench"))
args = parser.parse_args()

work = pathlib.Path(tempfile.mkdtemp(prefix="alignsim_mpi_bench_"))
alignsim = str(pathlib.Path(args.alignsim).resolve())
env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
common = ["ensemble", args.scenario, "--runs", str(args.runs), "--seed", "1947", "--out", "out.h5"]
# Each process runs under /usr/bin/time, which writes its CPU seconds (user, system) and peak
# resident memory (KiB) to usage.<rank>.
timed = ["sh", "-c", '/usr/bin/time -f "%U %S %M" -o usage.${OMPI_COMM_WORLD_RANK:-0} "$@"', "sh", alignsim]
mpirun = [args.mpirun, "--allow-run-as-root", "--bind-to", "core", "-np", "2"]
configurations = {
    "1 process x 1 thread": [*timed, *common, "--threads", "1"],
    "1 process x 2 threads": [*timed, *common, "--threads", "2"],
    "2 ranks x 1 thread": [*mpirun, *timed, *common, "--threads", "1"],
}
# A calibration: each evaluation an ensemble of 2048 runs, split between the ranks or the threads.
baseline = ROOT / "scenarios/baseline"
calibration = ["calibrate", str(baseline / "scenario.toml"), "--targets", str(baseline / "targets.toml"), "--runs",
               "2048", "--seed", "1", "--max-evals", str(args.evaluations), "--free", "k_a,sigma", "-q"]
calibrations = {
    "1 process x 2 threads": [alignsim, *calibration, "--threads", "2"],
    "2 ranks x 1 thread": [*mpirun, alignsim, *calibration, "--threads", "1"],
}


def cpu_model():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def once(name, argv):
    folder = work / re.sub(r"\W+", "_", name)
    folder.mkdir(exist_ok=True)
    for f in folder.iterdir():
        f.unlink()
    started = time.perf_counter()
    r = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if r.returncode != 0:
        raise SystemExit(f"{name} failed ({r.returncode}):\n{r.stderr}")
    m = re.search(r"in ([0-9.]+) s \(([0-9.]+) million run-steps/s\)", r.stderr)
    usage = [(folder / f).read_text().split()[-3:] for f in sorted(os.listdir(folder)) if f.startswith("usage.")]
    return {"wall_s": wall, "run_s": float(m.group(1)), "million_run_steps_per_s": float(m.group(2)),
            "cpu_s": sum(float(u) + float(s) for u, s, _ in usage),
            "peak_rss_mib": [int(k) / 1024 for _, _, k in usage], "file": str(folder / "out.h5"),
            "file_bytes": (folder / "out.h5").stat().st_size}


def calibrate_once(argv):
    r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stderr}")
    m = re.search(r"(\d+) evaluations in ([0-9.]+) s", r.stdout)
    return float(m.group(2)) / (int(m.group(1)) + 1)  # the start's evaluation and the optimiser's


load_before = os.getloadavg()
results = {name: [] for name in configurations}
per_evaluation = {name: [] for name in calibrations}
for k in range(args.repeats):
    order = list(configurations.items())
    if k % 2:
        order.reverse()  # alternate which goes first, so that a drift in the machine's load hits both
    for name, argv in order:
        results[name].append(once(name, argv))
    for name, argv in (reversed(calibrations.items()) if k % 2 else calibrations.items()):
        per_evaluation[name].append(calibrate_once(argv))
load_after = os.getloadavg()
files = [results[name][-1]["file"] for name in ("1 process x 2 threads", "2 ranks x 1 thread")]
# The root attributes differ by the command line (history); the data must not differ at all.
identical = subprocess.run(["h5diff", "--exclude-attribute", "/", *files], capture_output=True).returncode == 0


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


summary = {}
for name, runs in results.items():
    summary[name] = {key: spread([r[key] for r in runs])
                     for key in ("wall_s", "run_s", "million_run_steps_per_s", "cpu_s")}
    summary[name]["peak_rss_mib"] = max(max(r["peak_rss_mib"]) for r in runs)
    summary[name]["peak_rss_mib_per_process"] = runs[-1]["peak_rss_mib"]
threads, ranks = summary["1 process x 2 threads"], summary["2 ranks x 1 thread"]
overhead = {key: ranks[key]["median"] / threads[key]["median"] - 1 for key in ("wall_s", "run_s", "cpu_s")}
evaluation = {name: spread(values) for name, values in per_evaluation.items()}
overhead["calibration_evaluation"] = (evaluation["2 ranks x 1 thread"]["median"] /
                                      evaluation["1 process x 2 threads"]["median"] - 1)

machine = (f"{cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}; shared with other work: load average "
           f"{load_before[0]:.2f} before and {load_after[0]:.2f} after")
record = {"date": datetime.date.today().isoformat(), "machine": machine, "scenario": args.scenario,
          "runs": args.runs, "repeats": args.repeats, "commands": {n: " ".join(a) for n, a in configurations.items()},
          "summary": summary, "calibration_evaluation_s": evaluation, "overhead": overhead, "files_identical": identical,
          "raw": results, "raw_calibration_evaluation_s": per_evaluation}

lines = [
    "# MPI mode against threads on one machine",
    "",
    f"{record['date']}; {machine}.",
    f"`{pathlib.Path(args.scenario).relative_to(ROOT) if args.scenario.startswith(str(ROOT)) else args.scenario}`, "
    f"{args.runs} runs, 100 stored, the file written; {args.repeats} repeats of each, alternating. "
    f"Command: `/usr/bin/python3 bench/mpi_overhead.py --alignsim build-mpi/sim/app/alignsim --runs {args.runs} "
    f"--repeats {args.repeats}`.",
    "",
    "| configuration | wall time, s (median, min-max) | the program's time, s | million run-steps/s | CPU time, s | "
    "peak memory per process, MiB |",
    "|---|---|---|---|---|---|",
]
for name in configurations:
    s = summary[name]
    w, t, rate, cpu = s["wall_s"], s["run_s"], s["million_run_steps_per_s"], s["cpu_s"]
    lines.append(f"| {name} | {w['median']:.2f} ({w['min']:.2f}-{w['max']:.2f}) | {t['median']:.2f} "
                 f"({t['min']:.2f}-{t['max']:.2f}) | {rate['median']:.1f} ({rate['min']:.1f}-{rate['max']:.1f}) | "
                 f"{cpu['median']:.2f} ({cpu['min']:.2f}-{cpu['max']:.2f}) | "
                 f"{', '.join(f'{m:.0f}' for m in s['peak_rss_mib_per_process'])} |")
lines += [
    "",
    f"Overhead of 2 ranks x 1 thread against 1 process x 2 threads (medians): {100 * overhead['run_s']:+.1f}% in the "
    f"program's time, {100 * overhead['wall_s']:+.1f}% in wall time (which includes starting MPI), "
    f"{100 * overhead['cpu_s']:+.1f}% in CPU time (all processes, start included; the least sensitive to other "
    f"work on the machine).",
    f"The two files hold the same data (h5diff, the root attributes aside, where the command lines differ): "
    f"{'yes' if identical else 'NO'}. The file has {results['2 ranks x 1 thread'][-1]['file_bytes'] / args.runs:.0f} "
    f"bytes per run.",
    "",
    f"A calibration of the baseline (`alignsim calibrate`, 2048 runs per evaluation, {args.evaluations} evaluations "
    f"after the start's), time per evaluation:",
    "",
    "| configuration | s per evaluation (median, min-max) |",
    "|---|---|",
]
for name, e in evaluation.items():
    lines.append(f"| {name} | {e['median']:.3f} ({e['min']:.3f}-{e['max']:.3f}) |")
lines += [
    "",
    f"Overhead of 2 ranks x 1 thread (median): {100 * overhead['calibration_evaluation']:+.1f}% per evaluation.",
    "",
]
out = pathlib.Path(args.out)
out.mkdir(parents=True, exist_ok=True)
(out / "mpi_overhead.md").write_text("\n".join(lines))
(out / "mpi_overhead.json").write_text(json.dumps(record, indent=2) + "\n")
print("\n".join(lines))
