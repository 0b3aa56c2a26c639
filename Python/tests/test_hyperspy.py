"""HyperSpy 2.5: s.decomposition(algorithm=unmix.Unmixer(...)) on an EELS spectrum image."""

import json

import numpy as np
import pytest

import unmix
from conftest import spectral_angles

hs = pytest.importorskip("hyperspy.api")
exspy = pytest.importorskip("exspy")


def eels_signal(synth):
    meta = json.loads((synth.path / "meta.json").read_text())
    s = exspy.signals.EELSSpectrum(synth.cube.astype(np.float64))
    axis = s.axes_manager.signal_axes[0]
    axis.offset, axis.scale, axis.units, axis.name = meta["energy"]["offset"], meta["energy"]["scale"], "eV", "Energy loss"
    return s


def test_decomposition_with_an_unmixer(eels3):
    s = eels_signal(eels3)
    est = unmix.Unmixer("vca", n_components=3, random_state=1)
    s.decomposition(algorithm=est, output_dimension=3)
    lr = s.learning_results
    # Factors are the endmembers (bands × R), loadings the abundances (pixels × R), as HyperSpy
    # keeps them for its own algorithms.
    assert lr.factors.shape == (eels3.bands, 3) and lr.loadings.shape == (eels3.rows * eels3.cols, 3)
    np.testing.assert_array_equal(lr.factors, est.components_.T)
    np.testing.assert_allclose(lr.loadings, est.transform(eels3.X), atol=1e-6)
    angles, order = spectral_angles(lr.factors.T, eels3.endmembers)
    assert angles.mean() < 0.05
    truth = eels3.abundances.reshape(-1, 3)
    for k, t in enumerate(order):
        assert np.corrcoef(lr.loadings[:, k], truth[:, t])[0, 1] > 0.95
    # HyperSpy's own views of them: maps and spectra on the signal's axes.
    loadings = s.get_decomposition_loadings()
    factors = s.get_decomposition_factors()
    assert loadings.data.shape == (3, eels3.rows, eels3.cols)
    assert factors.axes_manager.signal_axes[0].units == "eV"
    # The model is the estimator's: it saves and applies like any other.
    rebuilt = s.get_decomposition_model(3)
    assert rebuilt.data.shape == s.data.shape


def test_decomposition_with_poissonian_normalisation(eels3):
    s = eels_signal(eels3)
    s.decomposition(algorithm=unmix.Unmixer("nmf", n_components=3, random_state=0, max_iter=100),
                    output_dimension=3, normalize_poissonian_noise=True)
    assert s.learning_results.factors.shape == (eels3.bands, 3)
    assert np.isfinite(s.learning_results.loadings).all()


def test_lazy_decomposition_matches_in_memory(eels3):
    """HyperSpy's lazy path gathers the chunks for one fit, then transforms chunk by chunk; it
    needs n_components == output_dimension (otherwise it leaves the loadings in chunk order)."""
    s = eels_signal(eels3)
    s.decomposition(algorithm=unmix.Unmixer("vca", n_components=3, random_state=1), output_dimension=3)
    lazy = eels_signal(eels3).as_lazy()
    lazy.data = lazy.data.rechunk((32, 32, eels3.bands))
    est = unmix.Unmixer("vca", n_components=3, random_state=1)
    lazy.decomposition(algorithm=est, output_dimension=3)
    factors = np.asarray(lazy.learning_results.factors)
    loadings = np.asarray(lazy.learning_results.loadings)
    # The loadings are the fitted model's abundances of every pixel, in the map's order.
    np.testing.assert_array_equal(loadings, est.transform(eels3.X))
    # The fit saw the pixels in chunk order, so its sums ran in another order: the same
    # endmembers to float32 rounding, and abundances within what that moves them.
    np.testing.assert_allclose(factors, s.learning_results.factors, rtol=1e-4)
    np.testing.assert_allclose(loadings, s.learning_results.loadings, atol=1e-3)
