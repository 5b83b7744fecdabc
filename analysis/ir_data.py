"""Read the project's copy of the dyad-year data sets in scenarios/data/ir/ (standard library only).

Each data set is one CSV in its own folder, with the columns `source, dyad, year, value, n` (and
extras); `dyad` is two agent ids sorted alphabetically and joined by "-" (see the folder's
README.md). This module reads them into one table, keyed by data set, dyad and year:

    data = ir_data.load()                      # or load(path_to_the_ir_folder)
    data.value("atop_alliance", "CN-RU", 1969)  # 3.0, or None when the year is not covered
    data.row("atop_alliance", "CN-RU", 1969)    # the whole CSV row (a dict of strings), or None
    ir_data.dyad_id("RU", "CN")                 # "CN-RU"

Problems (a missing file, a missing column, a value that is not a number) raise IrDataError with
the file and line.
"""
from __future__ import annotations

import csv
import pathlib

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / "scenarios" / "data" / "ir"

# The data sets: folder (= file stem), what the value is, and how it is cited.
DATASETS = {
    "atop_alliance": "ATOP 5.1 alliance commitment (3 defence/offence, 2 neutrality/consultation, 1 non-aggression)",
    "cow_alliance": "COW Formal Alliances 4.1 (3 defence, 2 neutrality/non-aggression, 1 entente)",
    "strategic_rivalry": "Thompson et al. strategic rivalry (1 = rivals)",
    "gml_mid": "Gibler-Miller-Little MID 2.2.1, highest hostility (2 threat, 3 display, 4 use of force, 5 war)",
    "cow_mid": "COW MID 5.0, highest hostility",
    "sipri_tiv": "SIPRI arms transfers, TIV (millions), both directions",
}
CITATIONS = {
    "atop_alliance": "Leeds, Ritter, Mitchell and Long, 'Alliance Treaty Obligations and Provisions, 1815-1944', "
                     "International Interactions 28 (2002); ATOP v5.1",
    "cow_alliance": "Gibler, International Military Alliances, 1648-2008 (CQ Press, 2009); COW Formal Alliances v4.1",
    "strategic_rivalry": "Thompson and Dreyer, Handbook of International Rivalries, 1494-2010 (CQ Press, 2012); "
                         "Thompson, Sakuwa and Suhas, strategic rivalries 1494-2020 (2021 update)",
    "gml_mid": "Gibler, Miller and Little, 'An Analysis of the Militarized Interstate Dispute (MID) Dataset, "
               "1816-2001', International Studies Quarterly 60 (2016); GML MID v2.2.1",
    "cow_mid": "Palmer et al., 'The MID5 Dataset, 2011-2014', Conflict Management and Peace Science 39 (2022); COW MID v5.0",
    "sipri_tiv": "SIPRI Arms Transfers Database, trend-indicator values (tables generated 28 July 2022)",
}


class IrDataError(Exception):
    """A data file cannot be read as expected."""


def dyad_id(a: str, b: str) -> str:
    """The data sets' name of the dyad of agents a and b: the two ids sorted and joined by '-'."""
    if a == b:
        raise ValueError(f"a dyad needs two different agents, got {a!r} twice")
    return "-".join(sorted((a, b)))


class IrData:
    """The rows of every data set, by (data set, dyad, year)."""

    def __init__(self, rows: dict[tuple[str, str, int], dict[str, str]], folder: pathlib.Path):
        self._rows = rows
        self.folder = folder

    def row(self, dataset: str, dyad: str, year: int) -> dict[str, str] | None:
        return self._rows.get((dataset, dyad, year))

    def value(self, dataset: str, dyad: str, year: int) -> float | None:
        r = self.row(dataset, dyad, year)
        return None if r is None else float(r["value"])

    def dyads(self) -> list[str]:
        return sorted({d for (_, d, _) in self._rows})

    def years(self, dataset: str, dyad: str) -> list[int]:
        return sorted(y for (s, d, y) in self._rows if s == dataset and d == dyad)


def load(folder: pathlib.Path | str = DEFAULT_DIR) -> IrData:
    """Read every data set of DATASETS from folder/<name>/<name>.csv."""
    folder = pathlib.Path(folder)
    rows: dict[tuple[str, str, int], dict[str, str]] = {}
    for name in DATASETS:
        path = folder / name / f"{name}.csv"
        try:
            f = open(path, newline="", encoding="utf-8")
        except OSError as e:
            raise IrDataError(f"cannot read {path}: {e.strerror}") from e
        with f:
            reader = csv.DictReader(f)
            missing = {"dyad", "year", "value"} - set(reader.fieldnames or [])
            if missing:
                raise IrDataError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
            for r in reader:
                line = reader.line_num
                try:
                    year = int(r["year"])
                    float(r["value"])
                except ValueError as e:
                    raise IrDataError(f"{path}:{line}: expected a year and a number, found "
                                      f"year={r['year']!r}, value={r['value']!r}") from e
                key = (name, r["dyad"], year)
                if key in rows:
                    raise IrDataError(f"{path}:{line}: dyad {r['dyad']} year {year} appears twice")
                rows[key] = r
    return IrData(rows, folder)
