#!/usr/bin/env python3
"""alignsim under mpirun (docs/cluster.md), as a user launches it: two ranks write the file one
process writes (h5diff), calibrate gives the same fit, a signal leaves a partial file of whole runs,
and a rank that is killed or fails ends the job with no file. Run by CTest in the -DALIGNSIM_MPI=ON
build with Debian's /usr/bin/python3: `test_mpi.py --alignsim A --data D [TEST_NAME ...]`."""
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

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from checks import run_checks, tiny_disk  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--alignsim", required=True)
parser.add_argument("--data", required=True)
parser.add_argument("--scenarios", required=True)
parser.add_argument("--mpirun", default="mpirun")
parser.add_argument("tests", nargs="*", help="test functions to run (default: all)")
args = parser.parse_args()
ALIGNSIM = args.alignsim
DATA = pathlib.Path(args.data)
SMALL = str(DATA / "small.toml")
BASELINE = pathlib.Path(args.scenarios) / "baseline"
TMP = pathlib.Path(tempfile.mkdtemp(prefix="alignsim_mpi_"))
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
# Root in CI containers, and two ranks on however many cores there are.
MPIRUN = [args.mpirun, "--allow-run-as-root", "--oversubscribe"]


def alone(*argv, cwd):
    return subprocess.run([ALIGNSIM, *argv], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=600)


def ranks(n, *argv, cwd, mpi_options=()):
    return subprocess.run([*MPIRUN, *mpi_options, "-np", str(n), ALIGNSIM, *argv], capture_output=True, text=True,
                          env=ENV, cwd=cwd, timeout=600)


def folder(name):
    path = TMP / name
    path.mkdir()
    return path


def h5diff(a, b):
    return subprocess.run(["h5diff", str(a), str(b)], capture_output=True, text=True)


def test_one_two_and_three_ranks_write_the_file_one_process_writes():
    # The same command line in two folders: the files must not differ at all, attributes included.
    cases = [
        (1, [SMALL, "--runs", "1003", "--seed", "5", "--store-runs", "300", "--block-runs", "16"]),
        (2, [SMALL, "--runs", "1003", "--seed", "5", "--store-runs", "all", "--deflate", "0", "--block-runs", "48"]),
        (2, [SMALL, "--runs", "777", "--seed", "9", "--store-runs", "100", "--threads", "2"]),
        (3, [SMALL, "--runs", "1003", "--seed", "5", "--store-runs", "300", "--deflate", "4", "--block-runs", "16"]),
        (3, [SMALL, "--runs", "20", "--seed", "2"]),  # fewer blocks than ranks
        (2, [str(BASELINE / "calibrated.toml"), "--runs", "3000", "--seed", "1947"]),
    ]
    for k, (n, options) in enumerate(cases):
        one, many = folder(f"alone{k}"), folder(f"ranks{k}")
        command = ["ensemble", *options, "--out", "out.h5"]
        r = alone(*command, cwd=one)
        assert r.returncode == 0, r.stderr
        r = ranks(n, *command, cwd=many, mpi_options=["--bind-to", "none"])
        assert r.returncode == 0, r.stdout + r.stderr
        if n > 1:
            assert f"on {n} ranks" in r.stderr, r.stderr  # the runs were split, not run n times alone
        d = h5diff(one / "out.h5", many / "out.h5")
        assert d.returncode == 0, (options, d.stdout)
        with h5py.File(many / "out.h5") as f:
            assert f.attrs["status"] == "complete" and int(f.attrs["runs"]) == int(options[2])
        assert sorted(x.name for x in many.iterdir()) == ["out.h5"]  # no temporary file left


def test_calibrate_on_two_ranks_gives_the_same_fit():
    command = ["calibrate", str(BASELINE / "scenario.toml"), "--targets", str(BASELINE / "targets.toml"),
               "--runs", "256", "--seed", "4", "--max-evals", "6", "--free", "k_a,sigma",
               "--out", "fit.toml", "--report", "report"]
    one, many = folder("cal_alone"), folder("cal_ranks")
    r = alone(*command, cwd=one)
    assert r.returncode == 0, r.stderr
    r = ranks(2, *command, cwd=many)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("calibration of 'baseline'") == 1, r.stdout  # rank 0 alone reports
    fit = (one / "fit.toml").read_text()
    assert "k_a = " in fit and fit == (many / "fit.toml").read_text()
    import json
    a = json.loads((one / "report" / "report.json").read_text())
    b = json.loads((many / "report" / "report.json").read_text())
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    assert len(set(a["loss_trace"])) > 1  # the optimiser moved: evaluations at several points agreed


def test_a_posterior_on_two_ranks_is_the_one_process_gives_and_its_ensembles_match():
    # calibrate --posterior splits every particle's ensemble among the ranks: the same posterior file
    # (byte for byte but the software line) and report; then ensemble --posterior on 2 ranks equals
    # one process's file.
    command = ["calibrate", SMALL, "--targets", str(pathlib.Path(SMALL).parent / "small_targets.toml"),
               "--posterior", "post.csv", "--particles", "12", "--generations", "2", "--runs", "24", "--seed", "5",
               "--report", "report"]
    one, many = folder("post_alone"), folder("post_ranks")
    r = alone(*command, cwd=one)
    assert r.returncode == 0, r.stderr
    r = ranks(2, *command, cwd=many, mpi_options=["--bind-to", "none"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("posterior of") == 1, r.stdout  # rank 0 alone reports
    data = lambda d: [l for l in (d / "post.csv").read_text().splitlines() if not l.startswith("#")]
    assert len(data(one)) == 13 and data(one) == data(many)
    import json
    a = json.loads((one / "report" / "posterior.json").read_text())
    b = json.loads((many / "report" / "posterior.json").read_text())
    for x in (a, b):
        for key in ("seconds", "cpu_seconds", "command"):
            x.pop(key, None)
        for g in x["generations"]:
            g.pop("seconds")
        x["coverage"].pop("seconds")
    assert a == b
    ensemble = ["ensemble", SMALL, "--posterior", str(one / "post.csv"), "--runs", "300", "--seed", "7", "-q"]
    assert alone(*ensemble, "--out", str(one / "e.h5"), cwd=one).returncode == 0
    r = ranks(2, *ensemble, "--out", str(many / "e.h5"), cwd=many, mpi_options=["--bind-to", "none"])
    assert r.returncode == 0, r.stderr
    d = h5diff(one / "e.h5", many / "e.h5")
    assert d.returncode == 0, d.stdout + d.stderr


def test_the_output_rule_holds_under_mpirun():
    # Rank 0 writes through the output rule: an existing file only with --overwrite, never an input,
    # and --resume (one process's business) refused with exit 2, the file left as it was.
    where = folder("rule")
    command = ["ensemble", SMALL, "--runs", "300", "--seed", "3", "-q"]
    alone_file = folder("rule_alone") / "one.h5"
    assert alone(*command, "--out", str(alone_file), cwd=where).returncode == 0
    (where / "out.h5").write_bytes(b"an earlier result")
    r = ranks(2, *command, "--out", "out.h5", cwd=where)
    assert r.returncode == 2 and r.stderr.count("out.h5") == 1 and "--overwrite" in r.stderr, (r.returncode, r.stderr)
    assert (where / "out.h5").read_bytes() == b"an earlier result"
    r = ranks(2, *command, "--out", "out.h5", "--overwrite", cwd=where)
    assert r.returncode == 0, r.stderr
    assert h5diff(alone_file, where / "out.h5").returncode != 2  # a readable HDF5 file now
    with h5py.File(where / "out.h5") as f, h5py.File(alone_file) as g:
        for k in ("event_month", "era_alignment", "alignment", "alignment_mean", "alignment_quantile"):
            assert np.array_equal(f[k][()], g[k][()], equal_nan=True), k
    scenario = where / "small.toml"
    for name in ("small.toml", "small_events.toml"):
        (where / name).write_text((DATA / name).read_text())
    before = scenario.read_text()
    r = ranks(2, "ensemble", str(scenario), "--runs", "300", "--seed", "3", "--out", str(scenario), "--overwrite",
              cwd=where)
    assert r.returncode == 2 and "input" in r.stderr, (r.returncode, r.stderr)
    assert scenario.read_text() == before
    stamp = (where / "out.h5").stat().st_mtime_ns
    r = ranks(2, *command, "--out", "out.h5", "--resume", cwd=where)
    assert r.returncode == 2 and r.stderr.count("--resume is not supported under mpirun") == 1, (r.returncode, r.stderr)
    assert (where / "out.h5").stat().st_mtime_ns == stamp
    assert sorted(x.name for x in where.iterdir()) == ["out.h5", "small.toml", "small_events.toml"]  # no temporary file left
    # calibrate's overlay too: refused before any evaluation.
    (where / "fit.toml").write_text("an earlier fit")
    r = ranks(2, "calibrate", str(BASELINE / "scenario.toml"), "--targets", str(BASELINE / "targets.toml"),
              "--runs", "256", "--max-evals", "2", "--out", "fit.toml", cwd=where)
    assert r.returncode == 2 and r.stderr.count("fit.toml") == 1 and "--overwrite" in r.stderr, (r.returncode, r.stderr)
    assert (where / "fit.toml").read_text() == "an earlier fit"


def wait_for_runs(p, seconds):
    """Waits until the job has been running `seconds`; fails if it ended first."""
    end = time.time() + seconds
    while time.time() < end:
        assert p.poll() is None, p.communicate()
        time.sleep(0.05)


def wait_for_blocks(p, where, timeout=120):
    """Waits until rank 0's temporary file grows: every rank is then simulating (and takes signals as
    stops); fails if the job ended first."""
    end = time.time() + timeout
    first = None
    while time.time() < end:
        assert p.poll() is None, p.communicate()
        temporary = [x for x in where.iterdir() if ".tmp-" in x.name]
        if temporary:
            size = temporary[0].stat().st_size
            first = size if first is None else first
            if size > first:
                return
        time.sleep(0.02)
    raise AssertionError("the job wrote no block in time")


def check_partial(folder_path, name="p.h5"):
    """The partial file holds runs 0 .. runs - 1, whole, with the data one process gives for them."""
    assert sorted(x.name for x in folder_path.iterdir()) == [name], list(folder_path.iterdir())
    with h5py.File(folder_path / name) as f:
        runs = int(f.attrs["runs"])
        assert f.attrs["status"] == "partial" and 0 < runs < 50_000_000
        assert runs % 256 == 0  # whole blocks
        assert f["event_month"].shape[0] == runs and list(f["run"][-3:]) == [runs - 3, runs - 2, runs - 1]
        assert (f["event_month"][:, 0] >= 0).all()  # the certain first event happened in every run kept
        partial = {k: f[k][()] for k in ("event_month", "era_alignment", "alignment", "alignment_mean",
                                          "alignment_std", "alignment_quantile", "event_probability")}
    whole = folder(f"whole_{folder_path.name}")
    r = alone("ensemble", SMALL, "--runs", str(runs), "--seed", "1", "--out", "w.h5", "-q", cwd=whole)
    assert r.returncode == 0, r.stderr
    with h5py.File(whole / "w.h5") as f:
        for k, v in partial.items():
            assert np.array_equal(f[k][()], v, equal_nan=True), k
    return runs


def rank_pids(p):
    """{rank: pid} of the processes mpirun started (read from /proc: their parent and environment)."""
    pids = {}
    for proc in pathlib.Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            if not proc.name.isdigit() or int(stat.rsplit(")", 1)[1].split()[1]) != p.pid:
                continue
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                pids[int(item.split(b"=")[1])] = int(proc.name)
    return pids


LONG = ["ensemble", SMALL, "--runs", "50000000", "--seed", "1", "--out", "p.h5", "-q"]


def launch(cwd):
    return subprocess.Popen([*MPIRUN, "-np", "2", ALIGNSIM, *LONG], cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def ended(p, timeout=120):
    """The job's stdout and stderr once it has ended; a job still running after `timeout` is killed."""
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for pid in rank_pids(p).values():
            os.kill(pid, signal.SIGKILL)
        p.kill()
        p.communicate()
        raise


def test_ctrl_c_and_sigterm_to_mpirun_leave_a_partial_file():
    for sig in (signal.SIGINT, signal.SIGTERM):
        where = folder(f"signal_{sig.name}")
        p = launch(where)
        wait_for_runs(p, 2.0)
        p.send_signal(sig)  # mpirun passes it on to every rank as SIGTERM
        out, err = ended(p)
        assert p.returncode != 0, (p.returncode, err)
        assert "interrupted; 'p.h5' holds the" in err and "partial" in err, err
        check_partial(where)


def test_a_signal_to_one_rank_stops_them_all():
    where = folder("signal_rank1")
    p = launch(where)
    wait_for_runs(p, 2.0)
    os.kill(rank_pids(p)[1], signal.SIGTERM)
    out, err = ended(p)
    assert p.returncode == 130, (p.returncode, err)
    check_partial(where)


def test_one_process_completes_an_interrupted_mpi_job_with_resume():
    # The partial file two ranks leave keeps the summaries' state: one process with --resume then
    # writes the file of an uninterrupted run, bit for bit.
    where = folder("resume")
    runs = "2000000"
    command = ["ensemble", SMALL, "--runs", runs, "--seed", "1", "--out", "p.h5", "-q"]
    p = subprocess.Popen([*MPIRUN, "-np", "2", ALIGNSIM, *command], cwd=where, env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_for_blocks(p, where)
    os.kill(rank_pids(p)[1], signal.SIGTERM)
    out, err = ended(p)
    assert p.returncode == 130, (p.returncode, err)
    with h5py.File(where / "p.h5") as f:
        done = int(f.attrs["runs"])
        assert f.attrs["status"] == "partial" and 0 < done < int(runs), done
    r = alone(*command, "--resume", cwd=where)
    assert r.returncode == 0, r.stderr
    whole = folder("resume_whole")
    r = alone(*command, cwd=whole)
    assert r.returncode == 0, r.stderr
    with h5py.File(where / "p.h5") as f, h5py.File(whole / "p.h5") as g:
        assert f.attrs["status"] == "complete" and int(f.attrs["runs"]) == int(runs)
        for k in ("event_month", "era_alignment", "alignment", "alignment_mean", "alignment_std",
                  "alignment_quantile", "event_probability"):
            assert np.array_equal(f[k][()], g[k][()], equal_nan=True), k


def test_a_killed_rank_fails_the_job_and_leaves_no_file():
    for victim in (1, 0):
        where = folder(f"killed{victim}")
        p = launch(where)
        wait_for_runs(p, 2.0)
        os.kill(rank_pids(p)[victim], signal.SIGKILL)
        out, err = ended(p)
        assert p.returncode != 0, (p.returncode, err)
        assert f"rank {victim}" in err and "exited on signal 9" in err, err
        assert not (where / "p.h5").exists()
        if victim == 1:
            # Rank 0 found rank 1 gone, said so and removed its unfinished file before mpirun ended it.
            assert "rank 1 did not answer the stop" in err and "'p.h5' is not written" in err, err
            assert list(where.iterdir()) == [], list(where.iterdir())


def test_bad_input_ends_every_rank_with_one_message():
    where = folder("bad")
    bad = where / "bad.toml"
    bad.write_text(pathlib.Path(SMALL).read_text().replace("capability = 0.3", "capability = -0.3")
                   .replace('include = ["small_events.toml"]', ""))
    r = ranks(2, "ensemble", str(bad), "--runs", "100", "--seed", "1", "--out", "x.h5", cwd=where)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.count("'capability' must be a number > 0") == 1, r.stderr
    r = ranks(2, "ensemble", SMALL, "--runs", "100", "--seed", "1", "--out", "/nonexistent/dir/x.h5", cwd=where)
    assert r.returncode == 1 and r.stderr.count("/nonexistent/dir/x.h5") == 1, r.stderr
    assert sorted(x.name for x in where.iterdir()) == ["bad.toml"]


def test_a_rank_that_fails_ends_the_job_and_leaves_nothing():
    # Rank 0 runs out of disk space while the other rank still sends it blocks.
    with tiny_disk(TMP / "tiny") as mount:
        r = ranks(2, "ensemble", SMALL, "--runs", "100000", "--seed", "1", "--store-runs", "all", "--deflate", "0",
                  "--out", str(mount / "full.h5"), "-q", cwd=TMP)
        assert r.returncode != 0, (r.returncode, r.stderr)
        assert str(mount / "full.h5") in r.stderr and "no space left on device" in r.stderr, r.stderr
        assert "the job stops" in r.stderr, r.stderr
        assert list(mount.iterdir()) == []


if __name__ == "__main__":
    run_checks(globals(), args.tests)
