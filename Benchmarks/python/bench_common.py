"""What every baseline script shares: read the dataset folder, time one fit per seed, score the
endmembers (mean SAD after Hungarian matching), print {median_seconds, sad_mean} for unmix-bench.

usage of a baseline: python3 X_baseline.py DATASET_DIR REPEAT [KEY=VALUE ...]

KEY=VALUE are the plugin parameters unmix-bench was given with --set. A baseline declares the
ones it supports, with their defaults, in main(fit, params={...}) and reads them with param();
any other fails the run before anything is timed (exit 2), so a row never compares our plugin
with a baseline that ran other settings.
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


_params = {}


def param(name):
    """The value of a parameter declared in main(params=...), as given by --set or its default."""
    return _params[name]


def _parse(text, default):
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(text)
        return text.lower() in ("true", "1")
    return type(default)(text)


def main(fit, dtype=np.float64, max_repeat=None, params=None):
    """fit(cube, r, seed) -> endmembers (R x B) runs once per seed and is timed whole.
    params: the plugin parameters this baseline honours, with their defaults."""
    folder, repeat = sys.argv[1], int(sys.argv[2])
    _params.update(params or {})
    for setting in sys.argv[3:]:
        key, _, value = setting.partition("=")
        if key not in _params:
            print(f"baseline does not support {key}", file=sys.stderr)
            sys.exit(2)
        try:
            _params[key] = _parse(value, _params[key])
        except ValueError:
            print(f"baseline: bad value for {key}: {value}", file=sys.stderr)
            sys.exit(2)
    if max_repeat is not None:
        repeat = min(repeat, max_repeat)
    cube = np.load(f"{folder}/cube.npy").astype(dtype)
    truth = np.load(f"{folder}/endmembers.npy").astype(np.float64)
    times, sads = [], []
    for seed in range(repeat):
        t0 = time.perf_counter()
        endmembers = fit(cube, truth.shape[0], seed)
        times.append(time.perf_counter() - t0)
        sads.append(mean_sad(truth, np.asarray(endmembers, dtype=np.float64)))
    print(json.dumps({"median_seconds": float(np.median(times)), "sad_mean": float(np.mean(sads))}))
