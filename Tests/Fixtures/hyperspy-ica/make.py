"""Writes the HyperSpy ICA fixture: two small cubes and what HyperSpy 2.5 makes of them.

Runs in the scratch venv (scripts/python-venv, which installs HyperSpy 2.5 and scikit-learn):
    .build/debug/unmix synth --preset eels3 --seed 5 --out /tmp/eels3-5
    .build/debug/unmix synth --preset eels4 --seed 5 --out /tmp/eels4-5
    .build/fixture-venv/bin/python Tests/Fixtures/hyperspy-ica/make.py /tmp/eels3-5 /tmp/eels4-5

Each preset gets a folder here, in the layout of a synth folder (so that unmix reads it with its
ground truth):
  eels3/  the 32 × 32 top-left corner of the map, all 200 channels;
  eels4/  the 32 × 32 top-left corner, channels summed in fours (903 → 225, the last 3 dropped),
          which keeps the mixture linear (the truth's endmembers are summed the same way);
with
  cube.npy        the counts as uint16 (they are whole numbers; HyperSpy is given them as float32,
                  the dtype `unmix synth` writes);
  endmembers.npy  the truth, R × B (float32); abundances.npy, 32 × 32 × R (float32);
  factors.npy     HyperSpy's BSS factors for random_state = 0, R × B (float64), in HyperSpy's order
                  and signs;
  hyperspy.json   versions, how the cube was reduced, and for random_state = 0 … 9 the mean SAD of
                  HyperSpy's factors against the truth (Hungarian matching, as `unmix compare`) and
                  the largest angle between each run's factors and those of factors.npy.
HyperSpy is run as a user would: hs.signals.Signal1D(cube), s.decomposition() with its
defaults, s.blind_source_separation(R) with its defaults but for random_state.
"""
import json
import sys
from pathlib import Path

import numpy as np
import scipy
import sklearn

import hyperspy
from measure import hyperspy_factors, mean_sad

HERE = Path(__file__).resolve().parent
STATES = 10


def angles(a, b):
    """Spectral angles between matched rows of a and b (R × B): Hungarian matching on the angles."""
    from scipy.optimize import linear_sum_assignment
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    m = np.arccos(np.clip(an @ bn.T, -1, 1))
    rows, cols = linear_sum_assignment(m)
    return m[rows, cols]


def write(name, cube, truth, abundances, reduction, source):
    out = HERE / name
    out.mkdir(exist_ok=True)
    assert np.all(cube == np.round(cube)) and cube.min() >= 0 and cube.max() < 65536
    np.save(out / "cube.npy", cube.astype(np.uint16))
    np.save(out / "endmembers.npy", truth.astype(np.float32))
    np.save(out / "abundances.npy", abundances.astype(np.float32))
    r = truth.shape[0]
    runs = [hyperspy_factors(cube.astype(np.float32), r, k).T for k in range(STATES)]
    np.save(out / "factors.npy", runs[0])
    report = {
        "source": source,
        "reduction": reduction,
        "shape": list(cube.shape),
        "r": r,
        "versions": {"hyperspy": hyperspy.__version__, "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "scipy": scipy.__version__},
        "call": "hs.signals.Signal1D(cube.astype(float32)); s.decomposition(); "
                "s.blind_source_separation(R, random_state=k)",
        "random_states": list(range(STATES)),
        "sad_vs_truth": [mean_sad(truth.astype(np.float64), f) for f in runs],
        "max_angle_to_factors_npy": [float(angles(runs[0], f).max()) for f in runs],
    }
    (out / "hyperspy.json").write_text(json.dumps(report, indent=2) + "\n")
    print(name, report["sad_vs_truth"][0], max(report["max_angle_to_factors_npy"]))


def main(eels3, eels4):
    cube = np.load(f"{eels3}/cube.npy")[:32, :32]
    truth = np.load(f"{eels3}/endmembers.npy")
    maps = np.load(f"{eels3}/abundances.npy")[:32, :32]
    write("eels3", cube, truth, maps, "rows 0:32, cols 0:32, all channels",
          "unmix synth --preset eels3 --seed 5")
    bins = 4
    cube = np.load(f"{eels4}/cube.npy")[:32, :32]
    b = cube.shape[-1] // bins * bins
    cube = cube[..., :b].astype(np.float64).reshape(32, 32, -1, bins).sum(-1)
    truth = np.load(f"{eels4}/endmembers.npy").astype(np.float64)[:, :b]
    truth = truth.reshape(truth.shape[0], -1, bins).sum(-1)
    maps = np.load(f"{eels4}/abundances.npy")[:32, :32]
    write("eels4", cube, truth, maps, f"rows 0:32, cols 0:32, channels 0:{b} summed in fours",
          "unmix synth --preset eels4 --seed 5")


if __name__ == "__main__":
    main(*sys.argv[1:3])
