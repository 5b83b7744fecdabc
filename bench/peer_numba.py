#!/usr/bin/env python3
"""The Numba peer: alignsim's monthly dynamics, without events, as a compiled loop over runs.

    /usr/bin/python3 bench/peer_numba.py --runs 100000 --months 641 --agents 5 --issues 8 [--repeat 3] [--json OUT]
    /usr/bin/python3 bench/peer_numba.py --check

The fastest a Python user would write without leaving Python: the same dynamics as the NumPy peer
(equations in bench/peer_common.py) as plain loops compiled by Numba (@njit(fastmath=True), Debian's
python3-numba), one run after the other: for each run, for each month, the positions, the affinity,
then the alignment, with the run's state (W and the positions, a few hundred bytes) in the caches
throughout. float32 like the engine (parameters and constants are float32 too, so nothing is
promoted to float64). Single-threaded: no prange, and NUMBA_NUM_THREADS is 1.

Noise: numpy.random.Generator(PCG64).standard_normal(dtype=float32), drawn in blocks of --block runs
(all their months) into a preallocated array that the compiled loop reads. Drawing inside the
compiled code is slower: Numba 0.56 compiles only the legacy np.random functions (Mersenne Twister,
float64), which took about 1.7 times as long per normal here as NumPy's float32 ziggurat in bulk.

Parameters, interests and what is measured are as in bench/peer_numpy.py: k_a, k_r, k_b, sigma,
k_p, k_0 from --parameters (default scenarios/baseline/parameters.toml) or --k-a ...; random
capabilities, positions and saliences from --seed; anchors at the starting positions; W starts at
the affinity. The timing covers the month loop and the noise (compilation and set-up excluded: the
function is compiled on a small input first), best of --repeat.

--check compares the compiled month, with the same noise, against the plain-Python literal loop of
bench/peer_common.py (the NumPy peer's check), at every month of a 24-month trajectory for several
sizes and parameter sets. Exits 1 if any comparison fails.

JSON (--json): as the NumPy peer's, with one result named "numba_peer" and numba's version.
"""

import peer_common as pc  # first: sets the thread counts before NumPy and Numba are imported

import sys  # noqa: E402
import time  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

F = np.float32
DEFAULT_BLOCK = 256


@numba.njit(fastmath=True)
def simulate(W, P, xi, kpc, k0_anchor, keep_p, s, c, kb_inv, keep, ka, kr, sigma):
    """Advances runs r = 0 .. R-1 of W (R, N, N) and P (R, N, D) in place by xi.shape[1] months,
    with the standard normals xi (R, months, N, N)."""
    runs, n, d = P.shape
    months = xi.shape[1]
    if W.shape[0] != runs or xi.shape[0] != runs or W.shape[1] != n or xi.shape[2] != n or xi.shape[3] != n:
        raise ValueError("simulate: W, P and xi disagree on the runs or agents")
    one = F(1.0)
    zero = F(0.0)
    drift = np.empty((n, d), F)
    dist = np.zeros((n, n), F)
    new = np.empty((n, n), F)
    for r in range(runs):
        w = W[r]
        p = P[r]
        for t in range(months):
            # positions, from the state at the start of the month; (|x| - target) sgn(x) = x - target sgn(x)
            for i in range(n):
                for e in range(d):
                    drift[i, e] = keep_p * p[i, e] + k0_anchor[i, e]
                for j in range(n):
                    if j == i:
                        continue
                    weight = kpc[i, j] * abs(w[i, j])
                    weight_target = weight * (one - w[i, j])
                    for e in range(d):
                        x = p[j, e] - p[i, e]
                        sign = (one if x > zero else zero) - (one if x < zero else zero)
                        drift[i, e] += weight * x - weight_target * sign
            for i in range(n):
                for e in range(d):
                    p[i, e] = min(one, max(-one, drift[i, e]))
            # the affinity of the new positions, as a distance (A = 1 - dist); |p_i - p_j| once per pair
            for i in range(n):
                for j in range(i + 1, n):
                    to_j = zero
                    to_i = zero
                    for e in range(d):
                        gap = abs(p[i, e] - p[j, e])
                        to_j += s[i, e] * gap
                        to_i += s[j, e] * gap
                    dist[i, j] = to_j
                    dist[j, i] = to_i
            # the alignment
            for i in range(n):
                for j in range(n):
                    if j == i:
                        new[i, j] = zero
                        continue
                    balance = zero
                    for k in range(n):
                        if k != i and k != j:
                            balance += c[k] * w[i, k] * w[k, j]
                    x = (keep * w[i, j] + ka * (one - dist[i, j]) + kr * w[j, i] + kb_inv[i, j] * balance
                         + sigma * xi[r, t, i, j])
                    new[i, j] = min(one, max(-one, x))
            for i in range(n):
                for j in range(n):
                    w[i, j] = new[i, j]


class Peer:
    """R runs, advanced with the compiled loop; W is (R, N, N), P is (R, N, D), float32."""

    def __init__(self, runs, c, s, anchor, params, dtype=F):
        if np.dtype(dtype) != F:
            raise ValueError("the Numba peer is float32 only")
        n, d = s.shape
        kpc = params["k_p"] * c[None, :] * pc.inverse_others(c)[:, None]
        np.fill_diagonal(kpc, 0)
        self.args = (kpc.astype(F), (params["k_0"] * anchor).astype(F), F(1.0 - params["k_0"]),
                     pc.normalised(s).astype(F), c.astype(F), (params["k_b"] * pc.inverse_third(c)).astype(F),
                     F(1.0 - params["k_a"] - params["k_r"]), F(params["k_a"]), F(params["k_r"]), F(params["sigma"]))
        self.W = np.zeros((runs, n, n), F)
        self.P = np.zeros((runs, n, d), F)

    def set_state(self, W, P):
        self.W[...] = W
        self.P[...] = P

    def state(self):
        return self.W, self.P

    def month(self, xi):
        """One month for every run, with the standard normals xi (R, N, N)."""
        simulate(self.W, self.P, np.ascontiguousarray(xi[:, None], dtype=F), *self.args)

    def run(self, xi):
        """xi.shape[1] months for every run, with the standard normals xi (R, months, N, N)."""
        simulate(self.W, self.P, xi, *self.args)


def starting_state(p, s):
    """W at the affinity of positions p (N, D) with raw saliences s, zero diagonal (as the engine starts)."""
    sn = pc.normalised(s)
    W = 1.0 - np.einsum("id,ijd->ij", sn, np.abs(p[:, None, :] - p[None, :, :]))
    np.fill_diagonal(W, 0.0)
    return W


def main(argv=None):
    ap = pc.argument_parser("alignsim's monthly dynamics (no events) as a Numba-compiled loop over runs; reports "
                            "run-steps per second.", 100000)
    ap.add_argument("--block", type=int, default=DEFAULT_BLOCK, help="runs whose noise is drawn at a time")
    args = ap.parse_args(argv)

    if args.check:
        return 0 if pc.check(Peer, F, f"numba {numba.__version__}") else 1
    pc.validate_sizes(ap, args)
    if args.block < 1:
        ap.error("need --block >= 1")
    try:
        params = pc.parameters_from_args(args)
    except pc.InputError as e:
        return pc.fail(str(e))

    c, p, s = pc.random_model(args.agents, args.issues, args.seed)
    W0 = starting_state(p, s)
    t0 = time.perf_counter()
    Peer(1, c, s, p, params).month(np.zeros((1, args.agents, args.agents), F))  # compiles
    compile_seconds = time.perf_counter() - t0
    block = min(args.block, args.runs)
    xi = np.empty((block, args.months, args.agents, args.agents), F)
    times = []
    for rep in range(args.repeat):
        rng = np.random.Generator(np.random.PCG64((args.seed, rep)))
        peer = Peer(block, c, s, p, params)
        seconds = 0.0
        for first in range(0, args.runs, block):
            runs = min(block, args.runs - first)
            peer.W[:runs] = W0
            peer.P[:runs] = p
            t0 = time.perf_counter()
            rng.standard_normal(out=xi[:runs], dtype=F)
            simulate(peer.W[:runs], peer.P[:runs], xi[:runs], *peer.args)
            seconds += time.perf_counter() - t0
            if not (np.all(np.isfinite(peer.W)) and np.all(np.isfinite(peer.P))):
                print("error: non-finite state", file=sys.stderr)
                return 1
        times.append(seconds)
    best = min(times)
    rate = args.runs * args.months / best
    print(f"numba peer: {args.runs} runs x {args.months} months x {args.agents} agents x {args.issues} issues, "
          f"float32, noise drawn {block} runs at a time, 1 thread: best of {args.repeat} {best:.3f} s "
          f"({', '.join(f'{t:.3f}' for t in times)}) = {rate:,.0f} run-steps/s (compiled in {compile_seconds:.1f} s)")
    if args.json:
        note = f"{args.runs} runs, 1 thread, no events, float32, numba {numba.__version__}"
        pc.write_json(args.json, "numba_peer", args, params, times, note,
                      {"dtype": "float32", "block": block, "compile_seconds": compile_seconds},
                      {"numba": numba.__version__})
    return 0


if __name__ == "__main__":
    sys.exit(main())
