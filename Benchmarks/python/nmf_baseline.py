"""Baseline for unmix-bench: scikit-learn's NMF the way HyperSpy runs it on EELS data.

HyperSpy's `s.decomposition(algorithm="NMF", output_dimension=R)` unfolds the cube to X (pixels x
bands, float64), calls `sklearn.decomposition.NMF(n_components=R).fit_transform(X)` and takes
`components_` as the endmembers. Settings pinned here as the unmix plugin's defaults: solver "cd",
init "nndsvd", tol 1e-4, max_iter 200. Timed: fit_transform (endmembers and abundances).
SAD after Hungarian matching, as vca_baseline.py.

usage: python3 nmf_baseline.py DATASET_DIR REPEAT   -> prints JSON {median_seconds, sad_mean}
"""

import numpy as np

import bench_common
from sklearn.decomposition import NMF


def fit(cube, r, seed):
    model = NMF(n_components=r, solver="cd", init="nndsvd", tol=1e-4, max_iter=200, random_state=seed)
    model.fit_transform(cube.reshape(-1, cube.shape[-1]))
    return model.components_

if __name__ == "__main__":
    bench_common.main(fit)
