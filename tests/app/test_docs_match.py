"""docs/output-format.md against a file the program writes: every dataset and attribute in the file
is named in the doc, every name the doc's tables give is in the file, and the quantiles in the file
are the ones the doc defines.

Run by CTest with Debian's /usr/bin/python3 -m pytest; ALIGNSIM, ALIGNSIM_DATA and ALIGNSIM_DOCS
(the docs folder) come from the environment.
"""
import os
import pathlib
import re
import subprocess

import h5py
import numpy as np
import pytest

ALIGNSIM = os.environ["ALIGNSIM"]
DATA = pathlib.Path(os.environ["ALIGNSIM_DATA"])
DOC = pathlib.Path(os.environ["ALIGNSIM_DOCS"]) / "output-format.md"
RUNS = 600


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """An ensemble of the small scenario (which has eras) with every run stored."""
    out = tmp_path_factory.mktemp("docs") / "small.h5"
    r = subprocess.run([ALIGNSIM, "ensemble", DATA / "small.toml", "--runs", str(RUNS), "--seed", "3",
                        "--store-runs", str(RUNS), "-q", "--out", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def file_names(path):
    """Datasets and groups, root attributes, and the attributes of datasets, by name."""
    objects, root, attributes = set(), set(), set()
    with h5py.File(path) as f:
        root.update(f.attrs)

        def visit(name, obj):
            objects.add(name)
            attributes.update(obj.attrs)

        f.visititems(visit)
    return objects, root, attributes


def doc_file_part():
    """The doc up to its section on posterior ensembles (then `alignsim export`'s CSV tables and the
    comparison file), without its code blocks."""
    return re.sub(r"```.*?```", "", DOC.read_text().split("\n## Posterior ensembles")[0], flags=re.S)


def doc_section(title):
    """One section of the doc, from its title to the next of its level."""
    text = DOC.read_text()
    start = text.index("\n## " + title)
    end = text.find("\n## ", start + 1)
    return re.sub(r"```.*?```", "", text[start:end if end >= 0 else len(text)], flags=re.S)


@pytest.fixture(scope="module")
def posterior_files(tmp_path_factory):
    """A posterior of the small scenario, two posterior ensembles (one with a forced option) and
    their comparison."""
    d = tmp_path_factory.mktemp("posterior")
    for name in ("small.toml", "small_events.toml", "small_targets.toml"):
        (d / name).write_bytes((DATA / name).read_bytes())
    (d / "forced.toml").write_text('extends = "small.toml"\n[scenario]\nname = "forced"\ntitle = "forced"\n'
                                   'question = "?"\nsource = [3]\n[[patch]]\nchoice = "cc_alignment"\n'
                                   'force = "cc_joins_bb_pact"\n')
    commands = [["calibrate", "small.toml", "--targets", "small_targets.toml", "--posterior", "p.csv", "--particles",
                 "20", "--generations", "2", "--runs", "16", "-q"],
                ["ensemble", "small.toml", "--posterior", "p.csv", "--runs", "300", "--seed", "2", "--out", "a.h5", "-q"],
                ["ensemble", "forced.toml", "--posterior", "p.csv", "--runs", "300", "--seed", "2", "--out", "b.h5", "-q"],
                ["compare", "a.h5", "b.h5", "--h5", "c.h5"]]
    for c in commands:
        r = subprocess.run([ALIGNSIM, *c], capture_output=True, text=True, cwd=d)
        assert r.returncode == 0, r.stderr
    return d


def test_a_posterior_ensemble_adds_what_its_section_names(ensemble, posterior_files):
    section = doc_section("Posterior ensembles")
    objects, root, attributes = file_names(posterior_files / "a.h5")
    base_objects, base_root, base_attributes = file_names(ensemble)
    added = (objects - base_objects) | (root - base_root) | (attributes - base_attributes)
    assert added, "a posterior ensemble adds nothing"
    assert sorted(added - quoted(section)) == []
    assert sorted(doc_table_names(section) - objects - root - attributes) == []


def test_every_name_of_a_comparison_file_is_in_its_section_and_back(posterior_files):
    section = doc_section("The comparison file")
    objects, root, attributes = file_names(posterior_files / "c.h5")
    with h5py.File(posterior_files / "c.h5") as f:
        group_attributes = set(f["comparison"].attrs)
    names = {o.split("/")[-1] for o in objects} | attributes | group_attributes
    assert sorted(names - quoted(section)) == []
    # path_event and its splits need a decision that responded: the small scenario has none.
    path = {"path_event", "path_flip_share", "era_alignment_through_flip", "era_alignment_through_same"}
    assert sorted(doc_table_names(section) - names - path) == []


def quoted(text):
    """Every name in backticks, line by line."""
    return {name for line in text.splitlines() for name in re.findall(r"`([^`]+)`", line)}


def doc_table_names(text):
    """Every name in backticks in the first column of the doc's tables."""
    names = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def test_every_name_in_the_file_is_in_the_doc(ensemble):
    documented = quoted(doc_file_part())
    objects, root, attributes = file_names(ensemble)
    assert sorted(objects - documented) == []
    assert sorted(root - documented) == []
    assert sorted(attributes - documented) == []


def test_every_name_the_docs_tables_give_is_in_the_file(ensemble):
    objects, root, attributes = file_names(ensemble)
    # The group /resume and its contents are in a partial file only; the doc says so.
    text = doc_file_part()
    missing = doc_table_names(text) - objects - root - attributes
    assert sorted(missing) == []


def engine_quantile(m, levels, bins):
    """The doc's definition, from the runs' values m of one month and dyad (float32)."""
    half = np.float32(0.5 * bins)
    b = np.clip(((m + np.float32(1)) * half).astype(np.int32), 0, bins - 1)
    h = np.bincount(b, minlength=bins)
    below = np.concatenate([[0], np.cumsum(h)[:-1]])
    out = []
    for q in levels:
        target = q * m.size
        k = np.flatnonzero((h > 0) & (below + h >= target))[0]
        out.append(-1.0 + (k + min(max((target - below[k]) / h[k], 0.0), 1.0)) * (2.0 / bins))
    return np.array(out, dtype=np.float32)


def test_the_quantiles_are_those_the_doc_defines(ensemble):
    with h5py.File(ensemble) as f:
        assert int(f.attrs["stored_runs"]) == int(f.attrs["runs"]) == RUNS
        W = f["alignment"][:]  # [run][time][agent][other]
        levels = f["quantile"][:]
        stored = f["alignment_quantile"][:]
        bins = int(f.attrs["histogram_bins"])
    n = W.shape[2]
    worst_default = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            M = np.float32(0.5) * (W[:, :, i, j] + W[:, :, j, i])  # float32, as the engine forms it
            for t in range(M.shape[1]):
                x = M[:, t]
                got = stored[:, t, i, j]
                # The same to the last bit or two of float32: the program computes Q in double precision
                # and its compiler may fuse the multiply and the add (-march=native): -1 + 500 * 0.002
                # may give 2e-17, not 0.
                want = engine_quantile(x, levels, bins)
                assert np.all(np.abs(got - want) <= 2 * np.spacing(np.abs(want)) + 1e-15), (i, j, t, got, want)
                # Within one bin of numpy's inverted_cdf (the smallest value whose share reaches q).
                inverse = np.quantile(x.astype(np.float64), levels, method="inverted_cdf")
                assert np.all(np.abs(got - inverse) <= 2.0 / bins + 1e-6), (i, j, t, got, inverse)
                worst_default = max(worst_default, float(np.max(np.abs(got - np.quantile(x, levels)))))
    print(f"largest difference from numpy.quantile's default (linear): {worst_default:.4f}")
