"""Baseline for unmix-bench: BLU (Dobigeon et al., IEEE TSP 2009) the way its MATLAB reference
computes it, re-implemented in our own words with numpy/scipy.

Start: VCA endmembers (vca_baseline.vca) in absolute value, projection on the R-1 leading
eigenvectors of the centred scatter matrix, FCLS abundances (vca_baseline.fcls). Then Nmc - 1
Gibbs sweeps (the reference's `while m < Nmc`): sigma^2 (inverse gamma), abundances (one random
dependent component per sweep, 5 inner Gibbs sweeps of univariate truncated normals; vectorised
over pixels here with scipy.stats.truncnorm, where the reference loops over pixels), endmember
coordinates (truncated to non-negative spectra). MMSE = means after Nbi = Nmc // 3 sweeps.
Nmc = 100, prior variance 10 (HySUPP's settings).

usage: python3 blu_baseline.py DATASET_DIR REPEAT   -> prints JSON {median_seconds, sad_mean}
"""
import os
import sys

import numpy as np

import bench_common
from scipy.stats import truncnorm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vca_baseline import fcls, vca  # noqa: E402


def tn(mean, sd, lo, hi, rng):
    """N(mean, sd^2) truncated to [lo, hi], elementwise (the clamped mean on empty intervals)."""
    scalar = np.ndim(mean) == 0
    mean, lo, hi = (np.atleast_1d(np.asarray(v, float)) for v in (mean, lo, hi))
    mean, lo, hi = np.broadcast_arrays(mean, lo, hi)
    a, b = (lo - mean) / sd, (hi - mean) / sd
    out = np.array(np.clip(mean, lo, hi), dtype=float)
    ok = b > a
    if np.any(ok):
        out[ok] = truncnorm.rvs(a[ok], b[ok], loc=mean[ok], scale=sd, random_state=rng)
    out = np.clip(out, lo, hi)
    return float(out[0]) if scalar else out


def blu(y, r, rng, nmc=100, s2=10.0):
    b, p = y.shape
    l = r - 1
    ybar = y.mean(axis=1, keepdims=True)
    yc = y - ybar
    w, v = np.linalg.eigh(yc @ yc.T)
    u = v[:, np.argsort(w)[::-1][:l]]                      # B x L
    m = np.abs(vca(y, r, rng))                             # B x R
    t = u.T @ (m - ybar)                                   # L x R
    e = t.copy()
    a = fcls(m, y).T                                       # R x P
    nbi = nmc // 3
    sum_a, sum_t, kept = np.zeros_like(a), np.zeros_like(t), 0
    for sweep in range(1, nmc):
        res = np.sum((y - m @ a) ** 2)
        sigma2 = 1 / rng.gamma(p * b / 2, 1 / (res / 2))
        # Abundances.
        order = rng.permutation(r)
        dep, c = order[-1], order[:-1]
        d = m[:, c] - m[:, [dep]]
        q = d.T @ d                                        # precision x sigma^2
        mu = np.linalg.solve(q, d.T @ (y - m[:, [dep]]))   # L x P
        x = a[c].copy()
        for _ in range(5):
            for k in rng.permutation(l):
                others = [j for j in range(l) if j != k]
                mean = mu[k] - (q[k, others] / q[k, k]) @ (x[others] - mu[others])
                upper = np.maximum(1 - x[others].sum(axis=0), 0)
                sd = np.sqrt(sigma2 / q[k, k])
                x[k] = tn(mean, sd, 0.0, upper, rng)
        a[c] = x
        a[dep] = np.maximum(1 - x.sum(axis=0), 0)
        # Endmember coordinates.
        for rr in rng.permutation(r):
            others = [j for j in range(r) if j != rr]
            prec = (a[rr] @ a[rr] / sigma2) * (u.T @ u) + np.eye(l) / s2
            delta = y - m[:, others] @ a[others] - ybar * a[rr]
            mu_t = np.linalg.solve(prec, u.T @ (delta @ a[rr]) / sigma2 + e[:, rr] / s2)
            for k in rng.permutation(l):
                rest = [j for j in range(l) if j != k]
                mean = mu_t[k] - (prec[k, rest] / prec[k, k]) @ (t[rest, rr] - mu_t[rest])
                sd = np.sqrt(1 / prec[k, k])
                base = ybar[:, 0] + u[:, rest] @ t[rest, rr]
                bound = -base / u[:, k]
                lo = max(bound[u[:, k] > 0].max(initial=-np.inf), -1e300)
                hi = min(bound[u[:, k] < 0].min(initial=np.inf), 1e300)
                if lo <= hi:
                    t[k, rr] = tn(mean, sd, lo, hi, rng)
            m[:, rr] = u @ t[:, rr] + ybar[:, 0]
        if sweep > nbi:
            sum_a += a
            sum_t += t
            kept += 1
    return u @ (sum_t / kept) + ybar, sum_a / kept


def fit(cube, r, seed):
    e, _ = blu(cube.reshape(-1, cube.shape[-1]).T, r, np.random.default_rng(seed))
    return e.T

if __name__ == "__main__":
    bench_common.main(fit)
