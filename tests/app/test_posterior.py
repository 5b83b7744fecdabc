"""Posterior ensembles end to end (docs/calibration.md, "The posterior"): a posterior calibrated by the
program, ensembles over its draws on 1 and 2 threads, a counterfactual paired with its baseline
run by run (the same draw, the same random numbers), and the comparison's spread across draws.

Run by CTest with Debian's /usr/bin/python3 -m pytest; the program and the data come from the
environment (ALIGNSIM, ALIGNSIM_DATA).
"""
import csv
import hashlib
import io
import os
import pathlib
import shutil
import subprocess

import h5py
import numpy as np
import pytest

ALIGNSIM = os.environ["ALIGNSIM"]
DATA = pathlib.Path(os.environ["ALIGNSIM_DATA"])
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")

FORCED = """extends = "small.toml"

[scenario]
name = "small_forced_bb"
title = "Carpathia joins Borduria's pact"
question = "What if Carpathia had chosen Borduria?"
source = [3]

[[patch]]
choice = "cc_alignment"
force = "cc_joins_bb_pact"
"""


def run(*argv, cwd=None):
    return subprocess.run([ALIGNSIM, *map(str, argv)], capture_output=True, text=True, env=ENV, timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The small scenario, a counterfactual of it, and a posterior calibrated on its targets."""
    d = tmp_path_factory.mktemp("posterior")
    for name in ("small.toml", "small_events.toml", "small_targets.toml"):
        shutil.copy(DATA / name, d / name)
    (d / "forced.toml").write_text(FORCED)
    r = run("calibrate", "small.toml", "--targets", "small_targets.toml", "--posterior", "posterior.csv",
            "--particles", 40, "--generations", 3, "--runs", 32, "--seed", 5, "--report", "report", "-q", cwd=d)
    assert r.returncode == 0, r.stderr
    return d


def datasets(path):
    """Every dataset of a file, by name, as arrays."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def same(a, b):
    """Equal arrays, NaN equal to NaN (the alignment's diagonal)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def draws_of(path):
    with h5py.File(path, "r") as f:
        return f["run_draw"][()]


def test_the_posterior_file_has_its_particles_and_weights(folder):
    lines = [l for l in (folder / "posterior.csv").read_text().splitlines() if not l.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert len(rows) == 40
    weights = np.array([float(r["weight"]) for r in rows])
    assert abs(weights.sum() - 1) < 1e-9 and (weights >= 0).all()
    report = (folder / "report" / "posterior.md").read_text()
    assert "Posterior predictive coverage" in report and "effective sample size" in report


def test_a_posterior_ensemble_is_the_same_on_1_and_2_threads(folder):
    for threads in (1, 2):
        r = run("ensemble", "small.toml", "--posterior", "posterior.csv", "--runs", 300, "--seed", 9, "--store-runs",
                300, "--threads", threads, "--block-runs", 16, "--out", f"t{threads}.h5", "-q", cwd=folder)
        assert r.returncode == 0, r.stderr
    one, two = datasets(folder / "t1.h5"), datasets(folder / "t2.h5")
    assert one.keys() == two.keys() and "run_draw" in one
    for name in one:
        assert same(one[name], two[name]), name
    # The runs took many different draws, so the posterior is really in play.
    assert len(np.unique(one["run_draw"])) > 20


def test_the_runs_table_gives_each_runs_draw(folder):
    """`export --table runs` of a posterior ensemble: a run_draw column equal to the file's, for every row."""
    r = run("ensemble", "small.toml", "--posterior", "posterior.csv", "--runs", 300, "--seed", 9, "--store-runs", 0,
            "--out", "export_runs.h5", "-q", cwd=folder)
    assert r.returncode == 0, r.stderr
    r = run("export", "export_runs.h5", "--table", "runs", cwd=folder)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    sha = hashlib.sha256((folder / "posterior.csv").read_bytes()).hexdigest()
    assert any(l.startswith("# a posterior ensemble: run_draw") and sha in l for l in lines), lines[:8]
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in lines if not l.startswith("#")))))
    draws = draws_of(folder / "export_runs.h5")
    assert {int(row["run"]) for row in rows} == set(range(300))
    for row in rows:
        assert int(row["run_draw"]) == draws[int(row["run"])], row
    # A file with fixed parameters has no such column.
    r = run("ensemble", "small.toml", "--runs", 20, "--seed", 9, "--out", "fixed_runs.h5", "-q", cwd=folder)
    assert r.returncode == 0, r.stderr
    r = run("export", "fixed_runs.h5", "--table", "runs", cwd=folder)
    header = next(l for l in r.stdout.splitlines() if not l.startswith("#"))
    assert r.returncode == 0 and header.startswith("run,era,") and "run_draw" not in r.stdout, header


def test_baseline_and_counterfactual_share_run_r_draw_and_differ_only_by_the_overlay(folder):
    for scenario, out in (("small.toml", "base.h5"), ("forced.toml", "cf.h5")):
        r = run("ensemble", scenario, "--posterior", "posterior.csv", "--runs", 400, "--seed", 11, "--out", out, "-q",
                cwd=folder)
        assert r.returncode == 0, r.stderr
    base, cf = draws_of(folder / "base.h5"), draws_of(folder / "cf.h5")
    assert np.array_equal(base, cf)
    # Another seed addresses other draws: the draw depends on (seed, r).
    r = run("ensemble", "small.toml", "--posterior", "posterior.csv", "--runs", 400, "--seed", 12, "--out",
            "other.h5", "-q", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert not np.array_equal(base, draws_of(folder / "other.h5"))

    r = run("compare", "base.h5", "cf.h5", "--csv", "cmp.csv", "--h5", "cmp.h5", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert "Monte Carlo 95%" in r.stdout and "across parameters 5-95%" in r.stdout
    # Each table of the posterior's section has its columns under their headings: both intervals start
    # where their heading does, on every row, whatever the length of the era and event names.
    section = r.stdout[r.stdout.index("Across the posterior"):].splitlines()
    headers = [k for k, line in enumerate(section) if "across parameters 5-95%" in line and "cf-base" in line]
    assert len(headers) == 2, section
    for k in headers:
        mc, spread = section[k].index("Monte Carlo 95%"), section[k].index("across parameters 5-95%")
        rows_below = [line for line in section[k + 1:] if line.strip()]
        rows_below = rows_below[:next((n for n, line in enumerate(rows_below) if "cf-base" in line or
                                       line.startswith("Probability")), len(rows_below))]
        assert rows_below, section
        for line in rows_below:
            assert line[mc] == "[" and line[spread] == "[", (section[k], line)
    rows = list(csv.DictReader((folder / "cmp.csv").open()))
    assert {"draws_low", "draws_high", "p_positive", "robust"} <= set(rows[0])
    for row in rows:
        lo, hi, p = float(row["draws_low"]), float(row["draws_high"]), float(row["p_positive"])
        assert lo <= hi and 0 <= p <= 1
        assert row["robust"] in ("0", "1")
    # The forced option happens in every counterfactual run, and the spread says so with certainty.
    forced = next(r for r in rows if r["event"] == "cc_joins_bb_pact")
    assert float(forced["cf"]) == 1.0 and float(forced["p_positive"]) >= 0.9 and forced["robust"] == "1"
    with h5py.File(folder / "cmp.h5", "r") as f:
        names = []
        f.visit(names.append)
        assert any("draw" in n for n in names), names


def test_compare_refuses_a_posterior_ensemble_against_one_with_fixed_parameters(folder):
    r = run("ensemble", "forced.toml", "--runs", 400, "--seed", 11, "--out", "fixed.h5", "-q", cwd=folder)
    assert r.returncode == 0, r.stderr
    r = run("compare", "base.h5", "fixed.h5", cwd=folder)
    assert r.returncode == 2
    assert "posterior" in r.stderr


def test_the_posterior_file_is_an_input_and_an_existing_posterior_is_kept(folder):
    before = (folder / "posterior.csv").read_bytes()
    r = run("ensemble", "small.toml", "--posterior", "posterior.csv", "--runs", 10, "--seed", 1, "--out", "posterior.csv", "-q",
            "--overwrite", cwd=folder)
    assert r.returncode == 2 and (folder / "posterior.csv").read_bytes() == before
    r = run("calibrate", "small.toml", "--targets", "small_targets.toml", "--posterior", "posterior.csv",
            "--particles", 10, "--generations", 1, "--runs", 8, "-q", cwd=folder)
    assert r.returncode == 2 and "--overwrite" in r.stderr
    assert (folder / "posterior.csv").read_bytes() == before


def test_a_bad_posterior_file_is_refused_with_its_line(folder):
    text = (folder / "posterior.csv").read_text().splitlines()
    data_line = next(i for i, l in enumerate(text) if not l.startswith("#") and not l.startswith("draw"))
    text[data_line] = text[data_line].replace(",", ",x", 1)
    (folder / "bad.csv").write_text("\n".join(text) + "\n")
    r = run("ensemble", "small.toml", "--posterior", "bad.csv", "--runs", 10, "--seed", 1, "--out", "bad.h5", "-q", cwd=folder)
    assert r.returncode == 2
    assert f"bad.csv:{data_line + 1}" in r.stderr
    assert not (folder / "bad.h5").exists()


def test_the_path_split_adds_up_and_matches_the_runs_that_flipped(tmp_path):
    """The baseline without the pacts: each path decision's era effects split into the runs where it
    flipped and the rest, recomputed here from the files' per-run events and era means."""
    scenarios = DATA.parent.parent / "scenarios"
    files = {}
    for name, scenario in (("base", scenarios / "baseline" / "calibrated.toml"),
                           ("cf", scenarios / "counterfactuals" / "no_western_alliances.toml")):
        files[name] = tmp_path / f"{name}.h5"
        r = run("ensemble", scenario, "--runs", 600, "--seed", 3, "--store-runs", 10, "--out", files[name], "-q")
        assert r.returncode == 0, r.stderr
    r = run("compare", files["base"], files["cf"], "--h5", tmp_path / "cmp.h5")
    assert r.returncode == 0, r.stderr
    assert "flipped in" in r.stdout
    with h5py.File(files["base"], "r") as a, h5py.File(files["cf"], "r") as b, h5py.File(tmp_path / "cmp.h5", "r") as c:
        g = c["comparison"]
        path = [s.decode() for s in g["path_event"][()]]
        assert len(path) >= 3
        events_a = [s.decode() for s in a["event"][()]]
        events_b = [s.decode() for s in b["event"][()]]
        era_a, era_b = a["era_alignment"][()].astype(np.float64), b["era_alignment"][()].astype(np.float64)
        runs = era_a.shape[0]
        difference = g["era_alignment_difference"][()]
        for q, event in enumerate(path):
            x = a["event_month"][:, events_a.index(event)] >= 0
            y = b["event_month"][:, events_b.index(event)] >= 0
            flipped = x != y
            assert g["path_flip_share"][q] == pytest.approx(flipped.mean(), abs=1e-12)
            expected = np.nansum((era_b - era_a)[flipped], axis=0) / runs
            off = ~np.eye(era_a.shape[2], dtype=bool)
            assert np.allclose(g["era_alignment_through_flip"][q][:, off], expected[:, off], atol=1e-9)
            total = g["era_alignment_through_flip"][q] + g["era_alignment_through_same"][q]
            assert np.allclose(total[:, off], difference[:, off], atol=1e-12)
