"""Baseline for unmix-bench: the ICA plugin's default (hyperspy) mode, the way HyperSpy computes it.

HyperSpy itself is not needed here (Tests/Fixtures/hyperspy-ica/measure.py runs the real one in the
fixture venv and agrees to 1e-4 rad of SAD); its pipeline, as read in HyperSpy 2.5's
hyperspy/learn/_mva.py and _whitening.py, is re-implemented in our own words with numpy +
scikit-learn's FastICA, which is what HyperSpy calls:
  decomposition(): full SVD of the P x B data, no centring; factors = V, loadings = U*S,
    explained variance ~ S**2;
  blind_source_separation(R): first R factors, first derivative along energy (diff_order=1,
    numpy.gradient: central differences, as HyperSpy 2's derivative(); HyperSpy 1 took np.diff),
    PCA whitening (centre, C = Y'Y/n, SVD, W = U'/sqrt(S+1e-10)), FastICA(tol=1e-10) with its own
    whitening off, w = unmixing @ W, sort by explained_variance[:R] @ |w'| descending,
    bss_factors = F @ w', bss_loadings = L @ inv(w), sign flip where min < 0 and |min| > max.
Both sides are timed on the same cube in the same run (fit + abundances: the loadings).

usage: python3 ica_baseline.py DATASET_DIR REPEAT   -> prints JSON {median_seconds, sad_mean}
"""
import warnings

import numpy as np

import bench_common
from sklearn.decomposition import FastICA
from sklearn.exceptions import ConvergenceWarning


def hyperspy_bss(x, r, seed):
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    factors = vt[:r].T
    loadings = u[:, :r] * s[:r]
    variance = s[:r] ** 2
    y = np.gradient(factors, axis=0)
    y = y - y.mean(axis=0)
    cu, cs, _ = np.linalg.svd(y.T @ y / y.shape[0], full_matrices=False)
    whitening = (cu / np.sqrt(cs + 1e-10)).T
    y = y @ whitening.T
    ica = FastICA(whiten=False, tol=1e-10, max_iter=200, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ica.fit(y)
    w = ica.components_ @ whitening
    w = w[np.argsort(variance @ np.abs(w.T))[::-1]]
    bss_factors = factors @ w.T
    bss_loadings = loadings @ np.linalg.inv(w)
    for j in range(r):
        f = bss_factors[:, j]
        if f.min() < 0 and -f.min() > f.max():
            bss_factors[:, j] *= -1
            bss_loadings[:, j] *= -1
    return bss_factors.T, bss_loadings


def fit(cube, r, seed):
    e, _ = hyperspy_bss(cube.reshape(-1, cube.shape[-1]), r, seed)
    return e

if __name__ == "__main__":
    bench_common.main(fit)
