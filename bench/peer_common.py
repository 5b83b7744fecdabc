"""What the benchmark's Python peers share (bench/peer_numpy.py, bench/peer_numba.py).

The monthly dynamics of alignsim without events (docs/model.md, sim/model/Batch.cpp), for one run:

    1. positions move, from the state at the start of the month, and are clamped to [-1, 1]:
       p[i,d] += k_p sum_{j != i} w[i,j] (|p[j,d] - p[i,d]| - (1 - W[i,j])) sgn(p[j,d] - p[i,d])
                 + k_0 (anchor[i,d] - p[i,d]),          w[i,j] = c_j |W[i,j]| / sum_{k != i} c_k
    2. the affinity follows the new positions:
       A[i,j] = 1 - sum_d s[i,d] |p[i,d] - p[j,d]|      (s normalised per agent)
    3. the alignment moves, from W at the start of the month and the new A:
       W[i,j] <- clip( W[i,j] + k_a (A[i,j] - W[i,j]) + k_r (W[j,i] - W[i,j]) + k_b B[i,j] + sigma xi[i,j], -1, 1 )
       B[i,j]  = sum_{k != i,j} c_k W[i,k] W[k,j] / sum_{k != i,j} c_k,   the diagonal of W stays 0

Here: the parameters (read from a scenario's parameters file, or given on the command line), the
random set-up of capabilities and interests, the plain-Python literal version of one month (the
reference of both peers' --check), the check itself, the command line both peers accept, and the
JSON result in the schema of bench/compare.py.

Import this module before NumPy: it sets the BLAS/OpenMP/Numba thread counts to 1, so that the
peers are single-threaded like the engine's per-thread figure.
"""

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "GOTO_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402

import numpy as np  # noqa: E402

#: The model parameters the dynamics without events use, in this order.
PARAMETER_NAMES = ("k_a", "k_r", "k_b", "sigma", "k_p", "k_0")
#: Where the defaults come from: the baseline scenario's starting values.
DEFAULT_PARAMETERS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "scenarios",
                                       "baseline", "parameters.toml")


class InputError(Exception):
    """Bad input: the message names the file and what was expected."""


# ------------------------------------------------------------------------------------------------
# Parameters


def read_parameters(path):
    """The PARAMETER_NAMES values of the [parameters] table of a TOML file, as a dict."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})")
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not valid TOML ({e})")
    table = data.get("parameters")
    if not isinstance(table, dict):
        raise InputError(f"{path}: expected a [parameters] table")
    out = {}
    for name in PARAMETER_NAMES:
        value = table.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{path}: [parameters] needs {name} = a number")
        out[name] = float(value)
    return out


def parameters_from_args(args):
    """The parameters file's values, with those given on the command line (--k-a ...) replacing them."""
    params = read_parameters(args.parameters)
    for name in PARAMETER_NAMES:
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    for name in ("k_a", "k_r", "k_b", "k_p", "k_0"):
        if not 0.0 <= params[name] <= 1.0:
            raise InputError(f"{name} = {params[name]:g}: expected a rate in [0, 1]")
    if params["sigma"] < 0.0:
        raise InputError(f"sigma = {params['sigma']:g}: expected >= 0")
    return params


# ------------------------------------------------------------------------------------------------
# Set-up


def random_model(n, issues, seed):
    """Capabilities c (N,), positions p (N, D), raw saliences s (N, D), from `seed`."""
    rng = np.random.Generator(np.random.PCG64(seed))
    c = rng.uniform(0.05, 0.5, n)
    p = rng.uniform(-1.0, 1.0, (n, issues))
    s = rng.uniform(0.0, 1.0, (n, issues))
    return c, p, s


def normalised(s):
    """Saliences divided by each agent's total."""
    return s / s.sum(axis=1, keepdims=True)


def inverse_others(c):
    """1 / sum_{k != i} c_k, per agent."""
    return 1.0 / (c.sum() - c)


def inverse_third(c):
    """1 / sum_{k != i,j} c_k for i != j, 0 on the diagonal (and everywhere when N = 2: B = 0)."""
    n = c.size
    third = c.sum() - c[:, None] - c[None, :]
    inv = np.zeros((n, n))
    off = ~np.eye(n, dtype=bool)
    if n > 2:
        inv[off] = 1.0 / third[off]
    return inv


# ------------------------------------------------------------------------------------------------
# One month of one run, literally from the formulas (lists of lists, Python floats)


def reference_affinity(p, s):
    n, d = len(p), len(p[0])
    A = [[0.0] * n for _ in range(n)]
    for i in range(n):
        total = sum(s[i][e] for e in range(d))
        for j in range(n):
            if i != j:
                A[i][j] = 1.0 - sum(s[i][e] * abs(p[i][e] - p[j][e]) for e in range(d)) / total
    return A


def reference_interests(W, p, anchor, c, k_p, k_0):
    n, d = len(p), len(p[0])
    out = [[0.0] * d for _ in range(n)]
    for i in range(n):
        others = sum(c[k] for k in range(n) if k != i)
        for e in range(d):
            pull = 0.0
            for j in range(n):
                if j == i:
                    continue
                w = c[j] * abs(W[i][j]) / others
                x = p[j][e] - p[i][e]
                sign = (x > 0) - (x < 0)
                pull += w * (abs(x) - (1.0 - W[i][j])) * sign
            moved = p[i][e] + k_p * pull + k_0 * (anchor[i][e] - p[i][e])
            out[i][e] = min(1.0, max(-1.0, moved))
    return out


def reference_alignment(W, A, c, xi, params):
    n = len(W)
    out = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            num = den = 0.0
            for k in range(n):
                if k != i and k != j:
                    num += c[k] * W[i][k] * W[k][j]
                    den += c[k]
            B = num / den if den > 0 else 0.0
            x = (W[i][j] + params["k_a"] * (A[i][j] - W[i][j]) + params["k_r"] * (W[j][i] - W[i][j])
                 + params["k_b"] * B + params["sigma"] * xi[i][j])
            out[i][j] = min(1.0, max(-1.0, x))
    return out


def reference_month(W, p, anchor, s, c, xi, params):
    """(W, p) after one month; s are raw saliences."""
    p_new = reference_interests(W, p, anchor, c, params["k_p"], params["k_0"])
    return reference_alignment(W, reference_affinity(p_new, s), c, xi, params), p_new


# ------------------------------------------------------------------------------------------------
# --check


def check(make_peer, dtype, label):
    """Checks a peer's month against reference_month, for a few runs and several sizes and parameters.

    make_peer(runs, c, s, anchor, params, dtype) returns an object with set_state(W, P),
    month(xi) (one month with the given (R, N, N) standard normals) and state() -> (W, P).
    Every month of a 24-month trajectory is compared with the reference computed from the peer's own
    state at the start of that month, so float32 rounding does not compound over the trajectory
    (and a sign of p[j,d] - p[i,d] is the same in both). The parameter sets include large noise
    (drives the clip of W) and a large k_p (drives the clamp of the positions). Prints one line per
    case and returns whether all passed.
    """
    rng = np.random.default_rng(12345)
    tol = 1e-6 if np.dtype(dtype) == np.float32 else 1e-12
    base = dict(k_a=0.05, k_r=0.10, k_b=0.05, sigma=0.02, k_p=0.03, k_0=0.02)
    cases = (("baseline", base), ("noise", dict(base, sigma=0.8)), ("influence", dict(base, k_p=0.6, k_0=0.1)),
             ("fixed interests", dict(base, k_p=0.0, k_0=0.0)))
    ok = True
    runs, months = 7, 24
    for n, d in ((2, 3), (3, 1), (5, 8), (8, 4)):
        c, s = rng.uniform(0.05, 0.5, n), rng.uniform(0, 1, (n, d))
        anchor = rng.uniform(-1, 1, (n, d))
        line = f"N={n} D={d}:"
        for name, params in cases:
            peer = make_peer(runs, c, s, anchor, params, dtype)
            W = rng.uniform(-1, 1, (runs, n, n))
            W[:, np.arange(n), np.arange(n)] = 0
            P = rng.uniform(-1, 1, (runs, n, d))
            peer.set_state(W, P)
            err = 0.0
            clipped = clamped = 0
            for _ in range(months):
                W0, P0 = (x.astype(np.float64) for x in peer.state())
                xi = rng.standard_normal((runs, n, n))
                peer.month(xi.astype(dtype))
                W1, P1 = peer.state()
                for r in range(runs):
                    W_ref, P_ref = reference_month(W0[r].tolist(), P0[r].tolist(), anchor.tolist(), s.tolist(),
                                                   c.tolist(), xi[r].tolist(), params)
                    W_ref, P_ref = np.array(W_ref), np.array(P_ref)
                    err = max(err, float(np.max(np.abs(W1[r] - W_ref))), float(np.max(np.abs(P1[r] - P_ref))))
                    clipped += int(np.sum(np.abs(W_ref) == 1.0))
                    clamped += int(np.sum(np.abs(P_ref) == 1.0))
            good = err < tol
            ok &= good
            line += f"  {name} {err:.1e}{'' if good else ' FAIL'} ({clipped} clipped, {clamped} clamped)"
        print(line)
    print(f"check ({label}, {np.dtype(dtype).name}, {runs} runs x {months} months per case): "
          f"{'passed' if ok else 'FAILED'}")
    return ok


# ------------------------------------------------------------------------------------------------
# Command line and result


def argument_parser(description, default_runs):
    """The options both peers accept."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--runs", type=int, default=default_runs, help="runs (R)")
    ap.add_argument("--months", type=int, default=641, help="months per run")
    ap.add_argument("--agents", type=int, default=5, help="agents (N)")
    ap.add_argument("--issues", type=int, default=8, help="issues (D) of the random interests")
    ap.add_argument("--repeat", type=int, default=3, help="timings; the best is reported")
    ap.add_argument("--seed", type=int, default=1, help="seed of the interests and of the noise")
    ap.add_argument("--parameters", metavar="TOML", default=os.path.normpath(DEFAULT_PARAMETERS_FILE),
                    help="file whose [parameters] table gives " + ", ".join(PARAMETER_NAMES))
    for name in PARAMETER_NAMES:
        ap.add_argument("--" + name.replace("_", "-"), dest=name, type=float, metavar="X",
                        help=f"{name}, instead of the parameters file's")
    ap.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT")
    ap.add_argument("--check", action="store_true",
                    help="check the peer's month against a plain-Python loop (exit 1 if it differs)")
    return ap


def validate_sizes(ap, args):
    if args.runs < 1 or args.months < 1 or args.agents < 2 or args.issues < 1 or args.repeat < 1:
        ap.error("need --runs >= 1, --months >= 1, --agents >= 2, --issues >= 1, --repeat >= 1")


def machine(**extra):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(),
            "kernel": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "numpy": np.__version__, **extra}


def write_json(path, name, args, params, times, note, details, versions):
    """The result file: the figures at the top, then details, the machine (with `versions`, e.g. of
    NumPy and Numba) and 'results' in bench/compare.py's schema, with one result named `name`."""
    best = min(times)
    rate = args.runs * args.months / best
    out = {
        "runs": args.runs, "months": args.months, "agents": args.agents, "issues": args.issues, "seconds": best,
        "run_steps_per_second": rate, "seconds_all": times, "repeat": args.repeat, "threads": 1,
        "parameters": params, "parameters_file": args.parameters, **details,
        "machine": machine(**versions),
        "results": [{"name": name, "value": rate, "unit": "run-steps/s", "higher_is_better": True, "note": note}],
    }
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    return 2
