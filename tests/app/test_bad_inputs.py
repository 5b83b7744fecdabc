"""The bad-input corpus (tests/data/bad/cases.toml): every case exits with status 2, names the file
and line (or the option) and what is wrong, writes or changes no file, and does not crash.

Run by CTest with Debian's /usr/bin/python3 -m pytest; ALIGNSIM and ALIGNSIM_DATA come from the
environment. Every case runs in one copy of tests/data, so a failure cannot touch the sources.
"""
import os
import pathlib
import shutil
import subprocess
import tomllib

import pytest

ALIGNSIM = os.environ["ALIGNSIM"]
DATA = pathlib.Path(os.environ["ALIGNSIM_DATA"])
CASES = tomllib.loads((DATA / "bad" / "cases.toml").read_text())
CRASHES = ("terminate called", "Aborted", "Segmentation fault", "core dumped", "Sanitizer", "runtime error:")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    copy = tmp_path_factory.mktemp("bad_inputs") / "data"
    shutil.copytree(DATA, copy, symlinks=True)
    return copy


def snapshot(folder):
    """Every file under the folder with its size and modification time: nothing may change."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if not p.is_dir()}


def refuse(data, args, error, place=None):
    """Runs alignsim in data/bad and checks the refusal; `place` is what the message must begin a line with."""
    bad = data / "bad"
    out = "out_never_written.h5"
    argv = [a.replace("{out}", out) for a in args]
    before = snapshot(data)
    r = subprocess.run([ALIGNSIM, *argv], cwd=bad, capture_output=True, text=True, timeout=120)
    message = r.stdout + r.stderr
    assert r.returncode == 2, (argv, r.returncode, message[-2000:])
    assert not any(c in message for c in CRASHES), message[-2000:]
    assert error in message, (argv, error, message[-2000:])
    if place:
        assert any(line.startswith(place) for line in r.stderr.splitlines()), (place, r.stderr[-2000:])
    assert snapshot(data) == before, "a file was written or changed"
    assert not (bad / out).exists()


def place_of(case):
    where = case.get("place", case["file"])
    return f"{where}:{case['line']}:" if case["line"] else f"{where}: error:"


def ids(cases, key):
    return [c[key] if isinstance(c[key], str) else " ".join(c[key][:3]) for c in cases]


def test_the_corpus_has_at_least_40_inputs():
    assert len(CASES["scenario"]) + len(CASES["targets"]) + len(CASES["command"]) >= 40


@pytest.mark.parametrize("case", CASES["scenario"], ids=ids(CASES["scenario"], "file"))
def test_a_bad_scenario_or_overlay(data, case):
    refuse(data, ["validate", case["file"]], case["error"], place_of(case))
    refuse(data, ["ensemble", case["file"], "--runs", "4", "--seed", "1", "--out", "{out}"], case["error"], place_of(case))


@pytest.mark.parametrize("case", CASES["targets"], ids=ids(CASES["targets"], "file"))
def test_a_bad_targets_file(data, case):
    refuse(data, ["calibrate", "../small.toml", "--targets", case["file"], "--runs", "16", "--max-evals", "0", "--out",
                  "{out}", "--report", "{out}.report"], case["error"], place_of(case))


@pytest.mark.parametrize("case", CASES["command"], ids=[" ".join(c["args"])[:60] for c in CASES["command"]])
def test_a_bad_command_line(data, case):
    refuse(data, case["args"], case["error"])
