"""Baseline for unmix-bench: VCA + FCLS the way the Python reference pipeline computes it.

The reference (Laadr/VCA, a port of Nascimento & Bioucas-Dias' vca.m) takes a full SVD of the
B x B scatter matrix and the abundances come from scipy's NNLS on the sum-to-one augmented system
([delta*E; 1], [delta*y; 1]) pixel by pixel. This file re-implements that pipeline in our own
words with numpy/scipy, so both sides are timed on the same cube in the same run.

usage: python3 vca_baseline.py DATASET_DIR REPEAT   -> prints JSON {median_seconds, sad_mean}
"""

import numpy as np

import bench_common
from scipy.optimize import nnls


def vca(y, r, rng):
    b, p = y.shape
    y_m = y.mean(axis=1, keepdims=True)
    y_o = y - y_m
    u = np.linalg.svd(y_o @ y_o.T / p)[0][:, :r]
    x_p = u.T @ y_o
    p_y = np.sum(y ** 2) / p
    p_x = np.sum(x_p ** 2) / p + float(np.sum(y_m ** 2))
    snr = 10 * np.log10((p_x - r / b * p_y) / (p_y - p_x))
    if snr < 15 + 10 * np.log10(r):
        d = r - 1
        ud = u[:, :d]
        x = x_p[:d]
        proj = ud @ x + y_m
        c = np.sqrt(np.max(np.sum(x ** 2, axis=0)))
        yy = np.vstack([x, c * np.ones((1, p))])
    else:
        ud = np.linalg.svd(y @ y.T / p)[0][:, :r]
        x = ud.T @ y
        proj = ud @ x
        u_mean = x.mean(axis=1, keepdims=True)
        yy = x / (u_mean.T @ x)
    a = np.zeros((r, r))
    a[r - 1, 0] = 1
    idx = np.zeros(r, dtype=int)
    for i in range(r):
        w = rng.random((r, 1))
        f = w - a @ np.linalg.pinv(a) @ w
        f /= np.linalg.norm(f)
        idx[i] = np.argmax(np.abs(f.T @ yy))
        a[:, i] = yy[:, idx[i]]
    return proj[:, idx]


def fcls(e, y, delta=1e-3):
    r = e.shape[1]
    m = np.vstack([delta * e, np.ones((1, r))])
    out = np.empty((y.shape[1], r))
    for k in range(y.shape[1]):
        out[k] = nnls(m, np.concatenate([delta * y[:, k], [1.0]]))[0]
    return out


def fit(cube, r, seed):
    y = cube.reshape(-1, cube.shape[-1]).T
    e = vca(y, r, np.random.default_rng(seed))
    fcls(e, y)
    return e.T

if __name__ == "__main__":
    bench_common.main(fit)
