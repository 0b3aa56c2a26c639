"""Test set-up: the host built in the repository, a registry of our own, a crashing plugin on the
search path, and small synthetic cubes made by `unmix synth`.

The environment is set before `unmix` is imported, because the host (`unmix serve`) reads its
search path once, when it starts.
"""

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = Path(tempfile.mkdtemp(prefix="unmix-pytest-"))


def _executable():
    given = os.environ.get("UNMIX_EXECUTABLE")
    if given:
        return given
    for config in ("debug", "release"):
        candidate = ROOT / ".build" / config / "unmix"
        if candidate.exists():
            return str(candidate)
    raise RuntimeError("build unmix first (swift build), or set UNMIX_EXECUTABLE")


EXECUTABLE = _executable()
PLUGINS = SCRATCH / "plugins"
PLUGINS.mkdir()
subprocess.run(
    ["cc", "-std=c99", "-shared", "-fPIC", "-I", str(ROOT / "SDK/include"), "-o", str(PLUGINS / "libunmix_crashing.so"),
     str(ROOT / "Tests/Fixtures/plugins/crashing.c")],
    check=True,
)
os.environ["UNMIX_EXECUTABLE"] = EXECUTABLE
os.environ["UNMIX_REGISTRY"] = str(SCRATCH / "registry.json")
os.environ["UNMIX_PLUGIN_PATH"] = str(PLUGINS)


def cli(*words, check=True, env=None):
    """Runs the `unmix` command line (with `env` added to the environment); its completed process."""
    done = subprocess.run([EXECUTABLE, *map(str, words)], capture_output=True, text=True, env={**os.environ, **(env or {})})
    if check and done.returncode != 0:
        raise AssertionError(f"unmix {' '.join(map(str, words))} failed: {done.stderr}")
    return done


class Synth:
    """A synthetic cube with its truth: cube (rows × cols × bands), endmembers, abundances."""

    def __init__(self, preset, seed, **options):
        self.path = SCRATCH / f"{preset}-{seed}-{'-'.join(f'{k}{v}' for k, v in options.items())}"
        if not self.path.exists():
            extra = [w for k, v in options.items() for w in (f"--{k}", v)]
            cli("synth", "--preset", preset, "--seed", seed, "--out", self.path, *extra)
        self.cube = np.load(self.path / "cube.npy")
        self.endmembers = np.load(self.path / "endmembers.npy")
        self.abundances = np.load(self.path / "abundances.npy")
        self.rows, self.cols, self.bands = self.cube.shape
        self.X = self.cube.reshape(-1, self.bands)


@pytest.fixture(scope="session")
def eels3():
    return Synth("eels3", 1)


@pytest.fixture(scope="session")
def small():
    """A 16 × 16 × 200 crop of eels3 (fast fits for the contract checks)."""
    s = Synth("eels3", 2)
    s.cube = np.ascontiguousarray(s.cube[:16, :16])
    s.rows, s.cols = 16, 16
    s.X = s.cube.reshape(-1, s.bands)
    return s


def spectral_angles(found, truth):
    """Mean spectral angle (rad) between found and true endmembers, matched greedily by angle."""
    f = found / np.linalg.norm(found, axis=1, keepdims=True)
    t = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    angles = np.arccos(np.clip(f @ t.T, -1, 1))
    from itertools import permutations

    best = min(permutations(range(len(t))), key=lambda p: sum(angles[i, p[i]] for i in range(len(t))))
    return np.array([angles[i, best[i]] for i in range(len(t))]), best
