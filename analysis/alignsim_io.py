#!/usr/bin/env python3
"""Read alignsim ensemble files and compute the derived views the analysis offers.

Run with Debian's interpreter, ``/usr/bin/python3`` (see analysis/README.md). Needs numpy, h5py and
xarray with the h5netcdf engine; nothing else outside the standard library.

An ensemble file (format ``alignsim-ensemble``, version 1) is HDF5 and netCDF-4 at once. Its
variables, as xarray sees them::

    alignment           (sample, time, agent, other)  float32  W of the stored runs (diagonal NaN)
    alignment_mean      (time, agent, other)          float32  mean of M = (W + W^T)/2, all runs
    alignment_std       (time, agent, other)          float32  standard deviation of M, all runs
    alignment_quantile  (quantile, time, agent, other) float32 quantiles of M, all runs
    event_month         (run, event)                  int16    month index of each event, -1 = none
    event_probability   (event)                       float32  share of runs in which it happened
    month (time), agent_name (agent), event_title/event_date/event_kind (event), sample_run (sample)

Functions:

    open_ensemble(path)            the Dataset, or AlignsimFileError with a clear message
    dyad_mean(ds, a, b)            ensemble mean of M[a, b] over time
    dyad_band(ds, a, b, lo, hi)    (lower, upper) quantiles of M[a, b] over time
    dyad_runs(ds, a, b)            M[a, b] of the stored runs, (sample, time)
    blocs(M)                       two-bloc partition from the leading eigenvector (Marvel et al.)
    landscape_energy(M, part, w)   Axelrod-Bennett energy of a given partition
    frustration(M, w)              least frustration over all two-bloc partitions
"""

from __future__ import annotations

import itertools
import os
import sys
import tomllib
import warnings

import h5py
import numpy as np
import xarray as xr

FORMAT = "alignsim-ensemble"
FORMAT_VERSION = 1

__all__ = [
    "AlignsimFileError", "open_ensemble", "agents", "dyads", "parse_dyads", "check_agent", "years",
    "scenario", "scenario_title", "display_names", "describe", "dyad_mean", "dyad_band", "dyad_runs", "quantile_or_none",
    "blocs", "landscape_energy", "frustration", "format_blocs", "open_or_exit", "fail", "month_labels",
    "save_figure", "run_script",
]


class AlignsimFileError(ValueError):
    """The file is missing, unreadable, or not an alignsim ensemble file."""


# ------------------------------------------------------------------------------------------------
# Opening


def open_ensemble(path: str | os.PathLike) -> xr.Dataset:
    """Open an alignsim ensemble file as an xarray Dataset (engine ``h5netcdf``, lazy).

    Raises AlignsimFileError when the file does not exist, is not HDF5/netCDF-4, or lacks the
    root attribute ``format = "alignsim-ensemble"``. Warns (does not fail) when the file's
    ``status`` is not ``complete`` or its ``format_version`` is newer than this module knows.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AlignsimFileError(f"{path}: no such file")
    if os.path.isdir(path):
        raise AlignsimFileError(f"{path}: is a directory, not an alignsim ensemble file")
    try:  # the format first, with h5py: a foreign HDF5 file need not be netCDF-4 at all
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
    except OSError as e:  # not HDF5, truncated, damaged
        raise AlignsimFileError(f"{path}: cannot be read as HDF5 ({' '.join(str(e).split())}); "
                                f"is it an alignsim ensemble file?") from e
    fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
    if fmt != FORMAT:
        found = f"format = {fmt!r}" if fmt is not None else "no 'format' attribute"
        raise AlignsimFileError(f"{path}: not an alignsim ensemble file ({found}; expected {FORMAT!r})")
    try:
        ds = xr.open_dataset(path, engine="h5netcdf")
    except Exception as e:  # h5py/h5netcdf raise OSError, ValueError, ... for damaged input
        raise AlignsimFileError(f"{path}: cannot be read as netCDF-4 ({type(e).__name__}: {' '.join(str(e).split())})"
                                ) from e
    missing = [v for v in ("alignment_mean", "alignment_quantile", "event_month", "month") if v not in ds.variables]
    if missing:
        ds.close()
        raise AlignsimFileError(f"{path}: alignsim file lacks variable(s) {', '.join(missing)}")
    version = ds.attrs.get("format_version")
    try:
        if version is not None and int(version) > FORMAT_VERSION:
            warnings.warn(f"{path}: format_version {version} is newer than {FORMAT_VERSION}; reading it as version "
                          f"{FORMAT_VERSION}", stacklevel=2)
    except (TypeError, ValueError):
        pass
    try:
        runs = int(ds.attrs.get("runs", ds.sizes.get("run", 0)))
    except (TypeError, ValueError):
        runs = -1
    if runs <= 0 or ds.sizes.get("run", 0) == 0:
        ds.close()
        raise AlignsimFileError(f"{path}: holds no runs (runs = {ds.attrs.get('runs')}): there is nothing to show")
    status = ds.attrs.get("status", "complete")
    if status != "complete":
        warnings.warn(f"{path}: status is {status!r}: the file holds only the runs finished before it was "
                      f"interrupted (runs = {ds.attrs.get('runs')})", stacklevel=2)
    return ds


# ------------------------------------------------------------------------------------------------
# Labels and axes


def agents(ds: xr.Dataset) -> list[str]:
    """Agent ids in file order."""
    return [str(a) for a in ds["agent"].values]


def check_agent(ds: xr.Dataset, a: str) -> str:
    """Return the agent id `a`, or raise KeyError naming the agents in the file."""
    ids = agents(ds)
    if a not in ids:
        raise KeyError(f"agent {a!r} is not in the file; agents are {', '.join(ids)}")
    return a


def dyads(ds: xr.Dataset) -> list[tuple[str, str]]:
    """Every unordered pair of agents, (i, j) with i before j in file order."""
    return list(itertools.combinations(agents(ds), 2))


def parse_dyads(ds: xr.Dataset, text: str | None) -> list[tuple[str, str]]:
    """Parse ``"PK-RU,PK-US"`` into [("PK", "RU"), ("PK", "US")]; None or "" gives every dyad."""
    if not text:
        return dyads(ds)
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.replace("–", "-").split("-")
        if len(parts) != 2:
            raise ValueError(f"dyad {item!r}: expected two agent ids joined by '-', e.g. PK-RU")
        a, b = (check_agent(ds, p.strip()) for p in parts)
        if a == b:
            raise ValueError(f"dyad {item!r}: an agent with itself is not a dyad")
        out.append((a, b))
    if not out:
        raise ValueError("no dyads given")
    return out


def years(ds: xr.Dataset) -> np.ndarray:
    """Decimal year of the first day of each month on the time axis (1947-08 -> 1947.583)."""
    out = []
    for m in ds["month"].values:
        m = m.decode() if isinstance(m, bytes) else str(m)
        y, mo = m.split("-")[:2]
        out.append(int(y) + (int(mo) - 1) / 12.0)
    return np.asarray(out)


def month_labels(ds: xr.Dataset) -> list[str]:
    return [m.decode() if isinstance(m, bytes) else str(m) for m in ds["month"].values]


def scenario(ds: xr.Dataset) -> dict:
    """The resolved scenario stored in the file, parsed from its TOML text ({} if unreadable)."""
    try:
        return tomllib.loads(ds.attrs.get("scenario", ""))
    except tomllib.TOMLDecodeError:
        return {}


def fnv1a64_hex(text: str) -> str:
    """The 64-bit FNV-1a hash of the UTF-8 bytes of `text`, as 16 hex digits (as alignsim computes it)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def base_mismatch(base: xr.Dataset, cf: xr.Dataset) -> str | None:
    """Why the baseline file is a run of none of the scenarios the counterfactual may be compared with
    (`base` and `base_fnv1a` of its stored [scenario]: the scenario it extends and, while that is a
    counterfactual, the one that extends), or None when it is one, or when the counterfactual records
    no base. The same check as `alignsim compare`."""
    b, c = scenario(base).get("scenario", {}), scenario(cf).get("scenario", {})
    names, hashes = list(c.get("base", [])), list(c.get("base_fnv1a", []))
    if not hashes or fnv1a64_hex(str(base.attrs.get("scenario", ""))) in hashes:
        return None
    what = f"the counterfactual '{c.get('name')}' extends the scenario '{names[0]}'"
    if len(names) > 1:
        what += " (a counterfactual of '" + "', of '".join(names[1:]) + "')"
    if b.get("name") in names:
        return what + f", but the baseline file holds another version of '{b.get('name')}' (its resolved scenario differs)"
    return what + f", but the baseline file holds the scenario '{b.get('name')}'"


def scenario_title(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("title") or scenario(ds).get("scenario", {}).get("title") or "alignsim ensemble")


def display_names(ds: xr.Dataset, sep: str = "/") -> dict[str, str]:
    """Agent id -> its display names over the horizon, e.g. {"RU": "USSR/Russia"}: the name at the
    start (agent_name) followed by the names given by `renames` effects of events that happen in
    at least one run, in scenario order."""
    names = {a: [str(n)] for a, n in zip(agents(ds), ds["agent_name"].values)}
    happened = {}
    if ds.sizes.get("event", 0):
        em = np.asarray(ds["event_month"].values)
        happened = {str(e): bool(np.any(em[:, k] >= 0)) for k, e in enumerate(ds["event"].values)}
    for e in scenario(ds).get("events", []):
        if not happened.get(str(e.get("id")), False):
            continue
        for r in e.get("renames", []):
            a, n = r.get("agent"), r.get("name")
            if a in names and n and n != names[a][-1]:
                names[a].append(str(n))
    return {a: sep.join(v) for a, v in names.items()}


def describe(ds: xr.Dataset) -> str:
    """``'<title> - 2000 runs, seed 7'`` for figure titles."""
    return f"{scenario_title(ds)} — {int(ds.attrs.get('runs', ds.sizes.get('run', 0)))} runs, seed {ds.attrs.get('seed')}"


# ------------------------------------------------------------------------------------------------
# Dyads


def dyad_mean(ds: xr.Dataset, a: str, b: str) -> xr.DataArray:
    """Ensemble mean over all runs of the dyad alignment M[a, b] = (W[a,b] + W[b,a]) / 2, by time."""
    check_agent(ds, a)
    check_agent(ds, b)
    return ds["alignment_mean"].sel(agent=a, other=b)


def quantile_or_none(ds: xr.Dataset, q: float, tol: float = 1e-6) -> float | None:
    """The stored quantile level equal to q (within tol), or None."""
    levels = np.asarray(ds["quantile"].values, dtype=float)
    hit = np.flatnonzero(np.abs(levels - q) <= tol)
    return float(levels[hit[0]]) if hit.size else None


def dyad_band(ds: xr.Dataset, a: str, b: str, lo: float = 0.05, hi: float = 0.95) -> tuple[xr.DataArray, xr.DataArray]:
    """(lower, upper): the lo and hi quantiles over all runs of M[a, b], by time.

    The quantiles are those the engine stored (``--quantiles``, default 0.05 0.25 0.5 0.75 0.95);
    asking for a level it did not store raises ValueError listing the levels available.
    """
    check_agent(ds, a)
    check_agent(ds, b)
    out = []
    for q in (lo, hi):
        level = quantile_or_none(ds, q)
        if level is None:
            have = ", ".join(f"{x:g}" for x in ds["quantile"].values)
            raise ValueError(f"quantile {q:g} is not stored in the file (stored: {have})")
        out.append(ds["alignment_quantile"].sel(quantile=level, agent=a, other=b))
    return out[0], out[1]


def dyad_runs(ds: xr.Dataset, a: str, b: str, samples=None) -> np.ndarray:
    """M[a, b] of the stored runs as a float64 array (sample, time); `samples` selects positions
    along the sample dimension (a slice or index array; default all)."""
    ia, ib = agents(ds).index(check_agent(ds, a)), agents(ds).index(check_agent(ds, b))
    w = ds["alignment"]
    if samples is not None:
        w = w.isel(sample=samples)
    ab = np.asarray(w.isel(agent=ia, other=ib).values, dtype=np.float64)
    ba = np.asarray(w.isel(agent=ib, other=ia).values, dtype=np.float64)
    return 0.5 * (ab + ba)


# ------------------------------------------------------------------------------------------------
# Blocs and frustration


def _square(M) -> np.ndarray:
    M = np.array(M, dtype=np.float64)  # a copy
    if M.ndim < 2 or M.shape[-1] != M.shape[-2]:
        raise ValueError(f"expected a square matrix (or a stack of them), got shape {M.shape}")
    n = M.shape[-1]
    idx = np.arange(n)
    M[..., idx, idx] = 0.0  # the diagonal is unused (NaN in the files)
    M = np.nan_to_num(M, nan=0.0)
    return 0.5 * (M + np.swapaxes(M, -1, -2))


def blocs(M) -> np.ndarray:
    """Two-bloc partition of the agents: the sign pattern of the leading eigenvector of M.

    M is a symmetric alignment matrix (N, N) with an unused diagonal (set to 0 here; NaN is
    accepted), or a stack (..., N, N). The leading eigenvector is the one for the largest
    (most positive) eigenvalue: under the balance dynamics dX/dt = X^2 of Marvel, Kleinberg,
    Kleinberg and Strogatz (PNAS 2011) the state grows along it, and its sign pattern is the
    faction each agent ends up in. Returns an int array (..., N) of +1/-1; the sign is fixed so
    that agent 0 is in bloc +1, and an agent with a zero component joins agent 0's bloc. An
    asymmetric input is symmetrised first. With a repeated leading eigenvalue (e.g. M = 0) the
    pattern is not unique and the result is one arbitrary choice.
    """
    M = _square(M)
    _, vec = np.linalg.eigh(M)          # eigenvalues ascending
    v = vec[..., :, -1]                 # (..., N) eigenvector of the largest eigenvalue
    s = np.where(v < 0, -1, 1)
    s = np.where(np.abs(v) < 1e-12, 0, s)
    ref = s[..., :1]
    ref = np.where(ref == 0, 1, ref)
    s = s * ref
    return np.where(s == 0, 1, s).astype(int)


def _weights(n: int, weights) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    return w


def landscape_energy(M, partition, weights=None) -> float:
    """Axelrod and Bennett's (1993) landscape energy of a partition into blocs.

        E(X) = sum_{i<j} w_i w_j M_ij d_ij(X),   d_ij = 1 if i and j are in different blocs, else 0

    M is symmetric (N, N) (diagonal ignored), `partition` any labels (N,) (equal label = same
    bloc), `weights` the sizes w_i (Axelrod-Bennett's s_i; capabilities here), default 1. Pairs
    with M_ij > 0 raise the energy when split, pairs with M_ij < 0 lower it. Axelrod and Bennett sum
    over ordered pairs, which doubles E; the minimisers are the same.
    """
    M = _square(M)
    if M.ndim != 2:
        raise ValueError("landscape_energy takes one matrix")
    n = M.shape[0]
    w = _weights(n, weights)
    lab = np.asarray(partition)
    if lab.shape != (n,):
        raise ValueError(f"partition must have shape ({n},), got {lab.shape}")
    d = (lab[:, None] != lab[None, :]).astype(float)
    return float(np.sum(np.triu(np.outer(w, w) * M * d, 1)))


def frustration(M, weights=None, return_partition: bool = False):
    """Least frustration of M over all partitions into two blocs (one may be empty).

    Definition (the weighted frustration index of a signed graph, Harary 1959; the balance
    counterpart of Axelrod-Bennett's landscape energy):

        F(X) = sum_{i<j} w_i w_j * ( max(M_ij, 0)  if i, j are in different blocs
                                     max(-M_ij, 0) if i, j are in the same bloc )
        frustration(M) = min over two-bloc partitions X of F(X)

    i.e. the weight of the friendly ties cut by the partition plus the hostile ties kept inside a
    bloc. It is >= 0, and 0 exactly when M is structurally balanced (some split makes every tie
    within a bloc >= 0 and every tie across <= 0). It equals the landscape energy plus a constant,

        F(X) = landscape_energy(M, X, w) + sum_{i<j} w_i w_j max(-M_ij, 0),

    so the partition minimising F is Axelrod and Bennett's predicted configuration (restricted to
    two blocs). Weights w_i default to 1; pass capabilities for their capability-weighted form.
    All 2^(N-1) splits are enumerated (N <= 16 in alignsim, at most 32768 splits).

    M: (N, N) or a stack (..., N, N); the diagonal is ignored and M is symmetrised.
    Returns the frustration (float, or array (...) for a stack); with return_partition, also the
    minimising partition as +1/-1 labels (..., N), agent 0 in bloc +1.
    """
    M = _square(M)
    n = M.shape[-1]
    w = _weights(n, weights)
    ww = np.outer(w, w)
    iu, ju = np.triu_indices(n, 1)
    pos = (np.maximum(M, 0) * ww)[..., iu, ju]   # (..., P)
    neg = (np.maximum(-M, 0) * ww)[..., iu, ju]  # (..., P)
    # all splits with agent 0 in bloc +1: bits of k give agents 1..n-1
    k = np.arange(2 ** (n - 1))[:, None]
    bits = (k >> np.arange(n - 1)[None, :]) & 1
    labels = np.concatenate([np.ones((k.shape[0], 1), int), 1 - 2 * bits], axis=1)  # (S, N)
    diff = (labels[:, iu] != labels[:, ju]).astype(float)                          # (S, P)
    F = pos @ diff.T + neg @ (1.0 - diff).T                                          # (..., S)
    best = np.argmin(F, axis=-1)
    value = np.take_along_axis(F, best[..., None], axis=-1)[..., 0]
    value = float(value) if np.ndim(value) == 0 else value
    if return_partition:
        return value, labels[best]
    return value


def format_blocs(ids, labels) -> str:
    """``'{RU, IN} | {PK, US, CN}'`` (the bloc of the first agent first); one bloc prints alone."""
    a = [i for i, s in zip(ids, labels) if s == labels[0]]
    b = [i for i, s in zip(ids, labels) if s != labels[0]]
    text = "{" + ", ".join(a) + "}"
    return text + (" | {" + ", ".join(b) + "}" if b else "")


def open_or_exit(path) -> xr.Dataset:
    """open_ensemble for the scripts: warnings go to stderr as 'program: warning: ...', errors exit 2."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = open_ensemble(path)
        except AlignsimFileError as e:
            fail(str(e))
    for w in caught:
        print(f"{os.path.basename(sys.argv[0])}: warning: {w.message}", file=sys.stderr)
    return ds


def fail(message: str, code: int = 2) -> None:
    """Print 'program: error: message' to stderr, on one line, and exit (for the scripts)."""
    print(f"{os.path.basename(sys.argv[0])}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(code)


def save_figure(fig, path: str, **options) -> None:
    """fig.savefig(path) through a temporary file in the same folder, renamed when complete: a
    failure (a full disk) leaves neither a truncated image nor the temporary file."""
    folder, name = os.path.split(os.path.abspath(path))
    temp = os.path.join(folder, f".{name[:200]}.tmp-{os.getpid()}")
    try:
        fig.savefig(temp, format=os.path.splitext(name)[1][1:] or "png", **options)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def run_script(main) -> None:
    """Runs a script's main() and exits with its status. A file that cannot be read or written as
    expected (a damaged HDF5 file, a missing variable, a full disk) ends in one line
    'program: error: ...' and status 2, not a traceback."""
    try:
        code = main()
    except AlignsimFileError as e:
        fail(str(e))
    except (OSError, KeyError, IndexError, ValueError) as e:
        what = f"{type(e).__name__}: {e}" if isinstance(e, KeyError) else str(e)
        fail(" ".join(what.split()))
    sys.exit(code)
