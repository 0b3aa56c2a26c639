"""Baseline for unmix-bench: uDAS (Qu & Qi, IEEE TGRS 2019) the way its MATLAB reference
(aicip/uDAS) computes it, re-implemented in our own words with numpy.

Cube divided by its global maximum. 12 closed-form mDA passes (p = 1e-5, ridge 1); the denoising
constraint is the last pass's map on the input (the reference's overwrite). VCA
(vca_baseline.vca) on the denoised data, one run; FCLS (vca_baseline.fcls); one iteration of
Lin's projected-gradient NMF (H step with a row of 20s appended). Encoder W1 = H pinv(X). Then 10
alternations: decoder by projected gradient in [0, 1] (gamma = 1e-4), encoder by one descent step
of the reference's cost and gradient (ReLU mask 1, l2,1 gradient without 0.5), first step
min(1, 1/|g|_1), strong Wolfe (c1 1e-4, c2 0.2) by doubling and bisection (minFunc: cubic
interpolation). Endmembers multiplied back by the maximum.

usage: python3 udas_baseline.py DATASET_DIR REPEAT   -> prints JSON {median_seconds, sad_mean}
"""
import os
import sys

import numpy as np

import bench_common

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vca_baseline import fcls, vca  # noqa: E402


def mda(x, p, ridge):
    """One marginalised denoising layer on x (d x n): its map (d x d+1) and output."""
    d = x.shape[0]
    xb = np.vstack([x, np.ones((1, x.shape[1]))])
    s = xb @ xb.T
    q = np.full(d + 1, 1 - p)
    q[-1] = 1
    big_q = s * np.outer(q, q)
    np.fill_diagonal(big_q, q * np.diag(s))
    pm = s[:d, :] * q[None, :]
    reg = ridge * np.eye(d + 1)
    reg[-1, -1] = 0
    w = np.linalg.solve(big_q + reg, pm.T).T
    return w, (1 - p) * (w @ xb)


def nls(gram, prod, x, tol, maxiter, upper=None):
    """Lin's nlssubprob on 0.5|V - AX|^2 given A'A and A'V, optionally boxed above."""
    alpha, beta = 1.0, 0.1
    clip = (lambda z: np.clip(z, 0, upper)) if upper is not None else (lambda z: np.maximum(z, 0))
    for it in range(1, maxiter + 1):
        grad = gram @ x - prod
        if np.linalg.norm(grad[(grad < 0) | (x > 0)]) < tol:
            break
        for inner in range(20):
            xn = clip(x - alpha * grad)
            d = xn - x
            suff = 0.99 * np.sum(grad * d) + 0.5 * np.sum((gram @ d) * d) < 0
            if inner == 0:
                decr, xp = not suff, x
            if decr:
                if suff:
                    x = xn
                    break
                alpha *= beta
            else:
                if not suff or np.array_equal(xp, xn):
                    x = xp
                    break
                alpha /= beta
                xp = xn
    return x, grad, it


def encoder_cost(w1, x, v, w, lam):
    n = x.shape[1]
    a = np.maximum(w1 @ x, 0)
    waug = np.vstack([w, 20 * np.ones((1, w.shape[1]))])
    diff = waug @ a - np.vstack([v, 20 * np.ones((1, n))])
    norms = np.linalg.norm(w1, axis=1)
    cost = 0.5 / n * np.sum(diff ** 2) + 0.5 * lam * norms.sum()
    grad = (waug.T @ diff) @ x.T / n + lam * w1 / np.maximum(norms, 1e-300)[:, None]
    return cost, grad


def encoder_step(w1, x, v, w, lam):
    f0, g0 = encoder_cost(w1, x, v, w, lam)
    if np.abs(g0).sum() <= 1e-5:
        return w1
    d = -g0
    s0 = np.sum(g0 * d)
    t, lo, hi, best = min(1.0, 1 / np.abs(g0).sum()), 0.0, np.inf, (0.0, f0)
    for _ in range(25):
        f, g = encoder_cost(w1 + t * d, x, v, w, lam)
        s = np.sum(g * d)
        if f < best[1]:
            best = (t, f)
        if f > f0 + 1e-4 * t * s0 or s > 0:
            hi = t
        elif abs(s) <= -0.2 * s0:
            return w1 + t * d
        else:
            lo = t
        t = 0.5 * (lo + hi) if np.isfinite(hi) else 2 * t
    return w1 + best[0] * d


def fit(cube, r, seed):
    y = cube.reshape(-1, cube.shape[-1])
    scale = y.max()
    x = (y / scale).T                                          # D x n
    n = x.shape[1]
    v = x
    for _ in range(12):
        wlast, v = mda(v, 1e-5, 1.0)
    target = wlast @ np.vstack([x, np.ones((1, n))])
    w = vca(v, r, np.random.default_rng(seed))                 # D x c
    h = fcls(w, v).T                                           # c x n
    grad_w = w @ (h @ h.T) - v @ h.T
    grad_h = (w.T @ w) @ h - w.T @ v
    tol0 = 0.001 * np.sqrt(np.sum(grad_w ** 2) + np.sum(grad_h ** 2))
    w = nls(h @ h.T, h @ v.T, w.T, tol0, 1000)[0].T
    waug = np.vstack([w, 20 * np.ones((1, r))])
    h = nls(waug.T @ waug, waug.T @ np.vstack([v, 20 * np.ones((1, n))]), h, tol0, 1000)[0]
    w1 = h @ np.linalg.pinv(x)
    gamma, lam = 1e-4, 1e-6 * np.sqrt(n / 1000)
    grad_w = w @ (h @ h.T) * (1 + gamma) - (v + gamma * target) @ h.T
    init = np.linalg.norm(grad_w)
    tol_w = 0.001 * init
    for _ in range(10):
        if np.linalg.norm(grad_w[(grad_w < 0) | (w > 0)]) < 1e-6 * init:
            break
        wt, gt, it = nls((1 + gamma) * h @ h.T, h @ (v + gamma * target).T, w.T, tol_w, 1000, upper=1)
        w, grad_w = wt.T, gt.T
        if it == 1:
            tol_w *= 0.1
        w1 = encoder_step(w1, x, v, w, lam)
        h = np.maximum(w1 @ x, 0)
    return (w * scale).T


if __name__ == "__main__":
    bench_common.main(fit, max_repeat=2)
