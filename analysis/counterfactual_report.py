#!/usr/bin/env python3
"""Fill the measured tables of docs/counterfactuals.md from `alignsim compare` CSV files.

Runs no simulation. It reads, from a results folder (default results/runs/counterfactuals):

  NAME.csv   the table of `alignsim compare BASE.h5 NAME.h5 --csv NAME.csv` (required)
  NAME.h5    the counterfactual's ensemble file, and baseline.h5 (optional: needed only for the
             `timing` and `split` tables and for the run count and seed in `runs`)

and rewrites every block of the document delimited by a marker line and `<!-- cf:end -->`:

  <!-- cf:baseline NAME DYADS -->          the base column of NAME.csv: baseline era means of M
  <!-- cf:dyads NAME DYADS -->             per era, CF - BASE of the era mean of M, paired 95% CI
  <!-- cf:events NAME -->                  events whose probability changed: base, cf, CF - BASE,
                                           paired and unpaired 95% CI
  <!-- cf:timing NAME -->                  (h5) decisions of the counterfactual, over the pairs in which
                                           they happened in both runs: the share of pairs where the
                                           month moved, the mean shift (listed if the share >= 0.1%)
  <!-- cf:peak NAME DYADS -->              (h5) the month in which the mean of M differs most, CF - BASE
                                           (the mean of the paired differences), and the difference at
                                           the end of the horizon
  <!-- cf:split NAME EVENT ERA DYADS -->   (h5) CF - BASE for ERA, in the runs where the
                                           counterfactual's EVENT happened and in those where not
  <!-- cf:path NAME -->                    the path of the effect: decisions the counterfactual did not
                                           change whose probability moved by at least PATH_MIN (0.01)
                                           with a paired 95% CI that excludes 0, by date
  <!-- cf:lasting NAME DYADS -->           (h5) how many years the effect lasts: per dyad, the years
                                           whose yearly mean of M differs by at least 0.01 with a paired
                                           95% interval that excludes 0, the first and last such year
  <!-- cf:pairing NAMES -->                how much pairing narrows the intervals, per counterfactual
  <!-- cf:runs -->                         runs and seed of the files (from baseline.h5)

NAME is the stem of a compare CSV (usually a counterfactual compared with baseline.h5; any compare
of two ensembles of the same seed and runs works for `dyads` and `events`); DYADS is a
comma-separated list such as RU-PK,PK-US; NAMES a comma-separated list of such stems. Everything outside the blocks is left as it is.

    counterfactual_report.py            rewrite the blocks of docs/counterfactuals.md
    counterfactual_report.py --stdout   print the document that would be written
    counterfactual_report.py --check    exit 1 if the document is not what would be written

Intervals are those of `alignsim compare` (normal, 95%): paired, mean(d) +- 1.96 sd(d) / sqrt(R)
with d the per-run difference; unpaired, +- 1.96 sqrt((var_base + var_cf) / R), as if the two
ensembles had independent random numbers. A cell is written `diff ± h`, h the half-width of the
paired interval (the intervals are symmetric). The h5-based tables use the same normal intervals.

Run with Debian's /usr/bin/python3 (NumPy and h5py are needed only for the h5-based tables).
"""
from __future__ import annotations

import argparse
import csv
import difflib
import math
import os
import pathlib
import re
import statistics
import sys
import tomllib

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DOC = REPO / "docs" / "counterfactuals.md"
DEFAULT_DIR = REPO / "results" / "runs" / "counterfactuals"
BEGIN = re.compile(r"^<!-- cf:(\w+)((?: [^ ]+)*) -->$")
END = "<!-- cf:end -->"
Z = 1.959963984540054
MOVED = 0.001  # the timing table lists decisions whose month moved in at least this share of pairs
PATH_MIN = 0.01  # the path lists decisions whose probability moved by at least this (and significantly)
MATERIAL = 0.005  # era-mean differences at least this large count as effects in the pairing table


class ReportError(Exception):
    """A marker or an input file is wrong."""


COLUMNS = ("quantity", "era", "a", "b", "event", "base", "cf", "difference", "ci_low", "ci_high", "unpaired_ci_low",
           "unpaired_ci_high")


# ------------------------------------------------------------------------------------------------
# Inputs


class Compare:
    """One compare CSV: era rows per dyad and event rows, in file order."""

    def __init__(self, path: pathlib.Path):
        if not path.is_file():
            raise ReportError(f"missing {path} (run `alignsim compare BASE.h5 CF.h5 --csv {path.name}`)")
        self.path = path
        self.alignment: dict[tuple[str, str, str], dict] = {}
        self.eras: list[str] = []
        self.events: list[dict] = []
        text = path.read_text()
        if not text.endswith("\n"):
            raise ReportError(f"{path}: does not end with a line break: a truncated file? (run the compare again)")
        reader = csv.DictReader(text.splitlines())
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ReportError(f"{path}: not an `alignsim compare` CSV: no column {', '.join(missing)}")
        for row in reader:
            if None in row or None in row.values():
                raise ReportError(f"{path}:{reader.line_num}: {len([v for v in row.values() if v is not None])} "
                                  f"fields, expected {len(reader.fieldnames)}: a damaged or truncated file?")
            for k in COLUMNS[5:]:
                try:
                    row[k] = float(row[k])
                except ValueError:
                    raise ReportError(f"{path}:{reader.line_num}: {k} is {row[k]!r}, not a number") from None
            row.setdefault("event_role", "")
            if row["quantity"] == "alignment":
                if row["era"] not in self.eras:
                    self.eras.append(row["era"])
                self.alignment[(row["era"], row["a"], row["b"])] = row
            elif row["quantity"] == "event_probability":
                self.events.append(row)
            else:
                raise ReportError(f"{path}:{reader.line_num}: unknown quantity '{row['quantity']}'")
        if not self.alignment and not self.events:
            raise ReportError(f"{path}: holds no rows: a truncated file? (run the compare again)")

    def cell(self, era: str, dyad: tuple[str, str]) -> dict:
        a, b = dyad
        row = self.alignment.get((era, a, b)) or self.alignment.get((era, b, a))
        if row is None:
            raise ReportError(f"{self.path}: no row for era {era}, dyad {a}-{b}")
        return row


def half(row: dict) -> float:
    return (row["ci_high"] - row["ci_low"]) / 2


def half_unpaired(row: dict) -> float:
    return (row["unpaired_ci_high"] - row["unpaired_ci_low"]) / 2


def dyads_arg(text: str) -> list[tuple[str, str]]:
    out = []
    for d in text.split(","):
        parts = d.split("-")
        if len(parts) != 2 or not all(parts):
            raise ReportError(f"dyad '{d}' is not of the form A-B")
        out.append((parts[0], parts[1]))
    return out


def open_h5(path: pathlib.Path):
    try:
        import h5py  # noqa: PLC0415
    except ImportError as e:  # pragma: no cover
        raise ReportError("h5py is needed for this table: run with /usr/bin/python3") from e
    if not path.is_file():
        raise ReportError(f"missing {path}: this table needs the ensemble files")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise ReportError(f"{path}: cannot be read as HDF5 ({e})") from None


def strings(ds) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in ds[:]]


def attr_text(f, name: str) -> str:
    v = f.attrs[name]
    return v.decode() if isinstance(v, bytes) else str(v)


# ------------------------------------------------------------------------------------------------
# Formatting


def signed(x: float, digits: int = 4) -> str:
    s = f"{x:+.{digits}f}"
    return s.replace("-", "−")


def plain(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}f}".replace("-", "−")


def pm(h: float, digits: int = 4) -> str:
    """The half-width of an interval, '< 0.0001' when it rounds to zero."""
    return f"{h:.{digits}f}" if round(h, digits) > 0 or h == 0 else f"< {10 ** -digits:.{digits}f}"


def diff_cell(row: dict) -> str:
    h = half(row)
    if row["difference"] == 0 and h == 0:
        return "0"
    return f"{signed(row['difference'])} ± {pm(h)}"


def table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["l"] + ["r"] * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


# ------------------------------------------------------------------------------------------------
# Tables


class Report:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self._compare: dict[str, Compare] = {}

    def compare(self, name: str) -> Compare:
        if name not in self._compare:
            self._compare[name] = Compare(self.folder / f"{name}.csv")
        return self._compare[name]

    # -- baseline levels
    def baseline(self, args: list[str]) -> list[str]:
        if len(args) != 2:
            raise ReportError("cf:baseline takes NAME DYADS")
        dyads = dyads_arg(args[1])
        c = self.compare(args[0])
        rows = [[f"`{era}`"] + [plain(c.cell(era, d)["base"], 3) for d in dyads] for era in c.eras]
        return table(["era"] + [f"{a}-{b}" for a, b in dyads], rows)

    # -- era differences
    def dyads(self, args: list[str]) -> list[str]:
        if len(args) != 2:
            raise ReportError("cf:dyads takes NAME DYADS")
        c = self.compare(args[0])
        dyads = dyads_arg(args[1])
        rows = [[f"`{era}`"] + [diff_cell(c.cell(era, d)) for d in dyads] for era in c.eras]
        return table(["era"] + [f"{a}-{b}" for a, b in dyads], rows)

    # -- event probabilities
    def events(self, args: list[str]) -> list[str]:
        if len(args) != 1:
            raise ReportError("cf:events takes NAME")
        c = self.compare(args[0])
        rows = []
        for e in c.events:
            if e["difference"] == 0 and half(e) == 0:
                continue
            rows.append([
                f"`{e['event']}`",
                plain(e["base"]),
                plain(e["cf"]),
                f"{signed(e['difference'])} ± {pm(half(e))}",
                f"± {pm(half_unpaired(e))}",
            ])
        if not rows:
            return ["No event's probability changed."]
        return table(["event", "base", "cf", "cf − base, paired 95% CI", "unpaired 95% CI"], rows)

    # -- decision timing
    def timing(self, args: list[str]) -> list[str]:
        import numpy as np  # noqa: PLC0415

        if len(args) != 1:
            raise ReportError("cf:timing takes NAME")
        name = args[0]
        with open_h5(self.folder / "baseline.h5") as b, open_h5(self.folder / f"{name}.h5") as c:
            self._same_runs(b, c, name)
            scen = tomllib.loads(attr_text(c, "scenario"))
            decisions = [e["id"] for e in scen.get("events", []) if "decision" in e]
            bev, cev = strings(b["event"]), strings(c["event"])
            bm, cm = b["event_month"][:], c["event_month"][:]
            rows = []
            for ev in decisions:
                if ev not in bev:
                    continue
                i, j = bev.index(ev), cev.index(ev)
                both = (bm[:, i] >= 0) & (cm[:, j] >= 0)
                d = (cm[both, j].astype(np.int64) - bm[both, i].astype(np.int64)).astype(float)
                if d.size == 0 or np.mean(d != 0) < MOVED:
                    continue
                h = Z * d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else float("nan")
                rows.append([f"`{ev}`", f"{d.size}", f"{np.mean(d != 0):.3f}", f"{signed(d.mean(), 2)} ± {h:.2f}"])
        if not rows:
            return [f"No decision changed its month in {MOVED:.1%} or more of the pairs where it happened in both."]
        return table(["decision", "pairs where it happened in both", "share that moved",
                      "mean shift, months (cf − base), 95% CI"], rows)

    # -- peak of the difference of the mean trajectories
    def peak(self, args: list[str]) -> list[str]:
        import numpy as np  # noqa: PLC0415

        if len(args) != 2:
            raise ReportError("cf:peak takes NAME DYADS")
        name, dyads = args[0], dyads_arg(args[1])
        with open_h5(self.folder / "baseline.h5") as b, open_h5(self.folder / f"{name}.h5") as c:
            self._same_runs(b, c, name)
            months = strings(c["month"])
            agents = strings(c["agent"])
            mb, mc = b["alignment_mean"][:].astype(float), c["alignment_mean"][:].astype(float)
            rows = []
            for a, bb in dyads:
                ia, ib = agents.index(a), agents.index(bb)
                d = mc[:, ia, ib] - mb[:, ia, ib]
                k = int(np.argmax(np.abs(d)))
                rows.append([f"{a}-{bb}", months[k], signed(d[k]), signed(d[-1])])
        return table(["dyad", "month of the largest difference", "difference then", f"difference in {months[-1]}"],
                     rows)

    # -- split by an event of the counterfactual
    def split(self, args: list[str]) -> list[str]:
        import numpy as np  # noqa: PLC0415

        if len(args) != 4:
            raise ReportError("cf:split takes NAME EVENT ERA DYADS")
        name, event, era, dyads = args[0], args[1], args[2], dyads_arg(args[3])
        with open_h5(self.folder / "baseline.h5") as b, open_h5(self.folder / f"{name}.h5") as c:
            self._same_runs(b, c, name)
            cev = strings(c["event"])
            if event not in cev:
                raise ReportError(f"{name}.h5 has no event '{event}'")
            eras = strings(c["era"])
            if era not in eras or era not in strings(b["era"]):
                raise ReportError(f"no era '{era}' in both files")
            agents = strings(c["agent"])
            k, kb = eras.index(era), strings(b["era"]).index(era)
            happened = c["event_month"][:, cev.index(event)] >= 0
            eb = b["era_alignment"][:, kb, :, :]
            ec = c["era_alignment"][:, k, :, :]
            rows = []
            for label, mask in ((f"`{event}` happened", happened), (f"`{event}` did not", ~happened),
                                ("all runs", np.ones_like(happened))):
                cells = [label, f"{int(mask.sum())}"]
                for a, bb in dyads:
                    ia, ib = agents.index(a), agents.index(bb)
                    mb = (eb[mask, ia, ib].astype(float) + eb[mask, ib, ia]) / 2
                    mc = (ec[mask, ia, ib].astype(float) + ec[mask, ib, ia]) / 2
                    d = mc - mb
                    h = Z * d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else float("nan")
                    cells.append(f"{signed(d.mean())} ± {pm(h)}")
                rows.append(cells)
        return table(["runs", "n"] + [f"{a}-{b}, `{era}`" for a, b in dyads], rows)

    # -- the path of the effect
    def path(self, args: list[str]) -> list[str]:
        if len(args) != 1:
            raise ReportError("cf:path takes NAME")
        name = args[0]
        c = self.compare(name)
        dates = {}
        with open_h5(self.folder / f"{name}.h5") as f:
            for e in tomllib.loads(attr_text(f, "scenario")).get("events", []):
                dates[e["id"]] = e.get("date", "")
        rows = []
        for e in c.events:
            if e["event_role"] != "responded" or not (e["ci_low"] > 0 or e["ci_high"] < 0) or abs(e["difference"]) < PATH_MIN:
                continue
            rows.append((dates.get(e["event"], ""), [
                dates.get(e["event"], ""), f"`{e['event']}`", plain(e["base"], 3), plain(e["cf"], 3),
                f"{signed(e['difference'], 3)} ± {pm(half(e), 3)}"]))
        if not rows:
            return [f"No decision that the counterfactual left unchanged moved by {PATH_MIN:.0%} or more."]
        rows.sort(key=lambda r: r[0])
        return table(["date", "decision (unchanged by the counterfactual)", "base", "cf", "cf − base, paired 95% CI"],
                     [r[1] for r in rows])

    # -- how long the effect lasts
    def lasting(self, args: list[str]) -> list[str]:
        import numpy as np  # noqa: PLC0415

        if len(args) != 2:
            raise ReportError("cf:lasting takes NAME DYADS")
        name, dyads = args[0], dyads_arg(args[1])
        with open_h5(self.folder / "baseline.h5") as b, open_h5(self.folder / f"{name}.h5") as c:
            self._same_runs(b, c, name)
            months = strings(c["month"])
            agents = strings(c["agent"])
            runs = int(c.attrs["runs"])
            years = sorted({m[:4] for m in months})
            idx = {y: [k for k, m in enumerate(months) if m.startswith(y)] for y in years}
            mb, mc = b["alignment_mean"][:].astype(float), c["alignment_mean"][:].astype(float)
            stored = min(int(b.attrs["stored_runs"]), int(c.attrs["stored_runs"]))
            if stored < 2:
                raise ReportError("cf:lasting needs stored runs in both files (--store-runs)")
            wb, wc = b["alignment"][:stored].astype(float), c["alignment"][:stored].astype(float)
            rows = []
            for a, bb in dyads:
                ia, ib = agents.index(a), agents.index(bb)
                # the mean difference over all runs; its spread from the stored runs' paired differences
                d_all = mc[:, ia, ib] - mb[:, ia, ib]
                pair = (wc[:, :, ia, ib] + wc[:, :, ib, ia]) / 2 - (wb[:, :, ia, ib] + wb[:, :, ib, ia]) / 2
                lasting = []
                for y in years:
                    d = d_all[idx[y]].mean()
                    per_run = pair[:, idx[y]].mean(axis=1)
                    h = Z * per_run.std(ddof=1) / math.sqrt(runs)
                    if abs(d) >= 0.01 and abs(d) > h:
                        lasting.append(y)
                if lasting:
                    last = lasting[-1]
                    rows.append([f"{a}-{bb}", lasting[0], last, f"{len(lasting)}",
                                 signed(d_all[idx[last]].mean(), 3)])
                else:
                    rows.append([f"{a}-{bb}", "–", "–", "0", "–"])
        return table(["dyad", "first year with an effect", "last year with an effect", "years with an effect",
                      "effect in the last year"], rows)

    # -- how much pairing narrows the intervals
    def pairing(self, args: list[str]) -> list[str]:
        if len(args) != 1:
            raise ReportError("cf:pairing takes NAMES")
        runs = self._runs()
        rows = []
        for name in args[0].split(","):
            c = self.compare(name)
            # Cells whose effect is worth reporting (|difference| >= MATERIAL); the ratio over every
            # cell that differs at all is dominated by effects that have decayed to ~1e-5, where the
            # paired interval is tiny and the ratio huge.
            material = [half_unpaired(r) / half(r) for r in c.alignment.values()
                        if half(r) > 0 and abs(r["difference"]) >= MATERIAL]
            every = [half_unpaired(r) / half(r) for r in c.alignment.values() if half(r) > 0]
            ev = [half_unpaired(e) / half(e) for e in c.events
                  if half(e) > 0 and 0 < e["base"] < 1 and 0 < e["cf"] < 1]
            if not material:
                continue
            q = statistics.quantiles(material, n=4) if len(material) > 1 else [material[0]] * 3
            med = statistics.median(material)
            need = f"{runs * med * med:,.0f}" if runs else "?"
            evcell = f"{statistics.median(ev):.1f} ({len(ev)})" if ev else "–"
            rows.append([f"`{name}`", f"{len(material)}", f"{med:.1f}", f"{q[0]:.1f} – {q[2]:.1f}",
                         f"{min(material):.1f} – {max(material):.1f}", need,
                         f"{statistics.median(every):.0f} ({len(every)})", evcell])
        return table(["counterfactual", f"cells with abs(Δ) ≥ {MATERIAL}", "median ratio, unpaired / paired width",
                      "interquartile range", "range", "runs an unpaired comparison needs (median cell)",
                      "every cell that differs: median ratio (cells)", "events with 0 < p < 1: median ratio (events)"],
                     rows)

    def runs(self, args: list[str]) -> list[str]:
        if args:
            raise ReportError("cf:runs takes no argument")
        with open_h5(self.folder / "baseline.h5") as b:
            return [f"Runs per ensemble: {int(b.attrs['runs']):,}; seed: {int(b.attrs['seed'])}; "
                    f"baseline scenario: `{attr_text(b, 'title')}`; alignsim {attr_text(b, 'software_version')}."]

    # -- helpers
    def _runs(self) -> int | None:
        try:
            with open_h5(self.folder / "baseline.h5") as b:
                return int(b.attrs["runs"])
        except ReportError:
            return None

    @staticmethod
    def _same_runs(b, c, name: str) -> None:
        if int(b.attrs["seed"]) != int(c.attrs["seed"]) or int(b.attrs["runs"]) != int(c.attrs["runs"]):
            raise ReportError(f"{name}.h5 and baseline.h5 differ in seed or runs: they cannot be paired")

    def render(self, kind: str, args: list[str]) -> list[str]:
        fn = {"baseline": self.baseline, "dyads": self.dyads, "events": self.events, "timing": self.timing,
              "split": self.split, "peak": self.peak, "pairing": self.pairing, "runs": self.runs, "path": self.path,
              "lasting": self.lasting}.get(kind)
        if fn is None:
            raise ReportError(f"unknown table kind 'cf:{kind}'")
        try:
            return fn(args)
        except (KeyError, IndexError, OSError) as e:  # an ensemble file without what the table reads
            raise ReportError(f"cf:{kind} {' '.join(args)}: an input file lacks {e}") from None


def rewrite(text: str, report: Report) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = BEGIN.match(lines[i])
        if m is None or m.group(1) == "end":
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j] != END:
            if BEGIN.match(lines[j]) and lines[j] != END:
                raise ReportError(f"line {j + 1}: a marker inside the block opened at line {i + 1}")
            j += 1
        if j == len(lines):
            raise ReportError(f"line {i + 1}: '{lines[i]}' has no {END}")
        try:
            body = report.render(m.group(1), m.group(2).split())
        except ReportError as e:
            raise ReportError(f"line {i + 1}: {e}") from e
        out += [lines[i], ""] + body + ["", END]
        i = j + 1
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--doc", type=pathlib.Path, default=DEFAULT_DOC)
    ap.add_argument("--results", type=pathlib.Path, default=DEFAULT_DIR,
                    help="folder of the compare CSVs and ensemble files (default %(default)s)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--stdout", action="store_true", help="print the document instead of writing it")
    g.add_argument("--check", action="store_true", help="exit 1 if the document is not current")
    a = ap.parse_args()
    try:
        old = a.doc.read_text()
        new = rewrite(old, Report(a.results))
    except (OSError, ReportError) as e:
        print(f"counterfactual_report: error: {e}", file=sys.stderr)
        return 2
    if a.stdout:
        sys.stdout.write(new)
        return 0
    if a.check:
        if new == old:
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                   str(a.doc), "regenerated"))
        return 1
    if new != old:
        temp = a.doc.with_name(f".{a.doc.name}.tmp-{os.getpid()}")  # renamed when complete
        try:
            temp.write_text(new)
            os.replace(temp, a.doc)
        except OSError as e:
            print(f"counterfactual_report: error: cannot write {a.doc}: {e.strerror or e}", file=sys.stderr)
            return 1
        finally:
            temp.unlink(missing_ok=True)
        print(f"wrote {a.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
