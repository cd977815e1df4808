#!/usr/bin/env python3
"""mmcl's `analytic` head re-implemented in numpy and scikit-learn, timed per learn step.

The same head as src/learn/strategies/analytic.rs: embeddings L2-normalized, random features
h = relu(S H D x) (SRHT: random signs D, Walsh-Hadamard H over the input zero-padded to N = 2^k,
P rows S), G += H^T H, Q += H^T Y (one-hot), W = (G + lambda I)^-1 Q by Cholesky. Each learn step
is ONE new class of 200 windows at D = 2304; the synthetic data follow the same recipe as
benches/learn.rs (low-rank class-structured latent, block-normalized), drawn with numpy's RNG.

Three Python versions, as a Python user would write them:
  numpy-fwht   the same incremental algorithm, FWHT vectorized with numpy butterflies
  numpy-dense  incremental, the SRHT precomputed once as a dense P x D matrix (one BLAS gemm)
  sklearn      keep every embedding, refit Ridge(alpha=lambda, solver="cholesky") on all data
               seen at every step (projection through the same dense matrix)

Run (the venv is not part of the project):
    python3 -m venv /root/.venv-learn && /root/.venv-learn/bin/pip install numpy scikit-learn
    /root/.venv-learn/bin/python benches/python_head.py            # BLAS with its default threads
    OPENBLAS_NUM_THREADS=1 /root/.venv-learn/bin/python benches/python_head.py   # one core, like mmcl
and compare with `cargo bench --no-default-features --bench learn` (analytic line and split).
"""

import argparse
import os
import time

import numpy as np
import scipy.linalg
from sklearn.linear_model import Ridge

LATENT, ALPHA, WINDOWS, TEST = 64, 0.3, 200, 50


def synth(rng, dim, classes):
    mixing = rng.standard_normal((dim, LATENT)).astype(np.float32)
    shared = rng.standard_normal(LATENT).astype(np.float32)
    means = rng.standard_normal((classes, LATENT)).astype(np.float32)
    split = min(1280, dim // 2)

    def windows(c, n):
        z = shared + ALPHA * means[c] + rng.standard_normal((n, LATENT)).astype(np.float32)
        x = z @ mixing.T / np.sqrt(LATENT) + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
        for block in (slice(0, split), slice(split, dim)):
            x[:, block] /= np.linalg.norm(x[:, block], axis=1, keepdims=True)
        return x

    return windows


def fwht(x):
    """Unnormalized Walsh-Hadamard transform along axis 1 (length a power of two)."""
    n, length = x.shape
    h = 1
    while h < length:
        y = x.reshape(n, length // (2 * h), 2, h)
        a, b = y[:, :, 0, :], y[:, :, 1, :]
        x = np.stack((a + b, a - b), axis=2).reshape(n, length)
        h *= 2
    return x


class Srht:
    def __init__(self, rng, dim, p):
        self.dim, self.n = dim, 1 << (dim - 1).bit_length()
        self.signs = np.where(rng.random(dim) < 0.5, -1.0, 1.0).astype(np.float32)
        self.rows = np.sort(rng.choice(self.n, p, replace=False))
        eye = np.zeros((dim, self.n), dtype=np.float32)
        eye[:, :dim] = np.diag(self.signs)
        self.dense = np.ascontiguousarray(fwht(eye)[:, self.rows].T)  # P x D, same map

    def fast(self, xn):
        padded = np.zeros((xn.shape[0], self.n), dtype=np.float32)
        padded[:, : self.dim] = xn * self.signs
        return np.maximum(fwht(padded)[:, self.rows], 0.0)

    def gemm(self, xn):
        return np.maximum(xn @ self.dense.T, 0.0)


def normalize(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)


class Incremental:
    """The streaming head: G, Q accumulated; W re-solved by Cholesky at each step."""

    def __init__(self, proj, p, ridge, dense):
        self.proj, self.ridge, self.dense = proj, ridge, dense
        self.g, self.q, self.w = np.zeros((p, p)), np.zeros((p, 0)), None
        self.split = [0.0, 0.0, 0.0]

    def learn(self, x, c):
        t0 = time.perf_counter()
        xn = normalize(x)
        h = (self.proj.gemm(xn) if self.dense else self.proj.fast(xn)).astype(np.float64)
        t1 = time.perf_counter()
        self.g += h.T @ h
        self.q = np.hstack((self.q, np.zeros((self.q.shape[0], 1))))
        self.q[:, c] += h.sum(axis=0)
        t2 = time.perf_counter()
        factor = scipy.linalg.cho_factor(self.g + self.ridge * np.eye(len(self.g)), lower=True)
        self.w = scipy.linalg.cho_solve(factor, self.q)
        t3 = time.perf_counter()
        for i, t in enumerate((t1 - t0, t2 - t1, t3 - t2)):
            self.split[i] += t

    def predict(self, x):
        return (self.proj.gemm(normalize(x)) @ self.w).argmax(axis=1)


class Refit:
    """What a scikit-learn user writes: keep everything, refit Ridge on all data seen."""

    def __init__(self, proj, ridge):
        self.proj, self.ridge, self.x, self.y, self.model = proj, ridge, [], [], None

    def learn(self, x, c):
        self.x.append(x)
        self.y.append(np.full(len(x), c))
        xs, ys = np.vstack(self.x), np.concatenate(self.y)
        targets = np.eye(c + 1)[ys]
        self.model = Ridge(alpha=self.ridge, fit_intercept=False, solver="cholesky")
        self.model.fit(self.proj.gemm(normalize(xs)), targets)

    def predict(self, x):
        return self.model.predict(self.proj.gemm(normalize(x))).argmax(axis=1)


def run(name, head, data, tests, classes):
    times = []
    for c in range(classes):
        start = time.perf_counter()
        head.learn(data[c], c)
        times.append((time.perf_counter() - start) * 1e3)
    right = sum(int((head.predict(tests[c]) == c).sum()) for c in range(classes))
    print(f"{name:>12}  median {np.median(times):8.2f} ms  mean {np.mean(times):8.2f} ms  "
          f"last {times[-1]:8.2f} ms  accuracy {right / (classes * TEST):.3f}")
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=2304)
    ap.add_argument("--classes", type=int, default=16)
    ap.add_argument("--p", type=int, default=512)
    ap.add_argument("--ridge", type=float, default=10.0)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    windows = synth(rng, args.dim, args.classes)
    data = [windows(c, WINDOWS) for c in range(args.classes)]
    tests = [windows(c, TEST) for c in range(args.classes)]
    proj = Srht(rng, args.dim, args.p)
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    print(f"python analytic head: D = {args.dim}, P = {args.p}, lambda = {args.ridge}, "
          f"{args.classes} steps of {WINDOWS} windows, BLAS threads {threads}")
    fast = Incremental(proj, args.p, args.ridge, dense=False)
    run("numpy-fwht", fast, data, tests, args.classes)
    dense = Incremental(proj, args.p, args.ridge, dense=True)
    run("numpy-dense", dense, data, tests, args.classes)
    n = args.classes
    for label, head in (("numpy-fwht", fast), ("numpy-dense", dense)):
        p, a, s = (1e3 * t / n for t in head.split)
        print(f"  {label} split (mean): projection {p:.2f} ms, accumulate {a:.2f} ms, solve {s:.2f} ms")
    run("sklearn", Refit(proj, args.ridge), data, tests, args.classes)


if __name__ == "__main__":
    main()
