"""Identical inputs give identical bytes (docs/output-format.md, "Reproducible files").

Under SOURCE_DATE_EPOCH, the same command run twice, from different folders and clones, writes
files that `cmp` finds equal: HDF5 object times are left out, and the paths a file stores are
relative to the repository holding them, or the file name alone. The figures drawn from equal files
are equal too. Run by CTest with Debian's /usr/bin/python3 -m pytest (ALIGNSIM, ALIGNSIM_DATA,
ALIGNSIM_ANALYSIS from the environment).
"""
import filecmp
import os
import pathlib
import shutil
import subprocess
import sys

import h5py

ALIGNSIM = os.environ["ALIGNSIM"]
DATA = pathlib.Path(os.environ["ALIGNSIM_DATA"])
ANALYSIS = pathlib.Path(os.environ["ALIGNSIM_ANALYSIS"])
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")


def clone(root: pathlib.Path) -> pathlib.Path:
    """A repository (a folder with .git) holding the small scenarios under tests/data/."""
    (root / ".git").mkdir(parents=True)
    data = root / "tests" / "data"
    data.mkdir(parents=True)
    for name in ("small.toml", "small_events.toml"):
        shutil.copy(DATA / name, data / name)
    (data / "overlays").mkdir()
    shutil.copy(DATA / "overlays" / "every_change.toml", data / "overlays" / "every_change.toml")
    return root


def alignsim(*argv, cwd):
    r = subprocess.run([ALIGNSIM, *map(str, argv)], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=600)
    assert r.returncode == 0, r.stderr
    return r


def outputs(root: pathlib.Path, cwd: pathlib.Path, out: pathlib.Path):
    """The ensembles of the small scenario and its overlay, and their comparison, into `out`."""
    out.mkdir(parents=True)
    data = root / "tests" / "data"
    for name, scenario in (("base", data / "small.toml"), ("cf", data / "overlays" / "every_change.toml")):
        alignsim("ensemble", os.path.relpath(scenario, cwd), "--runs", 64, "--seed", 7, "--store-runs", 8,
                 "--out", out / f"{name}.h5", "-q", cwd=cwd)
    alignsim("compare", out / "base.h5", out / "cf.h5", "--csv", out / "compare.csv", "--h5", out / "compare.h5", cwd=cwd)
    return [out / n for n in ("base.h5", "cf.h5", "compare.csv", "compare.h5")]


def test_the_same_command_gives_the_same_bytes_in_another_clone_and_folder(tmp_path):
    first = clone(tmp_path / "one" / "clone")
    second = clone(tmp_path / "elsewhere" / "deeper" / "clone")
    a = outputs(first, first, tmp_path / "out_a")  # from the clone's root
    b = outputs(second, second / "tests", tmp_path / "out_b")  # from a folder inside it
    for x, y in zip(a, b):
        assert filecmp.cmp(x, y, shallow=False), f"{x.name} differs between the two runs"


def test_stored_paths_are_relative_to_the_repository_or_the_file_name(tmp_path):
    root = clone(tmp_path / "clone")
    out = tmp_path / "outside"  # in no repository: the file name alone
    base, cf, _, comparison = outputs(root, root / "tests" / "data", out)
    with h5py.File(base, "r") as f:
        history = f.attrs["history"]
        history = history.decode() if isinstance(history, bytes) else history
    assert "alignsim ensemble tests/data/small.toml " in history, history
    assert "--out base.h5" in history, history
    assert str(tmp_path) not in history
    with h5py.File(comparison, "r") as f:
        g = f["comparison"]
        stored = [g.attrs[k].decode() if isinstance(g.attrs[k], bytes) else g.attrs[k] for k in ("base", "counterfactual")]
    assert stored == ["base.h5", "cf.h5"]


def test_figures_drawn_from_equal_files_are_equal(tmp_path):
    root = clone(tmp_path / "clone")
    base, cf, _, _ = outputs(root, root, tmp_path / "out")
    drawn = []
    for k in (1, 2):
        folder = tmp_path / f"figures{k}"
        for script, args in (("plot_ensemble.py", [base]), ("plot_compare.py", [base, cf])):
            r = subprocess.run([sys.executable, str(ANALYSIS / script), *map(str, args), "--out", str(folder)],
                               capture_output=True, text=True, env=ENV, timeout=600)
            assert r.returncode == 0, r.stderr
        drawn.append(sorted(folder.glob("*.png")))
    assert drawn[0] and [p.name for p in drawn[0]] == [p.name for p in drawn[1]]
    for x, y in zip(*drawn):
        assert filecmp.cmp(x, y, shallow=False), f"{x.name} differs between two drawings"
