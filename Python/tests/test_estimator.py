"""The estimator contract, errors, isolation, and agreement with the command line."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import unmix
from conftest import SCRATCH, cli, spectral_angles

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402


def test_plugins_and_tables():
    ids = [p["id"] for p in unmix.plugins()]
    for expected in ("vca", "nmf", "ica", "blu", "udas", "daeu", "mtaeu", "cnnaeu", "crashing"):
        assert expected in ids
    table = unmix.info("vca")
    assert table["id"] == "vca"
    assert [p["id"] for p in table["parameters"]] == ["snr", "projection"]
    projection = table["parameters"][1]
    assert projection["type"] == "choice" and "subspace" in projection["choices"]
    with pytest.raises(unmix.UnmixValueError, match="no plugin"):
        unmix.info("no-such-plugin")


def test_init_only_stores_and_params_round_trip():
    est = unmix.Unmixer("nmf", n_components=4, random_state=3, max_iter=50)
    params = est.get_params()
    assert params["plugin"] == "nmf" and params["n_components"] == 4 and params["max_iter"] == 50
    assert not hasattr(est, "components_")
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    est.set_params(n_components=2, max_iter=10)
    assert est.n_components == 2 and est.get_params()["max_iter"] == 10
    with pytest.raises(ValueError, match="unknown parameter 'bogus' for nmf"):
        est.set_params(bogus=1)


def test_vca_matches_the_command_line(eels3):
    est = unmix.Unmixer("vca", n_components=3, random_state=1)
    A = est.fit_transform(eels3.X)
    assert A.shape == (eels3.rows * eels3.cols, 3)
    assert est.components_.shape == (3, eels3.bands)
    np.testing.assert_allclose(A.sum(axis=1), 1, atol=1e-4)
    # Quality against the truth, computed here independently of the host.
    angles, order = spectral_angles(est.components_, eels3.endmembers)
    assert angles.mean() < 0.05, angles
    # The same run on the command line gives the same numbers.
    out = SCRATCH / "cli-vca"
    cli("run", "vca", eels3.path / "cube.npy", "-r", 3, "--seed", 1, "--out", out)
    np.testing.assert_array_equal(np.load(out / "endmembers.npy"), est.components_.astype(np.float32))
    np.testing.assert_array_equal(np.load(out / "abundances.npy").reshape(-1, 3), A.astype(np.float32))
    # transform through the saved model gives the fit's abundances on the same cube.
    np.testing.assert_allclose(est.transform(eels3.X), A, atol=1e-6)
    np.testing.assert_allclose(est.inverse_transform(A), A @ est.components_)


def test_seed_reproduces_and_changes(small):
    a = unmix.Unmixer("vca", 3, random_state=5).fit(small.X).components_
    b = unmix.Unmixer("vca", 3, random_state=5).fit(small.X).components_
    np.testing.assert_array_equal(a, b)
    rs = np.random.RandomState(0)
    c = unmix.Unmixer("vca", 3, random_state=rs).fit(small.X).components_
    assert c.shape == a.shape


def test_pipeline_and_clone_fit(small):
    pipe = Pipeline([("scale", FunctionTransformer(lambda X: X / X.max())), ("unmix", unmix.Unmixer("vca", 3, random_state=0))])
    A = pipe.fit_transform(small.X)
    assert A.shape == (small.X.shape[0], 3)
    fitted = pipe.named_steps["unmix"]
    again = clone(fitted).fit(small.X / small.X.max())
    np.testing.assert_array_equal(again.components_, fitted.components_)


@pytest.mark.parametrize(
    "make, X, error, match",
    [
        (lambda: unmix.Unmixer("vca", 3, bogus=1), None, ValueError, r"unknown parameter 'bogus' for vca \(valid: snr, projection\)"),
        (lambda: unmix.Unmixer("vca", 3, projection="sideways"), None, ValueError, r"projection"),
        (lambda: unmix.Unmixer("vca", 0), None, ValueError, r"R = 0"),
        (lambda: unmix.Unmixer("vca", 10_000), None, ValueError, r"R = 10000"),
        (lambda: unmix.Unmixer("nope", 3), None, ValueError, r"no plugin"),
        (lambda: unmix.Unmixer("vca", 3), "nan", ValueError, r"NaN"),
        (lambda: unmix.Unmixer("vca", 3), "1d", ValueError, r"2D"),
        (lambda: unmix.Unmixer("vca", 3, shape=(5, 5)), None, ValueError, r"shape 5x5 makes 25 pixels"),
    ],
)
def test_errors_carry_the_hosts_message(small, make, X, error, match):
    data = small.X.copy()
    if X == "nan":
        data[3, 4] = np.nan
    elif X == "1d":
        data = data[0]
    with pytest.raises(error, match=match):
        make().fit(data)


def test_transform_checks_features_and_fit(small):
    est = unmix.Unmixer("vca", 3)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        est.transform(small.X)
    est.fit(small.X)
    with pytest.raises(ValueError, match="X has 199 features"):
        est.transform(small.X[:, :199])


def test_a_crashing_plugin_raises_and_python_lives_on(small):
    with pytest.raises(unmix.PluginError, match=r"crash.*SIGSEGV"):
        unmix.Unmixer("crashing", 2).fit(small.X)
    # The host is still there for the next request.
    assert unmix.Unmixer("vca", 3).fit(small.X).components_.shape == (3, small.bands)


def test_progress_reaches_python(small):
    seen = []
    unmix.Unmixer("daeu", 3, epochs=3, progress=lambda f, m: seen.append((f, m))).fit(small.X)
    assert seen and seen[-1][0] == pytest.approx(1.0)
    assert "epoch" in seen[-1][1]


def test_keyboard_interrupt_cancels_the_fit(small):
    # A fit of minutes, interrupted after a second as Ctrl-C would.
    big = np.tile(small.X, (8, 1))
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        unmix.Unmixer("daeu", 3, epochs=100000).fit(big)
    assert time.monotonic() - started < 30
    assert unmix.Unmixer("vca", 3).fit(small.X).components_.shape == (3, small.bands)


def test_models_both_ways_with_the_command_line(eels3, tmp_path):
    # Python → CLI: est.save, then unmix apply.
    est = unmix.Unmixer("vca", 3, random_state=2, projection="subspace").fit(eels3.X)
    est.save(tmp_path / "py.unmix")
    cli("apply", tmp_path / "py.unmix", eels3.path / "cube.npy", "--out", tmp_path / "applied")
    np.testing.assert_allclose(np.load(tmp_path / "applied/abundances.npy").reshape(-1, 3), est.transform(eels3.X), atol=1e-6)
    # CLI → Python: run --save-model, then unmix.load.
    cli("run", "nmf", eels3.path / "cube.npy", "-r", 3, "--set", "max_iter=40", "--out", tmp_path / "nmf",
        "--save-model", tmp_path / "cli.unmix")
    loaded = unmix.load(tmp_path / "cli.unmix")
    assert loaded.plugin == "nmf" and loaded.n_components_ == 3 and loaded.get_params()["max_iter"] == 40
    np.testing.assert_array_equal(loaded.components_.astype(np.float32), np.load(tmp_path / "nmf/endmembers.npy"))
    np.testing.assert_allclose(loaded.transform(eels3.X), np.load(tmp_path / "nmf/abundances.npy").reshape(-1, 3), rtol=1e-5, atol=1e-6)
    # A damaged file is refused by the host's checks.
    damaged = bytearray((tmp_path / "cli.unmix").read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "bad.unmix").write_bytes(bytes(damaged))
    with pytest.raises(unmix.UnmixError, match="bad.unmix"):
        unmix.load(tmp_path / "bad.unmix")


def test_pickles(small):
    import pickle

    est = unmix.Unmixer("vca", 3, random_state=0).fit(small.X)
    twin = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(twin.transform(small.X), est.transform(small.X))


def test_scikit_learn_estimator_checks():
    """scikit-learn's own checks of the estimator contract. R = 1 because the checks' data sets
    have as few as two features and an unmixing needs fewer endmembers than bands."""
    from sklearn.utils.estimator_checks import check_estimator

    expected = {
        # The error for R ≥ bands is the host's line ("R = 1: the number of endmembers must be
        # below the number of bands (1)"), not scikit-learn's wording with "1 feature(s)".
        "check_fit2d_1feature": "the host's message for R >= bands",
    }
    results = check_estimator(unmix.Unmixer("vca", n_components=1, random_state=0), on_fail=None,
                              expected_failed_checks=expected)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed, failed
    passed = [r["check_name"] for r in results if r["status"] == "passed"]
    assert len(passed) >= 40, passed
    for essential in ("check_get_params_invariance", "check_set_params", "check_estimators_nan_inf", "check_fit_idempotent",
                      "check_n_features_in", "check_estimators_pickle", "check_transformer_general", "check_fit_check_is_fitted"):
        assert essential in passed, essential


def _children(pid):
    """The child processes of `pid` (Linux)."""
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            kids += [int(k) for k in f.read().split()]
    return sorted(kids)


def test_transforms_reuse_one_worker_with_the_model_loaded(small):
    from unmix._host import host

    est = unmix.Unmixer("vca", 3, random_state=0, projection="subspace").fit(small.X)
    serve = host()._process.pid
    before = set(_children(serve))  # sessions of earlier tests' models (at most four are kept)
    first = est.transform(small.X)
    after = set(_children(serve))
    mine = after - before
    assert len(mine) == 1  # this model's session, kept for the next cube
    np.testing.assert_array_equal(est.transform(small.X[:100]), first[:100])
    assert set(_children(serve)) == after  # the same process answered: the plugin was loaded once
    # Another model gets its own session beside it.
    unmix.Unmixer("vca", 2, random_state=0, projection="subspace").fit(small.X).transform(small.X)
    now = set(_children(serve))
    assert mine <= now and len(now - after) == 1


def test_n_components_auto_is_hysime(eels3):
    est = unmix.Unmixer("vca", n_components="auto", random_state=0).fit(eels3.X)
    assert est.n_components_ == 3 and est.components_.shape == (3, eels3.bands)
    assert est.report_["rank_estimate"]["r"] == 3
