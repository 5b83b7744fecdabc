"""The analysis scripts on files alignsim writes for the test: each figure command writes non-empty
images with the panels it promises, and a bad input ends in one line 'script: error: ...' and
status 2, never a traceback, leaving no image behind.

Run by CTest with Debian's /usr/bin/python3 -m pytest; ALIGNSIM, ALIGNSIM_DATA and ALIGNSIM_ANALYSIS
(the analysis folder) come from the environment.
"""
import importlib
import os
import pathlib
import shutil
import subprocess
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.patches  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ALIGNSIM = os.environ["ALIGNSIM"]
DATA = pathlib.Path(os.environ["ALIGNSIM_DATA"])
ANALYSIS = pathlib.Path(os.environ["ALIGNSIM_ANALYSIS"])
sys.path.insert(0, str(ANALYSIS))
PYTHON = "/usr/bin/python3"
DYADS = ["AA-BB", "AA-CC", "BB-CC"]


def alignsim(*argv):
    r = subprocess.run([ALIGNSIM, *map(str, argv)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def script(name, *argv):
    return subprocess.run([PYTHON, str(ANALYSIS / name), *map(str, argv)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A baseline and a counterfactual of the small scenario (same seed and runs), another seed, and
    their comparison as CSV."""
    d = tmp_path_factory.mktemp("analysis")
    common = ["--runs", 300, "--seed", 5, "--store-runs", 40, "-q"]
    alignsim("ensemble", DATA / "small.toml", *common, "--out", d / "baseline.h5")
    alignsim("ensemble", DATA / "overlays" / "every_change.toml", *common, "--out", d / "cf.h5")
    alignsim("ensemble", DATA / "small.toml", "--runs", 300, "--seed", 6, "-q", "--out", d / "seed6.h5")
    alignsim("compare", d / "baseline.h5", d / "cf.h5", "--csv", d / "cf.csv")
    return d


def image_ok(path):
    """A PNG that matplotlib reads back, with more than one colour in it."""
    assert path.stat().st_size > 1000, path
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(pixels[..., :3].std()) > 0.01, f"{path} is blank"


def captured_figures(monkeypatch, module_name, argv):
    """Runs a script's main() in this process and returns {file name: figure} of what it saved."""
    module = importlib.import_module(module_name)
    aio = importlib.import_module("alignsim_io")
    figures = {}
    save = aio.save_figure

    def keep(fig, path, **options):
        figures[pathlib.Path(path).name] = fig
        save(fig, path, **options)

    monkeypatch.setattr(aio, "save_figure", keep)
    monkeypatch.setattr(module.plt, "close", lambda fig=None: None)
    assert module.main([str(a) for a in argv]) == 0
    return figures


def drawn(fig, kind):
    """The visible panels of a figure that hold lines ('lines'), images ('images') or bars ('patches')."""
    return [ax for ax in fig.axes if ax.get_visible() and getattr(ax, kind)]


def test_plot_ensemble_writes_three_images(files, tmp_path):
    r = script("plot_ensemble.py", files / "baseline.h5", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    names = ["baseline_dyads.png", "baseline_events.png", "baseline_heatmaps.png"]
    assert r.stdout.split() == [str(tmp_path / n) for n in names]
    for n in names:
        image_ok(tmp_path / n)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no temporary file left


def test_plot_ensemble_draws_the_panels_it_promises(files, tmp_path, monkeypatch):
    figs = captured_figures(monkeypatch, "plot_ensemble", [files / "baseline.h5", "--out", tmp_path])
    dyads = drawn(figs["baseline_dyads.png"], "lines")
    assert len(dyads) == len(DYADS)
    titles = " ".join(ax.get_title(loc="left") for ax in dyads)
    for d in DYADS:
        a, b = d.split("-")
        assert a in titles and b in titles
    for ax in dyads:  # the mean, the quantile bands and the stored runs
        assert len(ax.lines) >= 1 + 5 and ax.collections
    heatmaps = drawn(figs["baseline_heatmaps.png"], "images")
    assert len(heatmaps) == 6 and all("frustration" in ax.get_title() for ax in heatmaps)
    assert drawn(figs["baseline_events.png"], "patches") or drawn(figs["baseline_events.png"], "lines")
    figs = captured_figures(monkeypatch, "plot_ensemble", [files / "baseline.h5", "--out", tmp_path, "--dyads",
                                                           "CC-AA", "--dates", "1950,1951-06", "--prefix", "x"])
    assert len(drawn(figs["x_dyads.png"], "lines")) == 1
    assert len(drawn(figs["x_heatmaps.png"], "images")) == 2


def test_plot_compare_writes_two_images_with_a_panel_per_dyad(files, tmp_path, monkeypatch):
    r = script("plot_compare.py", files / "baseline.h5", files / "cf.h5", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    names = ["cf_vs_baseline_dyads.png", "cf_vs_baseline_events.png"]
    assert r.stdout.split() == [str(tmp_path / n) for n in names]
    for n in names:
        image_ok(tmp_path / n)
    figs = captured_figures(monkeypatch, "plot_compare", [files / "baseline.h5", files / "cf.h5", "--out",
                                                          tmp_path / "again"])
    assert len(drawn(figs["cf_vs_baseline_dyads.png"], "lines")) == len(DYADS)
    assert drawn(figs["cf_vs_baseline_events.png"], "lines") or drawn(figs["cf_vs_baseline_events.png"], "patches")


def test_counterfactual_report_fills_its_tables(files, tmp_path):
    shutil.copy(files / "cf.csv", tmp_path / "cf.csv")
    doc = tmp_path / "doc.md"
    doc.write_text("# Report\n\n<!-- cf:dyads cf AA-CC,BB-CC -->\n<!-- cf:end -->\n\n<!-- cf:events cf -->\n"
                   "<!-- cf:end -->\n")
    r = script("counterfactual_report.py", "--doc", doc, "--results", tmp_path, "--stdout")
    assert r.returncode == 0, r.stderr
    assert "| era | AA-CC | BB-CC |" in r.stdout and "`first_year`" in r.stdout
    assert "`bb_aid_cc`" in r.stdout  # an event only the counterfactual has
    r = script("counterfactual_report.py", "--doc", doc, "--results", tmp_path)
    assert r.returncode == 0 and "| era | AA-CC | BB-CC |" in doc.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cf.csv", "doc.md"]


def one_line_error(r, name):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if "warning:" not in line]
    assert len(lines) == 1 and lines[0].startswith(f"{name}: error: "), r.stderr
    return lines[0]


@pytest.mark.parametrize("cut", ["mid_line", "header_only", "missing_column", "not_a_number", "extra_field"])
def test_counterfactual_report_refuses_a_damaged_csv_in_one_line(files, tmp_path, cut):
    text = (files / "cf.csv").read_text()
    lines = text.splitlines(keepends=True)
    damaged = {"mid_line": text[: len(text) // 2 + 7],
               "header_only": lines[0],
               "missing_column": "".join(line.replace(",ci_high", "", 1) for line in lines[:1]) + "".join(lines[1:]),
               "not_a_number": lines[0] + lines[1].replace(",", ",x", 6).replace(",x", ",", 5) + "".join(lines[2:]),
               "extra_field": lines[0] + lines[1].rstrip("\n") + ",7\n" + "".join(lines[2:])}[cut]
    (tmp_path / "cf.csv").write_text(damaged)
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- cf:dyads cf AA-CC -->\n<!-- cf:end -->\n")
    r = script("counterfactual_report.py", "--doc", doc, "--results", tmp_path)
    assert "cf.csv" in one_line_error(r, "counterfactual_report")
    assert doc.read_text() == "<!-- cf:dyads cf AA-CC -->\n<!-- cf:end -->\n"


def bad_file(kind, files, folder):
    """A file each figure script must refuse: it does not exist, is text, is truncated, is HDF5 but
    not alignsim's, or holds no runs."""
    path = folder / f"{kind}.h5"
    if kind == "text":
        path.write_text("not numbers\n")
    elif kind == "truncated":
        data = (files / "baseline.h5").read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif kind == "foreign":
        with h5py.File(path, "w") as f:
            f["x"] = np.arange(3)
    elif kind == "no_runs":
        shutil.copy(files / "baseline.h5", path)
        with h5py.File(path, "r+") as f:
            f.attrs["runs"] = np.uint64(0)
            f.attrs["status"] = "partial"
    elif kind == "no_mean":
        shutil.copy(files / "baseline.h5", path)
        with h5py.File(path, "r+") as f:
            del f["alignment_mean"]
    return path


KINDS = ["missing", "text", "truncated", "foreign", "no_runs", "no_mean"]


@pytest.mark.parametrize("kind", KINDS)
def test_plot_ensemble_refuses_a_bad_file_in_one_line(files, tmp_path, kind):
    path = bad_file(kind, files, tmp_path)
    out = tmp_path / "figures"
    r = script("plot_ensemble.py", path, "--out", out)
    assert str(path) in one_line_error(r, "plot_ensemble.py")
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("kind", KINDS)
def test_plot_compare_refuses_a_bad_file_in_one_line(files, tmp_path, kind):
    path = bad_file(kind, files, tmp_path)
    out = tmp_path / "figures"
    r = script("plot_compare.py", files / "baseline.h5", path, "--out", out)
    assert str(path) in one_line_error(r, "plot_compare.py")
    assert not out.exists() or list(out.iterdir()) == []


def test_the_figure_scripts_refuse_bad_arguments_in_one_line(files, tmp_path):
    (tmp_path / "file").write_text("")
    r = script("plot_ensemble.py", files / "baseline.h5", "--out", tmp_path / "file")
    assert "it is a file, not a folder" in one_line_error(r, "plot_ensemble.py")
    r = script("plot_ensemble.py", files / "baseline.h5", "--out", tmp_path / "f", "--dyads", "AA-ZZ")
    assert "'ZZ' is not in the file" in one_line_error(r, "plot_ensemble.py")
    r = script("plot_ensemble.py", files / "baseline.h5", "--out", tmp_path / "f", "--dates", "1999")
    assert "not in the horizon" in one_line_error(r, "plot_ensemble.py")
    r = script("plot_compare.py", files / "baseline.h5", files / "seed6.h5", "--out", tmp_path / "f")
    assert "paired comparison needs" in one_line_error(r, "plot_compare.py")
    assert not (tmp_path / "f").exists() or list((tmp_path / "f").iterdir()) == []


def test_plot_compare_warns_when_the_counterfactual_extends_another_scenario(tmp_path):
    common = ["--runs", 60, "--seed", 5, "--store-runs", 10, "-q"]
    for name, path in (("small", DATA / "small.toml"), ("refit", DATA / "overlays" / "small_refit.toml"),
                       ("cf", DATA / "overlays" / "on_refit.toml")):
        alignsim("ensemble", path, *common, "--out", tmp_path / f"{name}.h5")
    r = script("plot_compare.py", tmp_path / "small.h5", tmp_path / "cf.h5", "--out", tmp_path / "mixed")
    assert r.returncode == 0, r.stderr
    assert ("warning: the counterfactual 'small_refit_no_pact' extends the scenario 'small_refit', but the "
            "baseline file holds the scenario 'small'") in r.stderr, r.stderr
    r = script("plot_compare.py", tmp_path / "refit.h5", tmp_path / "cf.h5", "--out", tmp_path / "matched")
    assert r.returncode == 0 and "extends" not in r.stderr, r.stderr


def white_frame(path, width=3):
    """Whether the outer `width` pixels of a PNG are all background: nothing drawn runs off the edge."""
    pixels = matplotlib.image.imread(path)[..., :3]
    frame = np.concatenate([pixels[:width].reshape(-1, 3), pixels[-width:].reshape(-1, 3),
                            pixels[:, :width].reshape(-1, 3), pixels[:, -width:].reshape(-1, 3)])
    return bool(np.all(frame > 0.99))


def test_titles_and_footnotes_are_not_cut_off_with_one_dyad(tmp_path):
    long = tmp_path / "long.toml"
    long.write_text(f'extends = "{(DATA / "small.toml").resolve()}"\n[scenario]\nname = "small_long_title"\n'
                    f'title = "{"A title far longer than a panel of one dyad is wide, " * 3}and its end"\n')
    common = ["--runs", 60, "--seed", 5, "--store-runs", 10, "-q"]
    alignsim("ensemble", DATA / "small.toml", *common, "--out", tmp_path / "small.h5")
    alignsim("ensemble", long, *common, "--out", tmp_path / "long.h5")
    r = script("plot_ensemble.py", tmp_path / "long.h5", "--out", tmp_path / "e", "--dyads", "AA-BB")
    assert r.returncode == 0, r.stderr
    r2 = script("plot_compare.py", tmp_path / "small.h5", tmp_path / "long.h5", "--out", tmp_path / "c",
                "--dyads", "AA-BB")
    assert r2.returncode == 0, r2.stderr
    for path in r.stdout.split() + r2.stdout.split():
        image_ok(pathlib.Path(path))
        assert white_frame(path), f"{path}: something is cut off at the edge"


def test_the_events_comparison_spans_at_most_minus_one_to_one(files, tmp_path, monkeypatch):
    figs = captured_figures(monkeypatch, "plot_compare", [files / "baseline.h5", files / "cf.h5", "--out", tmp_path])
    (ax,) = drawn(figs["cf_vs_baseline_events.png"], "patches")
    lo, hi = ax.get_xlim()
    assert -1.0 <= lo < 0 < hi <= 1.0, (lo, hi)
    bars = [p.get_width() for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    assert max(map(abs, bars)) > 0.45  # a difference large enough to test it


def test_dotted_lines_mark_only_months_in_the_counterfactual(files, tmp_path, monkeypatch):
    aio = importlib.import_module("alignsim_io")
    cf = aio.open_ensemble(files / "cf.h5")
    em = np.asarray(cf["event_month"].values)
    years = aio.years(cf)
    in_cf = {float(years[int(np.median(em[:, k][em[:, k] >= 0]))]) for k in range(em.shape[1]) if np.any(em[:, k] >= 0)}
    base = aio.open_ensemble(files / "baseline.h5")
    removed = [str(e) for e in base["event"].values if str(e) not in set(map(str, cf["event"].values))]
    assert removed  # the counterfactual removes an event: the baseline has a month for it, the CF none
    figs = captured_figures(monkeypatch, "plot_compare", [files / "baseline.h5", files / "cf.h5", "--out", tmp_path])
    marks = set()
    for ax in drawn(figs["cf_vs_baseline_dyads.png"], "lines"):
        for line in ax.lines:
            x = np.asarray(line.get_xdata(), dtype=float)
            if line.get_linestyle() == ":" and x.size == 2 and x[0] == x[1]:
                marks.add(float(x[0]))
    assert marks and marks <= in_cf, sorted(marks - in_cf)
