"""What every baseline script shares: read the dataset folder, time one fit per seed, score the
endmembers (mean SAD after Hungarian matching), print {median_seconds, sad_mean} for unmix-bench.

usage of a baseline: python3 X_baseline.py DATASET_DIR REPEAT [KEY=VALUE ...]

KEY=VALUE are the plugin parameters unmix-bench was given with --set; a baseline reads those it
supports with param(). One it never reads fails the run (exit 2), so a row never compares our
plugin with a baseline that ran other settings.
"""
import json
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def mean_sad(truth, estimate):
    """Mean spectral angle between matched rows of truth (R x B) and estimate (R x B)."""
    tn = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    en = estimate / np.maximum(np.linalg.norm(estimate, axis=1, keepdims=True), 1e-300)
    sad = np.arccos(np.clip(tn @ en.T, -1, 1))
    rows, cols = linear_sum_assignment(sad)
    return float(sad[rows, cols].mean())


_settings = {}
_read = set()


def param(name, default):
    """The value of parameter `name` given on the command line, else `default` (same type)."""
    _read.add(name)
    return type(default)(_settings[name]) if name in _settings else default


def main(fit, dtype=np.float64, max_repeat=None):
    """fit(cube, r, seed) -> endmembers (R x B) runs once per seed and is timed whole."""
    folder, repeat = sys.argv[1], int(sys.argv[2])
    for setting in sys.argv[3:]:
        key, _, value = setting.partition("=")
        _settings[key] = value
    if max_repeat is not None:
        repeat = min(repeat, max_repeat)
    cube = np.load(f"{folder}/cube.npy").astype(dtype)
    truth = np.load(f"{folder}/endmembers.npy").astype(np.float64)
    times, sads = [], []
    for seed in range(repeat):
        t0 = time.perf_counter()
        endmembers = fit(cube, truth.shape[0], seed)
        times.append(time.perf_counter() - t0)
        unknown = set(_settings) - _read
        if unknown:
            print(f"baseline does not support: {', '.join(sorted(unknown))}", file=sys.stderr)
            sys.exit(2)
        sads.append(mean_sad(truth, np.asarray(endmembers, dtype=np.float64)))
    print(json.dumps({"median_seconds": float(np.median(times)), "sad_mean": float(np.mean(sads))}))
