#!/usr/bin/env python3
"""The NumPy peer: alignsim's monthly step, without events, vectorised across runs.

    /usr/bin/python3 bench/peer_numpy.py --runs 100000 --months 641 --agents 5 [--repeat 3] [--json OUT]
    /usr/bin/python3 bench/peer_numpy.py --check

What a careful researcher would write in NumPy to get the model's ensemble without the C++ engine,
for the benchmark to compare against. Every run advances together; the state is one array W of
shape (R, N, N) (runs, agent, other), in float32 by default (the engine's precision; --dtype
float64 for NumPy's default). Each month, for all i != j at once (docs/model.md):

    W[i,j] <- clip( W[i,j] + k_a (A[i,j] - W[i,j]) + k_r (W[j,i] - W[i,j]) + k_b B[i,j] + sigma xi[i,j], -1, 1 )
    B[i,j]  = sum_{k != i,j} c_k W[i,k] W[k,j] / sum_{k != i,j} c_k
    A[i,j]  = 1 - sum_d s[i,d] |p[i,d] - p[j,d]|   (s normalised per agent), W starts at A, diagonal 0

Implementation: the diagonal of W is kept at 0, so the k = i and k = j terms of B vanish and the
numerator of B is the batched product (W * c) @ W (np.matmul over the run axis; --balance einsum or
loop for the alternatives); the 1 / sum_{k != i,j} c_k factor is a precomputed (N, N) array with a
zero diagonal, which also discards the diagonal of the product. The noise xi comes from
numpy.random.Generator(PCG64).standard_normal, drawn in place into a preallocated array, one
(R, N, N) block per month (the diagonal draws are wasted, 1/N of them). All updates are in place
into preallocated buffers; no temporaries in the loop. Parameters are the engine's defaults:
k_a = 0.05, k_r = 0.10, k_b = 0.05, sigma = 0.02. Interests are random (positions U(-1, 1),
saliences U(0, 1) normalised per agent, --issues of them), capabilities U(0.05, 0.5), all from --seed.

Measures: the time of the month loop (noise generation included; setup excluded), best of
--repeat; reports run-steps per second = runs * months / seconds. Single-threaded: the BLAS/OpenMP
thread counts are set to 1 before NumPy is imported. Nothing is stored or summarised: the engine's
figure includes events, summaries and the output file, so the comparison flatters the peer.

--check compares the vectorised step, with the same noise, against a plain-Python loop that
follows the formula literally (explicit sum over k != i, j, explicit clip), for a few runs and
several agent counts, over one step and over 24 steps, with small and large noise (the latter
drives the clip); and A against a loop. Exits 1 if any comparison fails.

JSON (--json): top-level keys runs, months, agents, seconds (best), run_steps_per_second, numpy_version,
dtype, then details (seconds_all, balance, issues, parameters, python, machine) and "results" in the
schema of bench/compare.py (one entry, name "numpy_peer"), so the file can be compared directly.
"""

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

K_A, K_R, K_B, SIGMA = 0.05, 0.10, 0.05, 0.02
BALANCE_CHOICES = ("matmul", "einsum", "loop")


# ------------------------------------------------------------------------------------------------
# Model set-up


def random_model(n, issues, seed):
    """Capabilities c (N,), positions p (N, D), saliences s (N, D) normalised per agent."""
    rng = np.random.Generator(np.random.PCG64(seed))
    c = rng.uniform(0.05, 0.5, n)
    p = rng.uniform(-1.0, 1.0, (n, issues))
    s = rng.uniform(0.0, 1.0, (n, issues))
    s /= s.sum(axis=1, keepdims=True)
    return c, p, s


def affinity(p, s):
    """A[i,j] = 1 - sum_d s[i,d] |p[i,d] - p[j,d]|, diagonal 0; s already normalised."""
    A = 1.0 - np.einsum("id,ijd->ij", s, np.abs(p[:, None, :] - p[None, :, :]))
    np.fill_diagonal(A, 0.0)
    return A


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
# The vectorised step


class Peer:
    """R runs of the N-agent model advanced together; W has shape (R, N, N)."""

    def __init__(self, runs, c, A, dtype=np.float32, params=(K_A, K_R, K_B, SIGMA), balance="matmul", seed=1):
        self.dtype = np.dtype(dtype)
        n = c.size
        ka, kr, kb, sigma = params
        self.ka, self.kr, self.kb, self.sigma = ka, kr, kb, sigma
        self.n, self.runs = n, runs
        self.c = c.astype(self.dtype)
        self.kaA = (ka * A).astype(self.dtype)                 # (N, N), diagonal 0
        self.kb_inv = (kb * inverse_third(c)).astype(self.dtype)  # (N, N), diagonal 0
        self.keep = self.dtype.type(1.0 - ka - kr)
        self.kr_ = self.dtype.type(kr)
        self.sigma_ = self.dtype.type(sigma)
        self.balance = balance
        self.rng = np.random.Generator(np.random.PCG64(seed))
        shape = (runs, n, n)
        self.W = np.empty(shape, self.dtype)
        self.W[...] = A.astype(self.dtype)
        self.new = np.empty(shape, self.dtype)
        self.tmp = np.empty(shape, self.dtype)
        self.bal = np.empty(shape, self.dtype)
        self.xi = np.empty(shape, self.dtype)
        self.diag = np.arange(n)

    def nbytes(self):
        return 5 * self.W.nbytes

    def balance_numerator(self, W, out, tmp):
        """out[r,i,j] = sum_k c_k W[r,i,k] W[r,k,j] (the k = i, j terms are 0: zero diagonal)."""
        if self.balance == "matmul":
            np.multiply(W, self.c, out=tmp)   # W[r,i,k] * c_k
            np.matmul(tmp, W, out=out)
        elif self.balance == "einsum":
            np.einsum("rik,k,rkj->rij", W, self.c, W, out=out, optimize=False)
        else:  # loop over the third party k, each a whole-array operation
            out[...] = 0
            for k in range(self.n):
                np.multiply(W[:, :, k:k + 1] * self.c[k], W[:, k:k + 1, :], out=tmp)
                out += tmp
        return out

    def step(self, xi=None):
        """One month for every run. xi: the standard normals (R, N, N) to use; drawn if None."""
        W, new, tmp, bal = self.W, self.new, self.tmp, self.bal
        if xi is None:
            xi = self.xi
            self.rng.standard_normal(out=xi, dtype=self.dtype)
        self.balance_numerator(W, bal, tmp)
        bal *= self.kb_inv                                  # k_b * B, diagonal -> 0
        np.multiply(W, self.keep, out=new)                  # (1 - k_a - k_r) W
        new += self.kaA                                     # + k_a A
        np.multiply(W.transpose(0, 2, 1), self.kr_, out=tmp)  # + k_r W^T
        new += tmp
        new += bal
        np.multiply(xi, self.sigma_, out=tmp)               # + sigma xi
        new += tmp
        np.clip(new, -1, 1, out=new)
        new[:, self.diag, self.diag] = 0
        self.W, self.new = new, W

    def run(self, months):
        for _ in range(months):
            self.step()


# ------------------------------------------------------------------------------------------------
# The plain-Python reference, for --check


def reference_affinity(p, s):
    n, d = len(p), len(p[0])
    A = [[0.0] * n for _ in range(n)]
    for i in range(n):
        total = sum(s[i][e] for e in range(d))
        for j in range(n):
            if i != j:
                A[i][j] = 1.0 - sum(s[i][e] * abs(p[i][e] - p[j][e]) for e in range(d)) / total
    return A


def reference_step(W, A, c, xi, params):
    """One month of one run, literally from the formula. W, A: lists of lists; xi: (N, N) normals."""
    ka, kr, kb, sigma = params
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
            x = W[i][j] + ka * (A[i][j] - W[i][j]) + kr * (W[j][i] - W[i][j]) + kb * B + sigma * xi[i][j]
            out[i][j] = min(1.0, max(-1.0, x))
    return out


def check(dtype, balance):
    rng = np.random.default_rng(12345)
    tol = 2e-5 if np.dtype(dtype) == np.float32 else 1e-12
    ok = True
    for n in (2, 3, 5, 8):
        c, p, s_raw = rng.uniform(0.05, 0.5, n), rng.uniform(-1, 1, (n, 4)), rng.uniform(0, 1, (n, 4))
        s = s_raw / s_raw.sum(axis=1, keepdims=True)
        A = affinity(p, s)
        A_ref = np.array(reference_affinity(p.tolist(), s_raw.tolist()))
        err_a = np.max(np.abs(A - A_ref))
        line = f"N={n}: affinity max |diff| {err_a:.1e}"
        ok &= err_a < 1e-12
        for sigma, months in ((SIGMA, 1), (SIGMA, 24), (0.8, 1), (0.8, 24)):
            params = (K_A, K_R, K_B, sigma)
            R = 7
            peer = Peer(R, c, A, dtype=dtype, params=params, balance=balance)
            W0 = rng.uniform(-1, 1, (R, n, n))
            W0[:, np.arange(n), np.arange(n)] = 0
            peer.W[...] = W0
            ref = [W0[r].tolist() for r in range(R)]
            clipped = 0
            for _ in range(months):
                xi = rng.standard_normal((R, n, n))
                peer.step(xi.astype(peer.dtype))
                for r in range(R):
                    ref[r] = reference_step(ref[r], A.tolist(), c.tolist(), xi[r].tolist(), params)
                    clipped += sum(abs(v) == 1.0 for row in ref[r] for v in row)
            err = float(np.max(np.abs(peer.W.astype(np.float64) - np.array(ref))))
            good = err < tol * months
            ok &= good
            line += f"; sigma {sigma:g} x{months}: {err:.1e}{'' if good else ' FAIL'} ({clipped} clipped)"
        print(line)
    print(f"check ({np.dtype(dtype).name}, balance={balance}): {'passed' if ok else 'FAILED'}")
    return ok


# ------------------------------------------------------------------------------------------------


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "kernel": f"{platform.system()} "
            f"{platform.release()}", "python": platform.python_version(), "numpy": np.__version__}


def main(argv=None):
    ap = argparse.ArgumentParser(description="alignsim's monthly step (no events) in NumPy, vectorised across runs; "
                                 "reports run-steps per second.",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--runs", type=int, default=100000, help="runs advanced together (R)")
    ap.add_argument("--months", type=int, default=641, help="months per run")
    ap.add_argument("--agents", type=int, default=5, help="agents (N)")
    ap.add_argument("--issues", type=int, default=8, help="issues (D) of the random interests")
    ap.add_argument("--repeat", type=int, default=3, help="timings; the best is reported")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--balance", choices=BALANCE_CHOICES, default="matmul",
                    help="how the balance term is computed")
    ap.add_argument("--seed", type=int, default=1, help="seed of the interests and of the noise")
    ap.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT")
    ap.add_argument("--check", action="store_true", help="check the vectorised step against a plain-Python loop")
    ap.add_argument("--max-gb", type=float, default=2.0, help="refuse if the state would need more memory")
    args = ap.parse_args(argv)

    if args.check:
        return 0 if check(args.dtype, args.balance) else 1
    if args.runs < 1 or args.months < 1 or args.agents < 2 or args.repeat < 1:
        ap.error("need --runs >= 1, --months >= 1, --agents >= 2, --repeat >= 1")
    need = 5 * args.runs * args.agents**2 * np.dtype(args.dtype).itemsize
    if need > args.max_gb * 2**30:
        ap.error(f"{args.runs} runs need {need / 2**30:.2f} GiB of state, over --max-gb {args.max_gb:g}")

    c, p, s = random_model(args.agents, args.issues, args.seed)
    A = affinity(p, s)
    times = []
    for rep in range(args.repeat):
        peer = Peer(args.runs, c, A, dtype=args.dtype, balance=args.balance, seed=args.seed + rep)
        t0 = time.perf_counter()
        peer.run(args.months)
        times.append(time.perf_counter() - t0)
        if not np.all(np.isfinite(peer.W)):
            print("error: non-finite alignment", file=sys.stderr)
            return 1
    best = min(times)
    rate = args.runs * args.months / best
    print(f"numpy peer: {args.runs} runs x {args.months} months x {args.agents} agents, {args.dtype}, "
          f"balance={args.balance}, 1 thread: best of {args.repeat} {best:.3f} s "
          f"({', '.join(f'{t:.3f}' for t in times)}) = {rate:,.0f} run-steps/s "
          f"({peer.nbytes() / 2**20:.0f} MiB of state)")
    if args.json:
        out = {
            "runs": args.runs, "months": args.months, "agents": args.agents, "seconds": best,
            "run_steps_per_second": rate, "numpy_version": np.__version__, "dtype": args.dtype,
            "seconds_all": times, "repeat": args.repeat, "balance": args.balance, "issues": args.issues,
            "parameters": {"k_a": K_A, "k_r": K_R, "k_b": K_B, "sigma": SIGMA}, "threads": 1,
            "machine": machine(),
            "results": [{"name": "numpy_peer", "value": rate, "unit": "run-steps/s", "higher_is_better": True,
                         "note": f"{args.runs} runs, 1 thread, no events, {args.dtype}, {args.balance}"}],
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
