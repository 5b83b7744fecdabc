#!/usr/bin/env python3
"""The NumPy peer: alignsim's monthly dynamics, without events, vectorised across runs.

    /usr/bin/python3 bench/peer_numpy.py --runs 100000 --months 641 --agents 5 --issues 8 [--repeat 3] [--json OUT]
    /usr/bin/python3 bench/peer_numpy.py --check

What a careful researcher would write in NumPy to get the model's ensemble without the C++ engine,
for the benchmark to compare against. Each month moves the positions, recomputes the affinity from
them and then moves the alignment (the equations are in bench/peer_common.py). The runs advance
together, --chunk of them at a time (see below), on the last axis, as the engine's lanes: W has shape
(N, N, R) and the positions P (N, D, R), so that every NumPy operation runs over R contiguous values
(runs first, (R, N, N), made the inner loops N or D long and the peer about half as fast). float32 by
default (the engine's precision; --dtype float64 for NumPy's default).

Implementation, per month, with every update in place into preallocated buffers:
- X[i,j,d] = P[j,d] - P[i,d] is kept from the end of the previous month with |X| and sgn(X) (sgn
  from two comparisons: np.sign is several times slower on float32). The positions move by
  sum over j of w[i,j] (|X| - (1 - W[i,j])) sgn(X), with w = k_p c_j |W[i,j]| / sum_{k != i} c_k
  (zero on the diagonal, where W is 0), plus k_0 (anchor - P), then a clip; then X, |X| and sgn(X)
  are recomputed from the new positions.
- The affinity is 1 - sum over d of s[i,d] |X|.
- The balance numerator sum_k c_k W[i,k] W[k,j] is a loop over the third party k, each step a
  whole-array product (--balance einsum for np.einsum); the diagonal of W is 0, so the k = i, j terms
  vanish, and the 1 / sum_{k != i,j} c_k factor is an (N, N) array with a zero diagonal.
- The noise xi comes from numpy.random.Generator(PCG64).standard_normal, drawn into a preallocated
  (N, N, R) block per month (the diagonal draws are wasted, 1/N of them).

--chunk: runs advanced together (default 2048). The runs are split into chunks simulated one after
the other over all months, so that the working set (about 4.4 kB per run in float32, mostly the
(N, N, D) differences) stays near the caches: on this project's machines 1024 and 2048 were the
fastest of 256 .. 8192 (--runs 16384 --months 100), and 10-20% ahead of 256 or 8192. 0 advances all
runs together.

Parameters: k_a, k_r, k_b, sigma, k_p, k_0 from the [parameters] table of --parameters (default: the
baseline scenario's scenarios/baseline/parameters.toml), each replaceable on the command line
(--k-a ...; the benchmark passes the calibrated scenario's values). Capabilities U(0.05, 0.5),
positions U(-1, 1) and saliences U(0, 1) (normalised per agent) are random from --seed, for
--agents and --issues; the anchors are the starting positions and W starts at the affinity (zero
diagonal), as in the engine. Without events, anchors and saliences stay the same in every run.

Measures: the time of the month loop (noise generation included; set-up excluded), best of
--repeat; reports run-steps per second = runs * months / seconds. Single-threaded: the BLAS/OpenMP
thread counts are set to 1 before NumPy is imported. Nothing is stored or summarised: the engine's
figure includes events and summaries, so the comparison flatters the peer.

--check compares the vectorised month, with the same noise, against the plain-Python literal loop of
bench/peer_common.py for a few runs and several agent and issue counts, at every month of a 24-month
trajectory, with parameter sets that drive the clip of W and the clamp of the positions. Exits 1 if
any comparison fails.

JSON (--json): top-level keys runs, months, agents, issues, seconds (best), run_steps_per_second,
then details (seconds_all, parameters, dtype, balance, chunk, machine) and "results" in the schema of
bench/compare.py (one entry, name "numpy_peer"), so the file can be compared directly.
"""

import peer_common as pc  # first: sets the thread counts before NumPy is imported

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

BALANCE_CHOICES = ("loop", "einsum")
DEFAULT_CHUNK = 2048


class Peer:
    """R runs of the N-agent, D-issue model advanced together, runs on the last axis: W is (N, N, R),
    the positions P are (N, D, R)."""

    def __init__(self, runs, c, s, anchor, params, dtype=np.float32, balance="loop", seed=1):
        self.dtype = dt = np.dtype(dtype)
        n, d = s.shape
        self.n, self.d, self.runs, self.balance = n, d, runs, balance
        f = dt.type
        self.s = pc.normalised(s).astype(dt)[:, None, :, None]              # (N, 1, D, 1)
        self.c = c.astype(dt)
        kpc = params["k_p"] * c[None, :] * pc.inverse_others(c)[:, None]     # k_p c_j / sum_{k != i} c_k
        np.fill_diagonal(kpc, 0)
        self.kpc = kpc.astype(dt)[:, :, None]                                # (N, N, 1)
        self.k0_anchor = (params["k_0"] * anchor).astype(dt)[:, :, None]    # (N, D, 1): the same in every run
        self.keep_p = f(1.0 - params["k_0"])
        self.kb_inv = (params["k_b"] * pc.inverse_third(c)).astype(dt)[:, :, None]  # (N, N, 1), diagonal 0
        self.keep = f(1.0 - params["k_a"] - params["k_r"])
        self.ka, self.kr, self.sigma = f(params["k_a"]), f(params["k_r"]), f(params["sigma"])
        self.rng = np.random.Generator(np.random.PCG64(seed))
        w3, w4 = (n, n, runs), (n, n, d, runs)
        self.W, self.new, self.tmp, self.bal, self.xi, self.weight, self.target, self.dist = (
            np.empty(w3, dt) for _ in range(8))
        self.P, self.drift = np.empty((n, d, runs), dt), np.empty((n, d, runs), dt)
        self.X, self.absX, self.sgnX, self.term = (np.empty(w4, dt) for _ in range(4))
        self.gt, self.lt = np.empty(w4, np.int8), np.empty(w4, np.int8)

    def nbytes(self):
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))

    # State, in (R, N, N) and (R, N, D) as pc.check() uses it

    def set_state(self, W, P):
        self.W[...] = W.transpose(1, 2, 0)
        self.P[...] = P.transpose(1, 2, 0)
        self.differences()

    def state(self):
        return self.W.transpose(2, 0, 1), self.P.transpose(2, 0, 1)

    def start(self, p):
        """Every run at positions p (N, D), W at their affinity with a zero diagonal."""
        self.P[...] = p[:, :, None]
        self.differences()
        self.affinity()
        np.subtract(1, self.dist, out=self.W)
        self.zero_diagonal(self.W)

    # The month

    def zero_diagonal(self, a):
        for i in range(self.n):
            a[i, i] = 0

    def differences(self):
        """X[i,j,d] = P[j,d] - P[i,d], |X| and sgn(X), from the current positions."""
        P, X = self.P, self.X
        np.subtract(P[None, :, :, :], P[:, None, :, :], out=X)
        np.abs(X, out=self.absX)
        np.greater(X, 0, out=self.gt.view(bool))
        np.less(X, 0, out=self.lt.view(bool))
        np.subtract(self.gt, self.lt, out=self.sgnX, casting="unsafe")

    def affinity(self):
        """dist[i,j] = sum_d s[i,d] |P[i,d] - P[j,d]| (A = 1 - dist)."""
        np.multiply(self.absX, self.s, out=self.term)
        np.sum(self.term, axis=2, out=self.dist)

    def interests(self):
        """Moves P from the state at the start of the month, then refreshes X, |X| and sgn(X)."""
        W, P, term = self.W, self.P, self.term
        np.abs(W, out=self.weight)
        self.weight *= self.kpc                                             # w[i,j] = k_p c_j |W[i,j]| / ...
        np.subtract(1, W, out=self.target)                                 # 1 - W[i,j]
        np.subtract(self.absX, self.target[:, :, None, :], out=term)       # |x| - (1 - W)
        term *= self.sgnX
        term *= self.weight[:, :, None, :]
        np.sum(term, axis=1, out=self.drift)                               # sum over j
        P *= self.keep_p                                                   # + k_0 (anchor - p)
        P += self.k0_anchor
        P += self.drift
        np.clip(P, -1, 1, out=P)
        self.differences()

    def balance_numerator(self, W, out, tmp):
        """out[i,j] = sum_k c_k W[i,k] W[k,j] (the k = i, j terms are 0: zero diagonal)."""
        if self.balance == "einsum":
            np.einsum("ikr,k,kjr->ijr", W, self.c, W, out=out, optimize=False)
        else:  # loop over the third party k, each a whole-array operation
            np.multiply(W[:, 0:1, :], W[0:1, :, :], out=out)
            out *= self.c[0]
            for k in range(1, self.n):
                np.multiply(W[:, k:k + 1, :], W[k:k + 1, :, :], out=tmp)
                tmp *= self.c[k]
                out += tmp
        return out

    def alignment(self, xi):
        W, new, tmp, bal = self.W, self.new, self.tmp, self.bal
        self.balance_numerator(W, bal, tmp)
        bal *= self.kb_inv                                  # k_b * B, diagonal -> 0
        np.multiply(W, self.keep, out=new)                  # (1 - k_a - k_r) W
        new += self.ka                                      # + k_a (1 - dist)
        np.multiply(self.dist, self.ka, out=tmp)
        new -= tmp
        np.multiply(W.transpose(1, 0, 2), self.kr, out=tmp)  # + k_r W^T
        new += tmp
        new += bal
        np.multiply(xi, self.sigma, out=tmp)                # + sigma xi
        new += tmp
        np.clip(new, -1, 1, out=new)
        self.zero_diagonal(new)
        self.W, self.new = new, W

    def month(self, xi=None):
        """One month for every run. xi: the standard normals, (R, N, N) (as pc.check() gives them); drawn if None."""
        if xi is None:
            xi = self.xi
            self.rng.standard_normal(out=xi, dtype=self.dtype)
        else:
            xi = xi.transpose(1, 2, 0)
        self.interests()
        self.affinity()
        self.alignment(xi)

    def run(self, months):
        for _ in range(months):
            self.month()


def make_peer(balance):
    """The factory pc.check() needs."""
    return lambda runs, c, s, anchor, params, dtype: Peer(runs, c, s, anchor, params, dtype=dtype, balance=balance)


def main(argv=None):
    ap = pc.argument_parser("alignsim's monthly dynamics (no events) in NumPy, vectorised across runs; reports "
                            "run-steps per second.", 100000)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--balance", choices=BALANCE_CHOICES, default="loop", help="how the balance term is computed")
    ap.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="runs advanced together; 0: all")
    ap.add_argument("--max-gb", type=float, default=2.0, help="refuse if the state would need more memory")
    args = ap.parse_args(argv)

    if args.check:
        return 0 if pc.check(make_peer(args.balance), args.dtype, f"numpy, balance={args.balance}") else 1
    pc.validate_sizes(ap, args)
    if args.chunk < 0:
        ap.error("need --chunk >= 0")
    try:
        params = pc.parameters_from_args(args)
    except pc.InputError as e:
        return pc.fail(str(e))
    chunk = min(args.chunk or args.runs, args.runs)
    item = np.dtype(args.dtype).itemsize
    need = chunk * (8 * args.agents**2 + 2 * args.agents * args.issues + 6 * args.agents**2 * args.issues) * item
    if need > args.max_gb * 2**30:
        ap.error(f"{chunk} runs at a time need {need / 2**30:.2f} GiB of state, over --max-gb {args.max_gb:g}")

    c, p, s = pc.random_model(args.agents, args.issues, args.seed)
    times = []
    for rep in range(args.repeat):
        seconds = 0.0
        for first in range(0, args.runs, chunk):
            runs = min(chunk, args.runs - first)
            peer = Peer(runs, c, s, p, params, dtype=args.dtype, balance=args.balance,
                        seed=(args.seed, rep, first))
            peer.start(p)
            t0 = time.perf_counter()
            peer.run(args.months)
            seconds += time.perf_counter() - t0
            if not (np.all(np.isfinite(peer.W)) and np.all(np.isfinite(peer.P))):
                print("error: non-finite state", file=sys.stderr)
                return 1
        times.append(seconds)
    best = min(times)
    rate = args.runs * args.months / best
    print(f"numpy peer: {args.runs} runs x {args.months} months x {args.agents} agents x {args.issues} issues, "
          f"{args.dtype}, balance={args.balance}, {chunk} runs at a time, 1 thread: best of {args.repeat} "
          f"{best:.3f} s ({', '.join(f'{t:.3f}' for t in times)}) = {rate:,.0f} run-steps/s")
    if args.json:
        note = f"{args.runs} runs, 1 thread, no events, {args.dtype}, {args.balance}, chunks of {chunk}"
        pc.write_json(args.json, "numpy_peer", args, params, times, note,
                      {"dtype": args.dtype, "balance": args.balance, "chunk": chunk}, {})
    return 0


if __name__ == "__main__":
    sys.exit(main())
