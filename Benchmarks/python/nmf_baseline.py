"""Baseline for unmix-bench: scikit-learn's NMF the way HyperSpy runs it on EELS data.

HyperSpy's `s.decomposition(algorithm="NMF", output_dimension=R)` unfolds the cube to X (pixels x
bands, float64), calls `sklearn.decomposition.NMF(n_components=R).fit_transform(X)` and takes
`components_` as the endmembers. Settings pinned here as the unmix plugin's defaults: solver "cd",
init "nndsvd", tol 1e-4, max_iter 200. Timed: fit_transform (endmembers and abundances).
SAD after Hungarian matching, as vca_baseline.py.

usage: python3 nmf_baseline.py DATASET_DIR REPEAT   -> prints JSON {median_seconds, sad_mean}
"""
import json
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF


def main():
    folder, repeat = sys.argv[1], int(sys.argv[2])
    cube = np.load(f"{folder}/cube.npy").astype(np.float64)
    truth = np.load(f"{folder}/endmembers.npy").astype(np.float64)
    r = truth.shape[0]
    x = cube.reshape(-1, cube.shape[-1])
    times, sads = [], []
    for seed in range(repeat):
        model = NMF(n_components=r, solver="cd", init="nndsvd", tol=1e-4, max_iter=200, random_state=seed)
        t0 = time.perf_counter()
        model.fit_transform(x)
        times.append(time.perf_counter() - t0)
        e = model.components_
        tn = truth / np.linalg.norm(truth, axis=1, keepdims=True)
        en = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-300)
        sad = np.arccos(np.clip(tn @ en.T, -1, 1))
        rows, cols = linear_sum_assignment(sad)
        sads.append(float(sad[rows, cols].mean()))
    print(json.dumps({"median_seconds": float(np.median(times)), "sad_mean": float(np.mean(sads))}))


if __name__ == "__main__":
    main()
