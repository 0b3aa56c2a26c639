"""HyperSpy 2.5's own ICA on unmix synth folders, scored as `unmix compare` scores endmembers.

Runs in the scratch venv (scripts/python-venv, plus scikit-learn):
    .build/fixture-venv/bin/python Tests/Fixtures/hyperspy-ica/measure.py DIR [DIR ...] [--states N]

For each synth folder: cube.npy loaded as it is stored (float32) into a plain hs.signals.Signal1D,
s.decomposition() with its defaults, s.blind_source_separation(R) with its defaults except
random_state = 0 … N−1 (HyperSpy's default is None: a fresh FastICA start every call). The BSS
factors (B × R) are scored against endmembers.npy: spectral angles, Hungarian matching, mean.
Prints one JSON line per folder: {"folder", "r", "sad": [per random_state], "mean", "min", "max"}.
"""
import json
import logging
import sys
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

import hyperspy.api as hs

logging.getLogger("hyperspy").setLevel(logging.ERROR)


def mean_sad(truth, estimate):
    """Mean spectral angle between matched rows of truth and estimate (both R × B)."""
    t = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    e = estimate / np.maximum(np.linalg.norm(estimate, axis=1, keepdims=True), 1e-300)
    angles = np.arccos(np.clip(t @ e.T, -1, 1))
    rows, cols = linear_sum_assignment(angles)
    return float(angles[rows, cols].mean())


def hyperspy_factors(cube, r, random_state):
    """BSS factors (B × R) of HyperSpy's decomposition() + blind_source_separation(r)."""
    s = hs.signals.Signal1D(cube)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s.decomposition(print_info=False)
        s.blind_source_separation(r, print_info=False, random_state=random_state)
    return np.asarray(s.learning_results.bss_factors, dtype=np.float64)


def main(argv):
    states = 10
    folders = []
    args = iter(argv)
    for a in args:
        if a == "--states":
            states = int(next(args))
        else:
            folders.append(a)
    for folder in folders:
        cube = np.load(f"{folder}/cube.npy")
        truth = np.load(f"{folder}/endmembers.npy").astype(np.float64)
        r = truth.shape[0]
        sads = [mean_sad(truth, hyperspy_factors(cube, r, k).T) for k in range(states)]
        print(json.dumps({"folder": folder, "r": r, "sad": sads, "mean": float(np.mean(sads)),
                          "min": float(np.min(sads)), "max": float(np.max(sads))}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
