"""unmix.dask: a trained model applied chunk by chunk on a LocalCluster equals the in-memory apply."""

import numpy as np
import pytest

import unmix
from conftest import cli

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import unmix.dask as udask  # noqa: E402


@pytest.fixture(scope="module")
def cluster_client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.mark.parametrize("plugin, params", [("vca", {}), ("daeu", {"epochs": 3})])
def test_apply_on_a_cluster_equals_in_memory(eels3, cluster_client, plugin, params, tmp_path):
    est = unmix.Unmixer(plugin, 3, random_state=0, **params).fit(eels3.X)
    expected = est.transform(eels3.X).reshape(eels3.rows, eels3.cols, 3)
    lazy = da.from_array(eels3.cube, chunks=(16, 32, 50))  # 8 navigation chunks; bands rechunked whole
    result = udask.apply(est, lazy)
    assert result.shape == (eels3.rows, eels3.cols, 3) and result.dtype == np.float32
    got = result.compute()
    # Dask's workers run BLAS on one thread (OPENBLAS_NUM_THREADS=1), which sums a product in
    # another order: the same chunks applied in memory on one BLAS thread give the same bits,
    est.save(tmp_path / "m.unmix")
    for r0 in range(0, eels3.rows, 16):
        for c0 in range(0, eels3.cols, 32):
            chunk = tmp_path / f"chunk-{r0}-{c0}.npy"
            np.save(chunk, eels3.cube[r0:r0 + 16, c0:c0 + 32])
            cli("apply", tmp_path / "m.unmix", chunk, "--out", tmp_path / f"out-{r0}-{c0}", env={"OPENBLAS_NUM_THREADS": "1"})
            np.testing.assert_array_equal(got[r0:r0 + 16, c0:c0 + 32], np.load(tmp_path / f"out-{r0}-{c0}/abundances.npy"))
    # and the whole cube on the default threads agrees to float32 rounding through the network.
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7 if plugin == "vca" else 1e-4)
    ran = cluster_client.run(lambda: __import__("unmix._host", fromlist=["host"]).host()._next_id)
    assert len(ran) == 2


def test_apply_takes_a_model_file_and_a_2d_array(eels3, tmp_path):
    est = unmix.Unmixer("vca", 3, random_state=0).fit(eels3.X)
    est.save(tmp_path / "m.unmix")
    flat = da.from_array(eels3.X, chunks=(1000, 200))
    got = udask.apply(str(tmp_path / "m.unmix"), flat).compute(scheduler="threads")
    np.testing.assert_allclose(got, est.transform(eels3.X), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="199 channels"):
        udask.apply(est, flat[:, :199])


def test_fit_on_a_sample_and_on_a_region(eels3):
    lazy = da.from_array(eels3.cube, chunks=(16, 64, 200))
    est = udask.fit(unmix.Unmixer("vca", 3, random_state=1), lazy, pixels=1500, random_state=4)
    assert est.components_.shape == (3, 200) and est.report_["input"]["cols"] == 1500
    region = udask.fit(unmix.Unmixer("vca", 3, random_state=1), lazy, region=(slice(0, 32), slice(0, 64)))
    assert region.report_["input"]["rows"] == 32 and region.report_["input"]["cols"] == 64
    # The sample is drawn as documented: default_rng(random_state).choice, sorted.
    chosen = np.sort(np.random.default_rng(4).choice(eels3.X.shape[0], size=1500, replace=False))
    direct = unmix.Unmixer("vca", 3, random_state=1).fit(eels3.X[chosen])
    np.testing.assert_array_equal(direct.components_, est.components_)
