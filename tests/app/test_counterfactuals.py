#!/usr/bin/env python3
"""The counterfactual overlays of scenarios/counterfactuals/ against the baseline they extend, read
from each overlay's own file: every overlay validates; `alignsim diff` against its base names no
event or choice beyond those the overlay removes, replaces, patches or adds, and no parameter,
agent, interest or era; no overlay patches a decision's intercept or terms (a counterfactual changes
acts, and leaves the calibrated numbers to the calibration); and in an
ensemble every option an overlay forces happens in every run, in the month of its date, the other
options of its choice never, every act it replaces with probability 0 never, and every act it
replaces with a certain scheduled event (the premise of its question) in every run at its date.
Run by CTest with Debian's /usr/bin/python3."""
import argparse
import pathlib
import subprocess
import sys
import tempfile
import tomllib

import h5py
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "support"))
from checks import run_checks  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--alignsim", required=True)
parser.add_argument("--repo", required=True)
parser.add_argument("--runs", default="200")
args = parser.parse_args()
ALIGNSIM = args.alignsim
OVERLAYS = sorted((pathlib.Path(args.repo) / "scenarios" / "counterfactuals").glob("*.toml"))
TMP = pathlib.Path(tempfile.mkdtemp(prefix="alignsim_cf_"))
# Keys of the scenario section an overlay restates; any other line in that part of a diff is a change
# of parameters, agents, issues, interests or eras.
SCENARIO_KEYS = ("name", "title", "description", "question", "source", "base", "base_fnv1a")


def run(*argv):
    return subprocess.run([ALIGNSIM, *argv], capture_output=True, text=True, timeout=600)


def overlay(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def named(ov):
    """The events and choices an overlay names: what its diff against its base may show."""
    names = set(ov.get("remove", []))
    names |= {r["id"] for r in ov.get("replace", [])}
    names |= {p.get("event", p.get("choice")) for p in ov.get("patch", [])}
    names |= {e["id"] for e in ov.get("events", [])}
    return names


def diff_sections(text):
    """The names of the events and choices a diff lists, and the lines of its first section."""
    names, head, section = set(), [], None
    for line in text.splitlines():
        if not line.startswith(" "):
            section = line
            if line.startswith(("event ", "choice ")):
                names.add(line.split(" ", 1)[1].rstrip(":"))
        elif section.startswith("events only in"):
            names.add(line.strip())
        elif section.startswith("scenario, parameters"):
            head.append(line.strip())
    return names, head


def test_every_overlay_validates_and_changes_only_what_it_names():
    assert len(OVERLAYS) >= 8, OVERLAYS
    for path in OVERLAYS:
        r = run("validate", str(path))
        assert r.returncode == 0 and r.stdout.rstrip().endswith("valid"), (path, r.stderr)
        ov = overlay(path)
        base = (path.parent / ov["extends"]).resolve()
        d = run("diff", str(base), str(path))
        assert d.returncode == 1, (path, d.stderr)
        names, head = diff_sections(d.stdout)
        assert names == named(ov), (path.name, names ^ named(ov))
        stray = [h for h in head if h[2:].split(" = ")[0] not in SCENARIO_KEYS]
        assert not stray, (path.name, "changes parameters, agents, interests or eras", stray)
        tuned = [p["event"] for p in ov.get("patch", []) if "decision" in p]
        assert not tuned, (path.name, "patches the logit of", tuned)


def ensemble(path):
    out = TMP / f"{path.stem}.h5"
    r = run("ensemble", str(path), "--runs", args.runs, "--seed", "1947", "--out", str(out), "-q")
    assert r.returncode == 0, (path, r.stderr)
    with h5py.File(out) as f:
        events = [e.decode() if isinstance(e, bytes) else e for e in f["event"][:]]
        months = [m.decode() if isinstance(m, bytes) else m for m in f["month"][:]]
        fired = f["event_month"][:]
    return {e: fired[:, k] for k, e in enumerate(events)}, months


def test_forced_and_excluded_acts_behave_as_the_overlay_says():
    for path in OVERLAYS:
        checked = 0
        ov = overlay(path)
        r = run("resolve", str(path))
        assert r.returncode == 0, (path, r.stderr)
        resolved = tomllib.loads(r.stdout)
        date = {e["id"]: e["date"] for e in resolved["events"]}
        choices = {c["id"]: c for c in resolved.get("choices", [])}
        fired, months = ensemble(path)

        def always_at(event, why):
            col = fired[event]
            assert np.all(col >= 0), (path.name, why, event, float(np.mean(col >= 0)))
            assert {months[m] for m in col} == {date[event]}, (path.name, why, event, {months[m] for m in col})

        for p in ov.get("patch", []):
            if "force" in p:
                always_at(p["force"], "forced option")
                for other in choices[p["choice"]]["options"]:
                    if other != p["force"]:
                        assert np.all(fired[other] < 0), (path.name, "option beside the forced one", other)
                checked += 1
        for rep in ov.get("replace", []):
            if "decision" in rep:
                continue
            p = rep.get("probability", 1.0)
            if p == 0.0:
                assert np.all(fired[rep["id"]] < 0), (path.name, "replaced with probability 0", rep["id"])
                checked += 1
            elif p == 1.0 and not rep.get("jitter_months") and not rep.get("requires"):
                always_at(rep["id"], "made certain")
                checked += 1
        assert checked > 0, (path.name, "forces, excludes or makes certain nothing")


if __name__ == "__main__":
    run_checks(globals())
