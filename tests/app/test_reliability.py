"""No result is ever lost or silently wrong: the program as a hostile but realistic user meets it.

Each test reproduces a way alignsim once destroyed data, crashed or misled (docs/reliability.md)
and checks that it no longer does. Run by CTest with Debian's /usr/bin/python3 -m pytest; the
program and the data come from the environment (ALIGNSIM, ALIGNSIM_DATA, ALIGNSIM_SCENARIOS).
"""
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import time

import h5py
import numpy as np
import pytest

ALIGNSIM = os.environ["ALIGNSIM"]
DATA = pathlib.Path(os.environ["ALIGNSIM_DATA"])
SCENARIOS = pathlib.Path(os.environ["ALIGNSIM_SCENARIOS"])
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
BASELINE = SCENARIOS / "baseline" / "calibrated.toml"


def run(*argv, cwd=None):
    return subprocess.run([ALIGNSIM, *map(str, argv)], capture_output=True, text=True, env=ENV, timeout=600, cwd=cwd)


def h5diff(a, b, *options):
    return subprocess.run(["h5diff", *options, str(a), str(b)], capture_output=True, text=True)


def temporaries(folder):
    return sorted(p.name for p in pathlib.Path(folder).iterdir() if ".tmp-" in p.name)


@pytest.fixture
def small(tmp_path):
    """A copy of the small scenario (small.toml including small_events.toml) in its own folder."""
    for name in ("small.toml", "small_events.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path / "small.toml"


def simulate(scenario, out, *extra, runs=40, seed=1, command="ensemble"):
    return run(command, scenario, "--runs", runs, "--seed", seed, "--out", out, "-q", *extra)


def start(scenario, out, *extra, runs=4000000000, seed=1, threads=2):
    return subprocess.Popen([ALIGNSIM, "ensemble", str(scenario), "--runs", str(runs), "--seed", str(seed), "--threads",
                             str(threads), "--out", str(out), "-q", *map(str, extra)], stderr=subprocess.PIPE,
                            text=True, env=ENV)


def wait_for_temporary(folder, process, size=0, timeout=120):
    """Until the output's temporary file exists (the signal handlers are in place by then) and holds
    at least `size` bytes (blocks of runs have been written): no guess at the machine's speed."""
    end = time.monotonic() + timeout
    while True:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < end, "no temporary file appeared or grew"
        found = [pathlib.Path(folder) / name for name in temporaries(folder)]
        try:
            if found and found[0].stat().st_size >= size:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.001)


# 1 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("command", ["run", "ensemble"])
def test_out_never_writes_over_the_scenario_or_a_file_it_includes(small, tmp_path, command, overwrite):
    (tmp_path / "link.toml").symlink_to("small_events.toml")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for target in ("small.toml", "small_events.toml", "link.toml", "./small.toml"):
        r = simulate(small, tmp_path / target, *overwrite, command=command)
        assert r.returncode == 2, r.stderr
        assert "is an input of this command" in r.stderr, r.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_an_overlay_s_base_is_an_input_too(small, tmp_path):
    (tmp_path / "cf.toml").write_text('extends = "small.toml"\n[scenario]\nname = "cf"\ntitle = "cf"\n')
    text = small.read_bytes()
    r = simulate(tmp_path / "cf.toml", small, "--overwrite")
    assert r.returncode == 2 and "is an input" in r.stderr, r.stderr
    assert small.read_bytes() == text


# 2 -----------------------------------------------------------------------------------------------


def test_compare_never_writes_over_the_files_it_compares(small, tmp_path):
    base, cf = tmp_path / "b.h5", tmp_path / "c.h5"
    assert simulate(small, base).returncode == 0 and simulate(small, cf, seed=1).returncode == 0
    data = base.read_bytes(), cf.read_bytes()
    for option, target in (("--csv", base), ("--h5", cf), ("--csv", cf), ("--h5", base)):
        r = run("compare", base, cf, option, target, "--overwrite")
        assert r.returncode == 2 and "is an input of this command" in r.stderr, r.stderr
    assert (base.read_bytes(), cf.read_bytes()) == data
    r = run("compare", base, cf, "--csv", tmp_path / "t.csv", "--h5", tmp_path / "t.csv")
    assert r.returncode == 2 and "another output of this command" in r.stderr, r.stderr
    assert not (tmp_path / "t.csv").exists() and temporaries(tmp_path) == []


# 3 -----------------------------------------------------------------------------------------------


def test_an_existing_output_is_replaced_only_with_overwrite(small, tmp_path):
    out = tmp_path / "out.h5"
    assert simulate(small, out, seed=1).returncode == 0
    first = out.read_bytes()
    r = simulate(small, out, seed=2)
    assert r.returncode == 2 and "exists; pass --overwrite" in r.stderr, r.stderr
    assert out.read_bytes() == first
    assert simulate(small, out, "--overwrite", seed=2).returncode == 0
    with h5py.File(out) as f:
        assert int(f.attrs["seed"]) == 2


def test_a_read_only_output_is_kept_even_with_overwrite(small, tmp_path):
    out = tmp_path / "week_of_runs.h5"
    assert simulate(small, out).returncode == 0
    out.chmod(0o444)
    data = out.read_bytes()
    r = simulate(small, out, "--overwrite", seed=2)
    assert r.returncode == 2 and "read-only" in r.stderr, r.stderr
    assert out.read_bytes() == data and stat.S_IMODE(out.stat().st_mode) == 0o444


def test_only_regular_files_are_written(small, tmp_path):
    node = tmp_path / "null"
    if os.geteuid() == 0:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of the test's own
        kind = "a character device"
    else:
        os.mkfifo(node)
        kind = "a named pipe"
    (tmp_path / "folder").mkdir()
    for target, why in ((node, kind), (tmp_path / "folder", "a folder")):
        r = simulate(small, target, "--overwrite")
        assert r.returncode == 2 and why in r.stderr, r.stderr
    assert not stat.S_ISREG(node.stat().st_mode) and (tmp_path / "folder").is_dir()
    assert temporaries(tmp_path) == []


# 4, 5, 6 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", "18446744073709551616", "1e23", "0x10", " 1", "1.0", ""])
def test_a_seed_that_is_not_a_64_bit_integer_is_refused(small, tmp_path, seed):
    r = simulate(small, tmp_path / "out.h5", seed=seed)
    assert r.returncode == 2 and "--seed" in r.stderr, r.stderr
    assert list(tmp_path.glob("*.h5")) == []


def test_the_largest_seed_is_kept_exactly(small, tmp_path):
    assert simulate(small, tmp_path / "out.h5", seed=2**64 - 1).returncode == 0
    with h5py.File(tmp_path / "out.h5") as f:
        assert int(f.attrs["seed"]) == 2**64 - 1


@pytest.mark.parametrize("levels", [["0.5", "nan"], ["0.5", "0.5"], ["1.5"], ["-0.1"], ["inf"], ["0.5x"]])
def test_quantile_levels_must_be_distinct_numbers_in_0_1(small, tmp_path, levels):
    r = simulate(small, tmp_path / "out.h5", "--quantiles", *levels)
    assert r.returncode == 2 and "--quantiles" in r.stderr, r.stderr
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("spec,why", [("k_a=-5:7", "k_a must lie in [0, 1]"),
                                      ("shock_scale=0:0.5", "shock_scale must lie in [0, 0.2]"),
                                      ("sigma=0:nan", "two numbers"), ("k_r=0.1x:0.2", "two numbers"),
                                      ("k_b=0.2:0.1", "lo must be below hi")])
def test_sensitivity_runs_only_parameter_values_a_scenario_may_hold(small, spec, why):
    r = run("sensitivity", small, "--output", "probability:aa_visits_cc", "--parameter", spec, "--runs", 16,
            "--trajectories", 2)
    assert r.returncode == 2 and why in r.stderr, r.stderr
    assert "sensitivity:" not in r.stderr  # refused before any design point ran


# 7, 9, 10 ----------------------------------------------------------------------------------------


def test_an_interrupt_before_any_run_finished_writes_nothing(tmp_path):
    # One block of 16384 runs of the baseline takes a good part of a second on one thread.
    p = start(BASELINE, tmp_path / "out.h5", "--block-runs", 16384, threads=1)
    wait_for_temporary(tmp_path, p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "nothing was written" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("signals", [[signal.SIGHUP], [signal.SIGINT, signal.SIGTERM], [signal.SIGTERM, signal.SIGINT,
                                                                                         signal.SIGHUP]])
def test_stopping_signals_leave_a_partial_file_and_no_temporary_file(small, tmp_path, signals):
    out = tmp_path / "out.h5"
    p = start(small, out)
    wait_for_temporary(tmp_path, p, size=200000)
    for s in signals:  # the later ones arrive while the first is being handled
        p.send_signal(s)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert temporaries(tmp_path) == []
    with h5py.File(out) as f:
        assert f.attrs["status"] == "partial" and int(f.attrs["runs"]) > 0


def test_a_signal_as_soon_as_the_output_exists_leaves_no_temporary_file(small, tmp_path):
    p = start(small, tmp_path / "out.h5")
    wait_for_temporary(tmp_path, p)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert temporaries(tmp_path) == []


def test_an_interrupted_run_storing_every_run_is_finished_at_once(small, tmp_path):
    out = tmp_path / "out.h5"
    p = start(small, out, "--store-runs", "all", runs=1000000000)
    wait_for_temporary(tmp_path, p, size=2000000)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)  # shrinking 10^9 planned runs to those done took a minute or more
    assert p.returncode == 130, err
    with h5py.File(out) as f:
        runs = int(f.attrs["runs"])
        assert f.attrs["status"] == "partial" and f["alignment"].shape[0] == runs == f["event_month"].shape[0]


def test_temporary_files_of_killed_runs_are_named_in_a_warning(small, tmp_path):
    p = start(small, tmp_path / "killed.h5")
    wait_for_temporary(tmp_path, p, size=200000)
    p.kill()  # SIGKILL cannot be caught: its temporary file stays
    p.communicate()
    left = temporaries(tmp_path)
    assert len(left) == 1
    r = simulate(small, tmp_path / "next.h5")
    assert r.returncode == 0
    assert f"'{tmp_path / left[0]}' is a temporary file left by an alignsim process that no longer runs" in r.stderr
    r = run("compare", tmp_path / "next.h5", tmp_path / left[0])
    assert r.returncode == 2 and "a file that was never closed" in r.stderr and "H5A" not in r.stderr, r.stderr


# 11, 12 ------------------------------------------------------------------------------------------


def test_compare_on_a_full_disk_fails_naming_the_file_and_leaves_nothing(small, tmp_path):
    base = tmp_path / "b.h5"
    assert simulate(small, base).returncode == 0
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        with open(mount / "filler", "wb", buffering=0) as f:  # fill the disk to the last byte
            try:
                while True:
                    f.write(b"x" * 4096)
            except OSError:
                pass
        for option, name in (("--csv", "t.csv"), ("--h5", "t.h5")):
            r = run("compare", base, base, option, mount / name)
            assert r.returncode == 1, r.stderr
            assert str(mount / name) in r.stderr and "no space left on device" in r.stderr, r.stderr
            assert sorted(p.name for p in mount.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(mount)])


def test_an_output_name_of_255_bytes_is_written(small, tmp_path):
    for length in (253, 255):
        out = tmp_path / ("r" * (length - 3) + ".h5")
        assert len(out.name.encode()) == length
        r = simulate(small, out)
        assert r.returncode == 0, r.stderr
        assert out.exists()
    r = simulate(small, tmp_path / ("r" * 253 + ".h5"))
    assert r.returncode == 2 and "256 bytes long" in r.stderr, r.stderr
    assert temporaries(tmp_path) == []


# 14 ----------------------------------------------------------------------------------------------


def test_unreadable_files_are_told_apart(small, tmp_path):
    good = tmp_path / "good.h5"
    assert simulate(small, good).returncode == 0
    data = good.read_bytes()
    (tmp_path / "truncated.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "notes.h5").write_text("not a file of numbers\n")
    for name, why in (("truncated.h5", f"it is truncated: it holds {len(data) // 2} bytes of the {len(data)}"),
                      ("notes.h5", "it is not an HDF5 file")):
        r = run("compare", good, tmp_path / name)
        assert r.returncode == 2 and why in r.stderr, r.stderr


def test_comparing_a_file_with_itself_is_warned(small, tmp_path):
    good = tmp_path / "good.h5"
    assert simulate(small, good).returncode == 0
    r = run("compare", good, good)
    assert r.returncode == 0 and "are the same file: every difference is 0" in r.stderr, r.stderr
    copy = tmp_path / "copy.h5"
    assert simulate(small, copy).returncode == 0
    r = run("compare", good, copy)
    assert r.returncode == 0 and "hold the same scenario" in r.stderr, r.stderr


# --resume ----------------------------------------------------------------------------------------


def interrupted(scenario, out, *extra):
    p = start(scenario, out, *extra)
    wait_for_temporary(out.parent, p, size=200000)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and "--resume" in err, err


def test_resume_completes_a_partial_file_bit_identically_to_an_uninterrupted_run(tmp_path):
    options = ["--runs", 20000, "--seed", 3, "--store-runs", 300, "--block-runs", 64]
    reference = tmp_path / "reference.h5"
    r = run("ensemble", BASELINE, *options, "--out", reference, "-q")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "resumed.h5"
    p = subprocess.Popen([ALIGNSIM, "ensemble", str(BASELINE), *map(str, options), "--threads", "2", "--out", str(out),
                          "-q"], stderr=subprocess.PIPE, text=True, env=ENV)
    wait_for_temporary(tmp_path, p, size=2000000)  # about 100 stored runs
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    with h5py.File(out) as f:
        done = int(f.attrs["runs"])
        assert f.attrs["status"] == "partial" and 0 < done < 20000 and done % 64 == 0
    r = run("ensemble", BASELINE, *options, "--threads", 1, "--out", out, "-q", "--resume")
    assert r.returncode == 0, r.stderr
    d = h5diff(reference, out, "--exclude-attribute", "/")
    assert d.returncode == 0, d.stdout[-3000:]
    with h5py.File(reference) as f, h5py.File(out) as g:
        assert "resume" not in g
        for name in f.attrs:
            if name != "history":
                assert np.array_equal(f.attrs[name], g.attrs[name]), name
        assert g.attrs["history"].count("\n") == 1 and g.attrs["history"].endswith("--resume")
    assert temporaries(tmp_path) == []


def test_resume_refuses_a_file_of_another_scenario_seed_or_options(small, tmp_path):
    out = tmp_path / "partial.h5"
    interrupted(small, out, "--store-runs", 50)
    data = out.read_bytes()
    runs = "4000000000"
    cases = [
        (["--seed", 2, "--runs", runs], "it was started with --seed 1, not 2"),
        (["--seed", 1, "--runs", 5000], "it was started with --runs 4000000000, not 5000"),
        (["--seed", 1, "--runs", runs, "--store-runs", 10], "stores W of 50 runs, not 10"),
        (["--seed", 1, "--runs", runs, "--store-runs", 50, "--deflate", 0], "--deflate 1, not 0"),
        (["--seed", 1, "--runs", runs, "--store-runs", 50, "--block-runs", 512], "blocks of 256 runs, not 512"),
        (["--seed", 1, "--runs", runs, "--store-runs", 50, "--quantiles", 0.5], "(--quantiles)"),
    ]
    for extra, why in cases:
        r = run("ensemble", small, *extra, "--out", out, "-q", "--resume")
        assert r.returncode == 2 and why in r.stderr, (extra, r.stderr)
    other = tmp_path / "other.toml"
    other.write_text(small.read_text().replace("k_a = 0.05", "k_a = 0.06"))
    r = run("ensemble", other, "--seed", 1, "--runs", runs, "--store-runs", 50, "--out", out, "-q", "--resume")
    assert r.returncode == 2 and "its scenario differs" in r.stderr, r.stderr
    assert out.read_bytes() == data and temporaries(tmp_path) == []
    complete = tmp_path / "complete.h5"
    assert simulate(small, complete).returncode == 0
    r = run("ensemble", small, "--runs", 40, "--seed", 1, "--out", complete, "-q", "--resume")
    assert r.returncode == 2 and 'its status is "complete": there is nothing to resume' in r.stderr, r.stderr
    r = run("ensemble", small, "--runs", 40, "--seed", 1, "--out", tmp_path / "none.h5", "-q", "--resume")
    assert r.returncode == 2 and "nothing to resume" in r.stderr, r.stderr


# calibrate ---------------------------------------------------------------------------------------


def test_calibrate_writes_over_neither_its_scenario_nor_its_targets_nor_an_old_report(small, tmp_path):
    targets = tmp_path / "targets.toml"
    shutil.copy(DATA / "small_targets.toml", targets)
    base = ["calibrate", small, "--targets", targets, "--runs", 16, "--max-evals", 0, "-q"]
    for out in (small, tmp_path / "small_events.toml", targets):
        r = run(*base, "--out", out, "--overwrite")
        assert r.returncode == 2 and "is an input of this command" in r.stderr, r.stderr
    report = tmp_path / "report"
    r = run(*base, "--out", tmp_path / "calibrated.toml", "--report", report)
    assert r.returncode == 0, r.stderr
    assert (report / "report.md").exists() and (tmp_path / "calibrated.toml").exists()
    r = run(*base, "--out", tmp_path / "calibrated2.toml", "--report", report)
    assert r.returncode == 2 and "report.md' exists; pass --overwrite" in r.stderr, r.stderr
    assert not (tmp_path / "calibrated2.toml").exists()
    assert run(*base, "--out", tmp_path / "calibrated.toml", "--report", report, "--overwrite").returncode == 0
    assert temporaries(tmp_path) == [] and temporaries(report) == []
