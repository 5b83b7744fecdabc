#!/usr/bin/env python3
"""The cost of MPI mode against threads on one machine (docs/cluster.md).

Runs the same ensemble as one process with one and with two threads and as two ranks of one thread
each, in turn (the order alternating), several times; records the wall time, the program's own
timing line, the CPU time and peak memory of each process, and checks with h5diff that the files
hold the same data. Then times a short calibration the same two ways. Needs the -DALIGNSIM_MPI=ON
build.

Writes mpi_overhead.md and mpi_overhead.json to --out (refusing, before it measures anything, to
replace earlier ones unless given --overwrite), and rewrites the blocks of docs/cluster.md
between a marker line `<!-- mpi:NAME -->` and `<!-- mpi:end -->` (NAME: overhead, sizing) from
them. With --render, runs nothing and rewrites the blocks from an earlier mpi_overhead.json.

  /usr/bin/python3 bench/mpi_overhead.py --alignsim build-mpi/sim/app/alignsim --out results/bench --overwrite
  /usr/bin/python3 bench/mpi_overhead.py --render results/bench/mpi_overhead.json
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
import sys
import tempfile
import textwrap
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cluster.md"
THREADS, RANKS, ONE = "1 process x 2 threads", "2 ranks x 1 thread", "1 process x 1 thread"


def cpu_model():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(args):
    work = pathlib.Path(tempfile.mkdtemp(prefix="alignsim_mpi_bench_"))
    alignsim = str(pathlib.Path(args.alignsim).resolve())
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    common = ["ensemble", args.scenario, "--runs", str(args.runs), "--seed", "1947", "--out", "out.h5"]
    # Each process runs under /usr/bin/time, which writes its CPU seconds (user, system) and peak
    # resident memory (KiB) to usage.<rank>.
    timed = ["sh", "-c", '/usr/bin/time -f "%U %S %M" -o usage.${OMPI_COMM_WORLD_RANK:-0} "$@"', "sh", alignsim]
    # Unbound, as the threads of one process are: on a shared machine a rank bound to a busy core waits.
    mpirun = [args.mpirun, "--allow-run-as-root", "--bind-to", "none", "-np", "2"]
    configurations = {
        ONE: [*timed, *common, "--threads", "1"],
        THREADS: [*timed, *common, "--threads", "2"],
        RANKS: [*mpirun, *timed, *common, "--threads", "1"],
    }
    # A calibration: each evaluation an ensemble of 2048 runs, split between the ranks or the threads.
    baseline = ROOT / "scenarios/baseline"
    calibration = ["calibrate", str(baseline / "scenario.toml"), "--targets", str(baseline / "targets.toml"),
                   "--runs", "2048", "--seed", "1", "--max-evals", str(args.evaluations), "--free", "k_a,sigma", "-q"]
    calibrations = {
        THREADS: [alignsim, *calibration, "--threads", "2"],
        RANKS: [*mpirun, alignsim, *calibration, "--threads", "1"],
    }

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
        m = re.search(r"x (\d+) months in ([0-9.]+) s \(([0-9.]+) million run-steps/s\)", r.stderr)
        usage = [(folder / f).read_text().split()[-3:] for f in sorted(os.listdir(folder)) if f.startswith("usage.")]
        return {"wall_s": wall, "months": int(m.group(1)), "run_s": float(m.group(2)),
                "million_run_steps_per_s": float(m.group(3)),
                "cpu_s": sum(float(u) + float(s) for u, s, _ in usage),
                "peak_rss_mib": [int(k) / 1024 for _, _, k in usage], "file": str(folder / "out.h5"),
                "file_bytes": (folder / "out.h5").stat().st_size}

    def calibrate_once(argv):
        r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stderr}")
        m = re.search(r"(\d+) evaluations in ([0-9.]+) s", r.stdout)
        return float(m.group(2)) / (int(m.group(1)) + 1)  # the start's evaluation and the optimiser's

    load = [os.getloadavg()[0]]
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
        load.append(os.getloadavg()[0])
    files = [results[name][-1]["file"] for name in (THREADS, RANKS)]
    # The root attributes differ by the command line (history); the data must not differ at all.
    identical = subprocess.run(["h5diff", "--exclude-attribute", "/", *files], capture_output=True).returncode == 0

    summary = {}
    for name, runs in results.items():
        summary[name] = {key: spread([r[key] for r in runs])
                         for key in ("wall_s", "run_s", "million_run_steps_per_s", "cpu_s")}
        summary[name]["peak_rss_mib"] = max(max(r["peak_rss_mib"]) for r in runs)
        summary[name]["peak_rss_mib_per_process"] = [max(r["peak_rss_mib"][p] for r in runs)
                                                     for p in range(len(runs[0]["peak_rss_mib"]))]
    # Each repeat's ranks against its threads: the spread of the overhead itself.
    paired = {key: [r[key] / t[key] - 1 for r, t in zip(results[RANKS], results[THREADS])]
              for key in ("wall_s", "run_s", "cpu_s")}
    paired["calibration_evaluation"] = [r / t - 1 for r, t in zip(per_evaluation[RANKS], per_evaluation[THREADS])]
    rel = pathlib.Path(args.scenario).resolve()
    program = pathlib.Path(args.alignsim).resolve()
    program = program.relative_to(ROOT) if program.is_relative_to(ROOT) else program
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit.stdout.strip() + (" with uncommitted changes" if changed else ""),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}",
        "load_average_1min": load,
        "scenario": str(rel.relative_to(ROOT)) if rel.is_relative_to(ROOT) else str(rel),
        "runs": args.runs, "months": results[ONE][0]["months"], "repeats": args.repeats, "evaluations": args.evaluations,
        "command": (f"/usr/bin/python3 bench/mpi_overhead.py --alignsim {program} --runs {args.runs} "
                    f"--repeats {args.repeats} --evaluations {args.evaluations}"),
        "commands": {n: " ".join(a) for n, a in configurations.items()},
        "summary": summary,
        "calibration_evaluation_s": {name: spread(v) for name, v in per_evaluation.items()},
        "overhead": {key: spread(v) for key, v in paired.items()},
        "files_identical": identical,
        "file_bytes_per_run": results[RANKS][-1]["file_bytes"] / args.runs,
        "raw": results, "raw_calibration_evaluation_s": per_evaluation,
    }


def pct(s):
    return f"{100 * s['median']:+.0f}% ({100 * s['min']:+.0f}% to {100 * s['max']:+.0f}%)"


def secs(s, digits=2):
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def block_overhead(rec):
    s, o = rec["summary"], rec["overhead"]
    load = rec["load_average_1min"]
    cores = int(re.search(r"(\d+) cores", rec["machine"]).group(1))
    busy = max(load) > cores
    lines = [
        f"Measured {rec['date']} on {rec['machine']}, alignsim at commit {rec.get('commit', 'unknown')}; "
        + (f"the machine was busy with other work: the load average (1 min) was {min(load):.1f} to {max(load):.1f} "
           f"during the measurement, on {cores} cores, so every figure below is slower and noisier than on a quiet "
           f"machine, and the spread" if busy else
           f"the load average (1 min) was {min(load):.1f} to {max(load):.1f} during the measurement, on {cores} "
           f"cores; the spread")
        + f" (min-max of {rec['repeats']} repeats, each configuration in turn, the order alternating) matters as "
        f"much as the median:",
        "",
        "```sh",
        rec["command"],
        "```",
        "",
        f"`{rec['scenario']}`, {rec['runs']:,} runs, seed 1947, 100 runs stored, the file written:",
        "",
        "| configuration | wall time, s | the program's time, s | million run-steps/s | CPU time, s | "
        "peak memory per process, MiB |",
        "|---|---|---|---|---|---|",
    ]
    for name in (ONE, THREADS, RANKS):
        x = s[name]
        rate = x["million_run_steps_per_s"]
        lines.append(f"| {name} | {secs(x['wall_s'])} | {secs(x['run_s'])} | "
                     f"{rate['median']:.1f} ({rate['min']:.1f}-{rate['max']:.1f}) | {secs(x['cpu_s'])} | "
                     f"{', '.join(f'{m:.0f}' for m in x['peak_rss_mib_per_process'])} |")
    e = rec["calibration_evaluation_s"]
    lines += [
        "",
        f"A calibration of the baseline (`alignsim calibrate`, 2048 runs per evaluation, {rec['evaluations']} "
        f"evaluations after the start's), seconds per evaluation: {secs(e[THREADS], 3)} on {THREADS}, "
        f"{secs(e[RANKS], 3)} on {RANKS}.",
        "",
        f"The overhead of {RANKS} against {THREADS}, per repeat (median, and min to max over the repeats):",
        "",
        f"- the program's time (simulation and file, MPI start excluded): {pct(o['run_s'])};",
        f"- wall time (starting `mpirun` and MPI included): {pct(o['wall_s'])};",
        f"- CPU time of all processes: {pct(o['cpu_s'])};",
        f"- a calibration's evaluation: {pct(o['calibration_evaluation'])}.",
        "",
        f"The two files hold the same data (h5diff, the root attributes aside, where the command lines differ): "
        f"{'yes' if rec['files_identical'] else 'NO'}.",
    ]
    return lines


def block_sizing(rec):
    s = rec["summary"]
    one, two = s[ONE], s[THREADS]
    per_thread = two["peak_rss_mib"] - one["peak_rss_mib"]
    base = one["peak_rss_mib"] - per_thread
    ranks = s[RANKS]["peak_rss_mib_per_process"]
    rate = one["million_run_steps_per_s"]["max"] * 1e6 / rec["months"]
    return [
        f"- peak resident memory: {one['peak_rss_mib']:.0f} MiB for one process of one thread, "
        f"{two['peak_rss_mib']:.0f} MiB with two threads ({per_thread:.0f} MiB a thread, about {base:.0f} MiB "
        f"besides); two ranks of one thread: {ranks[0]:.0f} MiB (rank 0, the writer) and {ranks[1]:.0f} MiB;",
        f"- the file: {rec['file_bytes_per_run']:.0f} bytes a run (event months and era means, compressed, and "
        f"100 stored runs spread over the {rec['runs']:,});",
        f"- one thread's pace with the file written, at its best here: {rate:,.0f} runs a second "
        f"({one['million_run_steps_per_s']['max']:.1f} million run-steps/s; the median was "
        f"{one['million_run_steps_per_s']['median']:.1f}){quiet_pace(rec['months'])}.",
    ]


def quiet_pace(months):
    """The pace with the file written on a quiet machine, from the project's benchmark, if it ran."""
    try:
        bench = json.loads((ROOT / "results/bench/bench.json").read_text())
        value = {r["name"]: r["value"] for r in bench["results"]}["memory_1M_runs_rate"]
    except (OSError, KeyError, ValueError):
        return ""
    threads = bench["machine"]["cores"]
    return (f"; the project's benchmark (`results/bench/bench.md`, a quiet machine) measured "
            f"{value / 1e6:.1f} million run-steps/s on {threads} threads with the file written, "
            f"{value / threads / months:,.0f} runs a second per thread")


BLOCKS = {"overhead": block_overhead, "sizing": block_sizing}
BEGIN = re.compile(r"^<!-- mpi:(?!end )(\w+) -->$")
END = "<!-- mpi:end -->"


def wrapped(lines):
    """Paragraphs and list items wrapped at 100 columns, as the docs are; tables and code as they are."""
    out, code = [], False
    for line in lines:
        code ^= line.startswith("```")
        if code or line.startswith(("|", "```")) or len(line) <= 100:
            out.append(line)
        else:
            out += textwrap.wrap(line, 100, subsequent_indent="  " if line.startswith("- ") else "",
                                 break_on_hyphens=False, break_long_words=False)
    return out


def render(rec, doc=DOC):
    out, lines, k = [], doc.read_text().splitlines(), 0
    while k < len(lines):
        out.append(lines[k])
        m = BEGIN.match(lines[k])
        k += 1
        if not m:
            continue
        if m.group(1) not in BLOCKS:
            raise SystemExit(f"{doc}:{k}: unknown block '{m.group(1)}'")
        end = next((j for j in range(k, len(lines)) if lines[j] == END), None)
        if end is None:
            raise SystemExit(f"{doc}:{k}: no '{END}' after this block")
        out += wrapped(BLOCKS[m.group(1)](rec))
        k = end
    doc.write_text("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alignsim", help="the alignsim program of the -DALIGNSIM_MPI=ON build")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios/baseline/calibrated.toml"))
    parser.add_argument("--runs", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=20, help="calibration evaluations of each timed calibration")
    parser.add_argument("--mpirun", default="mpirun")
    parser.add_argument("--out", default=str(ROOT / "results/bench"))
    parser.add_argument("--overwrite", action="store_true", help="replace mpi_overhead.md and .json in --out")
    parser.add_argument("--render", metavar="JSON", help="only rewrite docs/cluster.md from this earlier result")
    args = parser.parse_args()
    if args.render:
        render(json.loads(pathlib.Path(args.render).read_text()))
        return
    if not args.alignsim:
        parser.error("--alignsim is required (or --render)")
    out = pathlib.Path(args.out)
    for name in ("mpi_overhead.md", "mpi_overhead.json"):
        if (out / name).exists() and not args.overwrite:
            parser.error(f"{out / name} exists; pass --overwrite to replace it")
    rec = measure(args)
    out.mkdir(parents=True, exist_ok=True)
    text = "\n".join(wrapped(["# MPI mode against threads on one machine", "", *block_overhead(rec), "",
                              "For sizing a job (docs/cluster.md):", "", *block_sizing(rec), ""]))
    for name, content in (("mpi_overhead.md", text), ("mpi_overhead.json", json.dumps(rec, indent=2) + "\n")):
        temporary = out / (name + ".tmp")  # written whole, then renamed over the earlier result
        temporary.write_text(content)
        temporary.replace(out / name)
    render(rec)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
