#!/usr/bin/env python3
"""End-to-end checks of the alignsim program as a user meets it: exit codes and messages for bad
input, reproducible files (h5diff), the same data from `run` and `ensemble` at any thread count,
files that xarray opens with the labelled dimensions of docs/output-format.md, and an interrupted
run that leaves a partial file of whole runs. Run by CTest with Debian's /usr/bin/python3."""
import argparse
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from checks import run_checks, tiny_disk  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--alignsim", required=True)
parser.add_argument("--data", required=True)
args = parser.parse_args()
ALIGNSIM = args.alignsim
SMALL = str(pathlib.Path(args.data) / "small.toml")
TMP = pathlib.Path(tempfile.mkdtemp(prefix="alignsim_cli_"))
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")


def run(*argv, env=ENV):
    return subprocess.run([ALIGNSIM, *argv], capture_output=True, text=True, env=env, timeout=300)


def h5diff(a, b, *options):
    return subprocess.run(["h5diff", *options, str(a), str(b)], capture_output=True, text=True)


def test_validate_prints_a_summary():
    r = run("validate", SMALL)
    assert r.returncode == 0, r.stderr
    assert "agents      3" in r.stdout and "events      6" in r.stdout and "valid" in r.stdout, r.stdout


def test_bad_scenario_exits_2_with_file_line_and_expectation():
    bad = TMP / "bad.toml"
    text = pathlib.Path(SMALL).read_text().replace('capability = 0.3', 'capability = -0.3')
    bad.write_text(text.replace('include = ["small_events.toml"]', ""))
    r = run("validate", str(bad))
    assert r.returncode == 2, r.returncode
    line = 1 + text.replace('include = ["small_events.toml"]', "").split("capability = -0.3")[0].count("\n")
    assert f"{bad}:{line}:" in r.stderr and "'capability' must be a number > 0" in r.stderr, r.stderr
    r = run("run", str(bad), "--runs", "2", "--seed", "1", "--out", str(TMP / "never.h5"))
    assert r.returncode == 2 and not (TMP / "never.h5").exists()


def test_missing_scenario_and_bad_arguments_exit_2():
    assert run("validate", str(TMP / "nothing.toml")).returncode == 2
    r = run("run", SMALL, "--runs", "0", "--seed", "1", "--out", str(TMP / "x.h5"))
    assert r.returncode == 2 and "runs" in r.stderr, r.stderr
    assert run("frobnicate").returncode == 2
    r = run("--help")
    assert r.returncode == 0 and "ensemble" in r.stdout and "validate" in r.stdout
    r = run("ensemble", "--help")
    assert r.returncode == 0 and "--threads" in r.stdout and "--store-runs" in r.stdout


def test_store_runs_takes_a_count_or_all():
    for k, stored in (("all", 30), ("7", 7), ("0", 0)):
        out = TMP / f"store_{k}.h5"
        r = run("ensemble", SMALL, "--runs", "30", "--seed", "1", "--store-runs", k, "--out", str(out), "-q")
        assert r.returncode == 0, r.stderr
        with h5py.File(out) as f:
            assert f["alignment"].shape[0] == stored and f.attrs["stored_runs"] == stored
    r = run("ensemble", SMALL, "--runs", "30", "--seed", "1", "--store-runs", "lots", "--out", str(TMP / "x.h5"))
    assert r.returncode == 2 and "expected a number of runs or `all`" in r.stderr, r.stderr


def test_bad_output_path_exits_1_naming_it():
    r = run("run", SMALL, "--runs", "4", "--seed", "1", "--out", "/nonexistent/dir/out.h5")
    assert r.returncode == 1 and "/nonexistent/dir/out.h5" in r.stderr, r.stderr


def test_the_same_command_twice_gives_identical_files():
    a, first = TMP / "a.h5", TMP / "first.h5"
    for _ in range(2):
        if a.exists():
            a.rename(first)
        r = run("run", SMALL, "--runs", "64", "--seed", "7", "--out", str(a), "--quiet")
        assert r.returncode == 0, r.stderr
    d = h5diff(first, a)
    assert d.returncode == 0, d.stdout


def test_run_and_ensemble_agree_at_any_thread_count():
    ref = TMP / "ref.h5"
    assert run("run", SMALL, "--runs", "150", "--seed", "3", "--store-runs", "40", "--out", str(ref), "-q").returncode == 0
    for threads, block in [(1, 16), (2, 48), (7, 256)]:
        out = TMP / f"ens{threads}.h5"
        r = run("ensemble", SMALL, "--runs", "150", "--seed", "3", "--store-runs", "40", "--threads", str(threads),
                "--block-runs", str(block), "--out", str(out), "-q")
        assert r.returncode == 0, r.stderr
        d = h5diff(ref, out, "--exclude-attribute", "/")  # the command line in `history` differs
        assert d.returncode == 0, d.stdout
        with h5py.File(ref) as f, h5py.File(out) as g:
            for name in f.attrs:
                if name != "history":
                    assert np.array_equal(f.attrs[name], g.attrs[name]), name
    other = TMP / "seed4.h5"
    assert run("run", SMALL, "--runs", "150", "--seed", "4", "--out", str(other), "-q").returncode == 0
    assert h5diff(ref, other, "--exclude-attribute", "/").returncode == 1  # a different seed differs


def test_xarray_opens_the_file_with_labelled_dimensions():
    path = TMP / "a.h5"
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert ds["alignment"].dims == ("sample", "time", "agent", "other")
    assert ds["event_month"].dims == ("run", "event")
    assert ds["alignment_mean"].dims == ("time", "agent", "other")
    assert ds["alignment_quantile"].dims == ("quantile", "time", "agent", "other")
    assert ds["event_probability"].dims == ("event",)
    assert list(ds["agent"].values) == ["AA", "BB", "CC"] and list(ds["other"].values) == ["AA", "BB", "CC"]
    assert str(ds["time"].values[0])[:10] == "1950-01-01" and str(ds["time"].values[-1])[:10] == "1951-12-01"
    assert ds["month"].values[0] == "1950-01"
    assert list(ds["run"].values) == list(range(64)) and list(ds["sample_run"].values) == list(range(64))
    assert list(ds["quantile"].values) == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert ds.attrs["status"] == "complete" and int(ds.attrs["runs"]) == 64 and int(ds.attrs["seed"]) == 7
    m = ds["alignment_mean"].sel(agent="AA", other="CC").values
    w = ds["alignment"].sel(agent="AA", other="CC").values, ds["alignment"].sel(agent="CC", other="AA").values
    assert np.allclose(m, ((w[0] + w[1]) / 2).mean(axis=0), atol=1e-6)  # all runs are stored here
    assert "[[events]]" in ds.attrs["scenario"]


def test_netcdf_tools_read_the_file():
    r = subprocess.run(["ncdump", "-h", str(TMP / "a.h5")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for line in ("time = 24 ;", "agent = 3 ;", "run = 64 ;", "float alignment(sample, time, agent, other) ;",
                 "short event_month(run, event) ;", ':Conventions = "CF-1.8" ;'):
        assert line in r.stdout, (line, r.stdout[:2000])


def test_interrupt_leaves_a_partial_file_of_whole_runs():
    out = TMP / "interrupted.h5"
    p = subprocess.Popen([ALIGNSIM, "ensemble", SMALL, "--runs", "4000000000", "--seed", "1", "--threads", "2",
                          "--out", str(out), "-q"], stderr=subprocess.PIPE, text=True)
    # Once runs are being written (a slow start, as under the sanitizers, must not meet the signal first).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(t.stat().st_size > 100000 for t in TMP.glob(".interrupted.h5.tmp-*")):
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, (p.returncode, err)
    assert "partial" in err
    with h5py.File(out) as f:
        runs = int(f.attrs["runs"])
        assert f.attrs["status"] == "partial" and 0 < runs < 4000000000
        assert f["event_month"].shape[0] == runs and f["run"][-1] == runs - 1
        assert (f["event_month"][:, 0] >= 0).all()  # the certain first event happened in every stored run
    assert not [x for x in TMP.iterdir() if ".tmp-" in x.name]


OVERLAYS = pathlib.Path(args.data) / "overlays"


def compare_csv(base, cf):
    csv = TMP / "compare.csv"
    for old in (csv, TMP / "compare.h5"):  # from an earlier test
        old.unlink(missing_ok=True)
    r = run("compare", str(base), str(cf), "--csv", str(csv), "--h5", str(TMP / "compare.h5"))
    assert r.returncode == 0, r.stderr
    import csv as csvlib
    with open(csv) as f:
        return list(csvlib.DictReader(f))


def ensemble(scenario, name, runs="400", seed="5"):
    out = TMP / f"{name}.h5"
    if out.exists():  # made by an earlier test with the same arguments
        return out
    r = run("ensemble", str(scenario), "--runs", runs, "--seed", seed, "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr
    return out


def test_a_counterfactual_that_changes_nothing_gives_exactly_zero_difference():
    base = ensemble(SMALL, "cmp_base")
    noop = ensemble(OVERLAYS / "noop.toml", "cmp_noop")
    rows = compare_csv(base, noop)
    assert len(rows) == 2 * 3 + 6  # two eras x three dyads, six events
    for row in rows:
        for key in ("difference", "ci_low", "ci_high"):
            assert float(row[key]) == 0.0, row
    with h5py.File(TMP / "compare.h5") as f:
        g = f["comparison"]
        assert g["era_alignment_difference"].shape == (2, 3, 3) and g.attrs["runs"] == 400
        assert np.all(g["event_probability_difference"][:] == 0)


def test_removing_an_event_changes_no_draw_of_any_other():
    base = ensemble(SMALL, "cmp_base")
    cf = ensemble(OVERLAYS / "no_rename.toml", "cmp_no_rename")
    for row in compare_csv(base, cf):
        if row["event"] == "bb_renamed":
            assert float(row["difference"]) == -1.0
        else:
            assert float(row["difference"]) == 0.0 and float(row["ci_high"]) == 0.0, row


def test_compare_refuses_files_whose_seeds_or_runs_differ():
    base = ensemble(SMALL, "cmp_base")
    other_seed = ensemble(SMALL, "cmp_seed6", seed="6")
    r = run("compare", str(base), str(other_seed))
    assert r.returncode == 2 and "seeds differ (5 and 6)" in r.stderr, r.stderr
    fewer = ensemble(SMALL, "cmp_fewer", runs="300")
    r = run("compare", str(base), str(fewer))
    assert r.returncode == 2 and "run counts differ (400 and 300)" in r.stderr, r.stderr


def test_compare_refuses_a_counterfactual_whose_base_is_not_the_baselines_scenario():
    small = ensemble(SMALL, "cmp_base")
    refit = ensemble(OVERLAYS / "small_refit.toml", "cmp_refit")
    cf = ensemble(OVERLAYS / "on_refit.toml", "cmp_on_refit")
    mixed = ("the counterfactual 'small_refit_no_pact' extends the scenario 'small_refit', but the baseline file "
             "holds the scenario 'small'")
    r = run("compare", str(small), str(cf), "--csv", str(TMP / "mixed.csv"))
    assert r.returncode == 2 and mixed in r.stderr and "--allow-different-base" in r.stderr, r.stderr
    assert not (TMP / "mixed.csv").exists()
    r = run("compare", str(small), str(cf), "--allow-different-base")
    assert r.returncode == 0 and f"warning: {mixed}" in r.stderr, r.stderr
    r = run("compare", str(refit), str(cf))
    assert r.returncode == 0 and "extends" not in r.stderr, r.stderr
    # A counterfactual of that counterfactual: either of the two is its baseline, not small.toml.
    more = ensemble(OVERLAYS / "on_refit_more.toml", "cmp_on_refit_more")
    for baseline in (cf, refit):
        r = run("compare", str(baseline), str(more))
        assert r.returncode == 0 and "extends" not in r.stderr, r.stderr
    r = run("compare", str(small), str(more))
    assert r.returncode == 2, r.stderr
    assert ("extends the scenario 'small_refit_no_pact' (a counterfactual of 'small_refit'), but the baseline "
            "file holds the scenario 'small'") in r.stderr, r.stderr
    # A baseline under the base's name that is another version of it: other parameters.
    other = TMP / "small_other.toml"
    other.write_text(f'extends = "{pathlib.Path(SMALL).resolve()}"\n[scenario]\nname = "small_refit"\n'
                     'title = "Not the refit"\n[parameters]\nk_a = 0.09\n')
    r = run("compare", str(ensemble(other, "cmp_other")), str(cf))
    assert r.returncode == 2 and "the baseline file holds another version of 'small_refit'" in r.stderr, r.stderr


def test_resolve_and_diff():
    r = run("resolve", str(OVERLAYS / "every_change.toml"))
    assert r.returncode == 0, r.stderr
    resolved = TMP / "resolved.toml"
    resolved.write_text(r.stdout)
    assert run("validate", str(resolved)).returncode == 0
    assert "extends" not in r.stdout and "bb_aid_cc" in r.stdout and "aa_visits_cc" not in r.stdout
    same = run("diff", SMALL, SMALL)
    assert same.returncode == 0 and "no differences" in same.stdout
    d = run("diff", SMALL, str(OVERLAYS / "every_change.toml"))
    assert d.returncode == 1
    assert "events only in" in d.stdout and "aa_visits_cc" in d.stdout and "bb_aid_cc" in d.stdout
    assert "event cc_joins_bb_pact" in d.stdout and "b0 = -1.0" in d.stdout
    bad = run("resolve", str(TMP / "nothing.toml"))
    assert bad.returncode == 2


def test_sensitivity_is_seeded_and_finds_no_effect_where_there_is_none():
    outputs = ["--output", "probability:cc_invited_by_bb", "--output", "mean:AA-CC:1950-06:1951-12"]
    csvs = []
    for k in range(2):
        csv = TMP / f"morris{k}.csv"
        r = run("sensitivity", SMALL, *outputs, "--runs", "64", "--trajectories", "4", "--seed", "3", "--csv", str(csv))
        assert r.returncode == 0, r.stderr
        csvs.append(csv.read_text())
    assert csvs[0] == csvs[1]  # the same seed, the same design and runs
    import csv as csvlib
    rows = list(csvlib.DictReader(csvs[0].splitlines()))
    assert len(rows) == 2 * 7  # the seven dynamics parameters by default
    for row in rows:
        if row["output"] == "probability:cc_invited_by_bb":
            # a scheduled event with probability 0.5: its draw depends on no parameter
            assert float(row["mu_star"]) == 0.0, row
    assert max(float(r["mu_star"]) for r in rows if r["output"].startswith("mean:")) > 0.01
    r = run("sensitivity", SMALL, "--output", "probability:no_such_event")
    assert r.returncode == 2 and "no event 'no_such_event'" in r.stderr, r.stderr


def test_a_full_disk_is_an_error_naming_the_file_and_leaves_nothing():
    with tiny_disk(TMP / "tiny") as mount:
        out = mount / "full.h5"
        r = run("ensemble", SMALL, "--runs", "20000", "--seed", "1", "--store-runs", "20000", "--deflate", "0",
                "--out", str(out), "-q")
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert str(out) in r.stderr and "no space left on device" in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1, r.stderr  # one message, no noise from the HDF5 library
        assert list(mount.iterdir()) == []


if __name__ == "__main__":
    run_checks(globals())
