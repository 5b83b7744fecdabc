#!/usr/bin/env python3
"""End-to-end checks of `alignsim export`: every table against the output file read with h5py and
numpy, the dyad order and Correlates of War codes, the output rules (no overwrite without
--overwrite, never the input, nothing left behind on failure), and the merge the tables exist for:
the baseline's dyad-year rows joined with the project's copy of the ATOP dyad-years on ccode1,
ccode2 and year, with no renaming. Run by CTest with Debian's /usr/bin/python3."""
import argparse
import csv
import hashlib
import io
import math
import os
import pathlib
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from checks import run_checks  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--alignsim", required=True)
parser.add_argument("--repo", required=True)
args = parser.parse_args()
ALIGNSIM = args.alignsim
REPO = pathlib.Path(args.repo)
SMALL = str(REPO / "tests" / "data" / "small.toml")
TMP = pathlib.Path(tempfile.mkdtemp(prefix="alignsim_export_"))
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")


def run(*argv):
    return subprocess.run([ALIGNSIM, *argv], capture_output=True, text=True, env=ENV, timeout=600)


def simulate(name, *options, scenario=SMALL, command="run", seed=11):
    path = TMP / name
    if not path.exists():
        r = run(command, scenario, "--seed", str(seed), "--out", str(path), "-q", *options)
        assert r.returncode == 0, r.stderr
    return path


def table(path, name):
    """The export's comment lines and rows (dicts of strings)."""
    r = run("export", str(path), "--table", name)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines(keepends=True)
    comments = [line for line in lines if line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("".join(line for line in lines if not line.startswith("#")))))
    return comments, rows


def f32(text):
    return np.float32(float(text))


def small_file():
    return simulate("small.h5", "--runs", "64")  # `run` stores every run


def test_dyad_rows_are_ordered_by_code_with_the_agents_and_their_dyad():
    _, rows = table(small_file(), "dyad-month")
    codes = {"AA": 365, "BB": 2, "CC": 710}
    seen = []
    for row in rows:
        c1, c2 = int(row["ccode1"]), int(row["ccode2"])
        assert c1 < c2, row
        assert codes[row["agent1"]] == c1 and codes[row["agent2"]] == c2, row
        assert row["dyad"] == "-".join(sorted([row["agent1"], row["agent2"]])), row
        if (c1, c2) not in seen:
            seen.append((c1, c2))
    assert seen == [(2, 365), (2, 710), (365, 710)], seen  # peacesciencer's order: ccode1, then ccode2
    assert len(rows) == 3 * 24


def test_agents_without_codes_give_empty_code_columns_in_agent_order():
    folder = TMP / "uncoded"
    folder.mkdir(exist_ok=True)
    data = pathlib.Path(SMALL).parent
    (folder / "small_events.toml").write_text((data / "small_events.toml").read_text())
    text = pathlib.Path(SMALL).read_text()
    (folder / "small.toml").write_text("\n".join(line for line in text.splitlines() if not line.startswith("ccode")))
    path = simulate("uncoded.h5", "--runs", "8", scenario=str(folder / "small.toml"))
    with h5py.File(path, "r") as f:
        assert list(f["agent_ccode"][:]) == [-1, -1, -1]
    _, rows = table(path, "dyad-year")
    assert all(row["ccode1"] == "" and row["ccode2"] == "" for row in rows)
    assert [row["dyad"] for row in rows[::2]] == ["AA-BB", "AA-CC", "BB-CC"]


def test_dyad_month_is_the_files_summaries():
    path = small_file()
    comments, rows = table(path, "dyad-month")
    with h5py.File(path, "r") as f:
        agents = [a.decode() for a in f["agent"][:]]
        months = [m.decode() for m in f["month"][:]]
        mean, std, quantile = f["alignment_mean"][:], f["alignment_std"][:], f["alignment_quantile"][:]
        levels = f["quantile"][:]
        seed = int(f.attrs["seed"])
    assert any(str(path) in c for c in comments) and any(f"seed: {seed}" in c for c in comments), comments
    names = [f"q{round(100 * q):02d}" for q in levels]
    assert list(rows[0].keys())[-len(names) - 1:-1] == names, rows[0].keys()
    for row in rows:
        a, b = agents.index(row["agent1"]), agents.index(row["agent2"])
        t = months.index(f"{int(row['year']):04d}-{int(row['month']):02d}")
        assert f32(row["mean"]) == mean[t, a, b] and f32(row["sd"]) == std[t, a, b], row
        for k, name in enumerate(names):
            assert f32(row[name]) == quantile[k, t, a, b], (name, row)
        assert row["runs"] == "64"


def yearly_means(path):
    """Per stored run, year and (agent, other): the mean over the year's months of M, with numpy."""
    with h5py.File(path, "r") as f:
        w = f["alignment"][:]
        months = [m.decode() for m in f["month"][:]]
        agents = [a.decode() for a in f["agent"][:]]
    m = (w + np.swapaxes(w, 2, 3)) / np.float32(2)
    years = sorted({int(x[:4]) for x in months})
    by_year = {y: m[:, [t for t, x in enumerate(months) if int(x[:4]) == y]].astype(np.float64).mean(axis=1)
               for y in years}
    return agents, by_year


def check_dyad_year(path, runs, stored):
    _, rows = table(path, "dyad-year")
    agents, by_year = yearly_means(path)
    with h5py.File(path, "r") as f:
        mean = f["alignment_mean"][:].astype(np.float64)
        months = [m.decode() for m in f["month"][:]]
        levels = f["quantile"][:]
        width = 2.0 / int(f.attrs["histogram_bins"])
    assert len(rows) == 3 * len(by_year)
    for row in rows:
        a, b, y = agents.index(row["agent1"]), agents.index(row["agent2"]), int(row["year"])
        in_year = [t for t, x in enumerate(months) if int(x[:4]) == y]
        assert int(row["months"]) == len(in_year) and row["runs"] == str(runs) and row["stored_runs"] == str(stored)
        # The mean is over all runs: the mean of the file's monthly means.
        assert abs(float(row["mean"]) - mean[in_year, a, b].mean()) < 1e-6, row
        # sd and quantiles are of the stored runs' yearly means.
        x = np.sort(by_year[y][:, a, b])
        assert len(x) == stored
        assert abs(float(row["sd"]) - x.std(ddof=1)) < 1e-6 + 1e-5 * x.std(ddof=1), (row, x.std(ddof=1))
        for q in levels:
            # Histogram quantiles: inside the bin of the order statistic where the count reaches q * K.
            order = x[max(0, math.ceil(q * stored - 1e-9) - 1)]
            value = float(row[f"q{round(100 * q):02d}"])
            assert abs(value - order) <= width + 1e-6, (q, value, order, row)


def test_dyad_year_mean_is_over_all_runs_and_its_spread_over_every_stored_run():
    check_dyad_year(small_file(), 64, 64)


def test_dyad_year_spread_comes_from_the_stored_runs_only():
    path = simulate("some_stored.h5", "--runs", "300", "--store-runs", "40", "--threads", "2", command="ensemble")
    check_dyad_year(path, 300, 40)


def test_dyad_year_without_stored_runs_leaves_the_spread_empty_and_says_why():
    path = simulate("none_stored.h5", "--runs", "50", "--store-runs", "0", command="ensemble")
    comments, rows = table(path, "dyad-year")
    assert all(row["sd"] == "" and row["q50"] == "" and row["mean"] != "" for row in rows)
    assert any("fewer than 2 stored runs" in c for c in comments), comments


def test_events_give_probability_count_and_month_quantiles():
    path = simulate("events.h5", "--runs", "500", "--store-runs", "0", command="ensemble")
    _, rows = table(path, "events")
    with h5py.File(path, "r") as f:
        events = [e.decode() for e in f["event"][:]]
        months = [m.decode() for m in f["month"][:]]
        em = f["event_month"][:]
        p = f["event_probability"][:]
        titles = [t.decode() for t in f["event_title"][:]]
        levels = f["quantile"][:]
    assert [row["event"] for row in rows] == events
    varied = 0
    for e, row in enumerate(rows):
        happened = em[:, e][em[:, e] >= 0]
        assert f32(row["probability"]) == p[e] and int(row["happened"]) == len(happened), row
        assert row["title"] == titles[e]
        for q in levels:
            cell = row[f"month_q{round(100 * q):02d}"]
            if len(happened) == 0:
                assert cell == ""
                continue
            # The first month by which a share q of the runs where it happened had it.
            expected = np.sort(happened)[max(0, math.ceil(q * len(happened) - 1e-9) - 1)]
            assert cell == months[expected], (row["event"], q, cell, months[expected])
        varied += len(set(happened)) > 1
    assert varied > 0  # jittered events: the quantiles are not all one month


def test_runs_table_is_every_runs_era_means():
    path = simulate("runs.h5", "--runs", "70", "--store-runs", "0", command="ensemble")
    _, rows = table(path, "runs")
    with h5py.File(path, "r") as f:
        era = f["era_alignment"][:]
        eras = [e.decode() for e in f["era"][:]]
        agents = [a.decode() for a in f["agent"][:]]
    assert len(rows) == 70 * len(eras) * 3
    for row in rows:
        r, e = int(row["run"]), eras.index(row["era"])
        assert f32(row["mean"]) == era[r, e, agents.index(row["agent1"]), agents.index(row["agent2"])], row
    assert rows[0]["from"] == "1950-01" and rows[0]["to"] == "1950-12"


def digest(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def test_output_rules_no_overwrite_never_the_input_nothing_left_behind():
    path = small_file()
    folder = TMP / "out"
    folder.mkdir(exist_ok=True)
    out = folder / "year.csv"
    r = run("export", str(path), "--table", "dyad-year", "--out", str(out))
    assert r.returncode == 0 and out.read_text() == table_text(path, "dyad-year"), r.stderr
    out.write_text("keep me\n")
    r = run("export", str(path), "--table", "events", "--out", str(out))
    assert r.returncode == 2 and "--overwrite" in r.stderr and out.read_text() == "keep me\n", r.stderr
    r = run("export", str(path), "--table", "events", "--out", str(out), "--overwrite")
    assert r.returncode == 0 and out.read_text().startswith("# alignsim export --table events"), r.stderr
    before = digest(path)
    for extra in ([], ["--overwrite"]):
        r = run("export", str(path), "--table", "runs", "--out", str(path), *extra)
        assert r.returncode == 2 and "is an input of this command" in r.stderr and digest(path) == before, r.stderr
    out.chmod(0o444)  # a read-only file is never replaced, not even with --overwrite
    r = run("export", str(path), "--table", "runs", "--out", str(out), "--overwrite")
    assert r.returncode == 2 and "read-only" in r.stderr and out.read_text().startswith("# alignsim export --table events"), r.stderr
    out.chmod(0o644)
    r = run("export", str(path), "--table", "runs", "--out", str(folder / "no" / "such" / "x.csv"))
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["year.csv"]  # no temporary file left


def table_text(path, name):
    return run("export", str(path), "--table", name).stdout


def test_bad_input_exits_2_with_a_clear_message():
    not_h5 = TMP / "not.h5"
    not_h5.write_text("hello\n")
    r = run("export", str(not_h5), "--table", "dyad-year")
    assert r.returncode == 2 and str(not_h5) in r.stderr and "not an HDF5 file" in r.stderr, r.stderr
    r = run("export", str(small_file()), "--table", "dyad-week")
    assert r.returncode == 2 and "dyad-week" in r.stderr, r.stderr
    assert run("export", str(TMP / "missing.h5"), "--table", "runs").returncode == 2


def read_atop():
    with open(REPO / "scenarios" / "data" / "ir" / "atop_alliance" / "atop_alliance.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_baseline_dyad_years_merge_with_atop_on_ccode1_ccode2_year_without_renaming():
    path = simulate("baseline.h5", "--runs", "2000", "--store-runs", "100",
                    scenario=str(REPO / "scenarios" / "baseline" / "calibrated.toml"), command="ensemble", seed=1947)
    _, rows = table(path, "dyad-year")
    atop = read_atop()
    keys = ("ccode1", "ccode2", "year")
    index = {tuple(row[k] for k in keys): row for row in atop}
    assert len(index) == len(atop)  # the keys identify ATOP's rows
    merged = [(row, index[tuple(row[k] for k in keys)]) for row in rows if tuple(row[k] for k in keys) in index]
    pk_us = [(s, a) for s, a in merged if s["dyad"] == "PK-US" and 1954 <= int(s["year"]) <= 1962]
    assert [int(s["year"]) for s, _ in pk_us] == list(range(1954, 1963)), pk_us
    assert all(a["dyad"] == "PK-US" and a["value"] == "3" for _, a in pk_us)  # the SEATO/CENTO years: defence pact
    # Every ATOP dyad-year within the horizon (1947-2000; ATOP has some 1946 rows) finds its row.
    in_horizon = [row for row in atop if 1947 <= int(row["year"]) <= 2000]
    assert len(merged) == len(in_horizon) == 10 * 54, (len(merged), len(in_horizon))
    assert all(s["dyad"] == a["dyad"] for s, a in merged)


if __name__ == "__main__":
    run_checks(globals())
