"""Unmixing Dask arrays: a trained model applied chunk by chunk, and fitting on a sample.

    import unmix, unmix.dask
    est = unmix.dask.fit(unmix.Unmixer("daeu", n_components=3), lazy_cube, pixels=20_000)
    abundances = unmix.dask.apply(est, lazy_cube)     # a Dask array (..., R), lazy
    abundances.compute()                              # or .to_zarr(...), on a distributed cluster

`apply` maps each navigation chunk (all of its spectra) to its abundances with the fitted model;
every task runs in its Dask worker's own `unmix` host, and that host's worker keeps the plugin
and the model loaded from one chunk to the next. Nothing but the model file and the chunks
travel.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from ._host import host
from .estimator import Unmixer, load


def _dask():
    try:
        import dask.array as da
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("unmix.dask needs Dask: pip install 'dask[array]' distributed") from error
    return da


def apply(model, array):
    """The abundances of `array` (navigation axes … × bands; a Dask or NumPy array) by `model`
    (a fitted `Unmixer` or a model file's path), as a lazy Dask array of shape (…, R), float32.
    The estimator's `timeout` and `max_memory` apply to each chunk.

    The signal axis is made one chunk (each task needs whole spectra); navigation chunks are kept
    as they are, so choose them to fit a worker's memory: a chunk of P pixels × B bands costs about
    4·P·(B + R) bytes twice over (the chunk and its copy in shared memory) plus the plugin's own.
    """
    da = _dask()
    est = model if isinstance(model, Unmixer) else load(model)
    if getattr(est, "model_", None) is None:
        raise ValueError("apply needs a fitted model that can be saved (see Unmixer.save)")
    array = da.asarray(array)
    if array.ndim < 2:
        raise ValueError(f"expected navigation axes and a signal axis, got an array of shape {array.shape}")
    if array.shape[-1] != est.n_features_in_:
        raise ValueError(f"the array has {array.shape[-1]} channels; the model was trained on {est.n_features_in_}")
    if len(array.chunks[-1]) > 1:
        array = array.rechunk({array.ndim - 1: -1})
    r = est.n_components_
    # The model travels once per worker: a single graph key every task depends on.
    from dask import delayed

    model_key = delayed(bytes(est.model_), pure=True)
    return da.map_blocks(_apply_block, array, model_key, r, tuple(est._limits()), dtype=np.float32,
                         chunks=array.chunks[:-1] + ((r,),), meta=np.empty((0,) * array.ndim, dtype=np.float32))


def _apply_block(block, model_bytes, r, limits):
    """One task: the abundances of a chunk (… × bands) by the model, in this process's host."""
    if block.size == 0:
        return np.empty(block.shape[:-1] + (r,), dtype=np.float32)
    nav = block.shape[:-1]
    # A chunk of a map keeps its shape (a spatial plugin sees neighbours within it); any other
    # layout is one row of pixels.
    cube = block if len(nav) == 2 else block.reshape(1, -1, block.shape[-1])
    abundances = host().apply_model(_model_path(model_bytes), cube, limits)
    return abundances.reshape(nav + (abundances.shape[-1],))


_model_paths: dict[str, str] = {}


def _model_path(model_bytes: bytes) -> str:
    """The model file in this process's scratch folder, written once per model."""
    digest = hashlib.sha256(model_bytes).hexdigest()[:20]
    path = _model_paths.get(digest)
    if path is None or not os.path.exists(path):
        path = host().keep_file(f"model-{digest}.unmix", model_bytes)
        _model_paths[digest] = path
    return path


def fit(estimator: Unmixer, array, *, pixels: int = 10_000, region=None, random_state=0):
    """Fits `estimator` on part of a (Dask) cube too big to fit whole, and returns it.

    - `region=(slice(r0, r1), slice(c0, c1))`: that block of the map, all of it (spatial
      plugins need a contiguous region).
    - otherwise `pixels` spectra drawn uniformly without replacement over the whole map, with
      `numpy.random.default_rng(random_state)`, sorted so that each chunk is read once.
    Only the chosen spectra are computed and brought to this process.
    """
    da = _dask()
    array = da.asarray(array)
    bands = array.shape[-1]
    if region is not None:
        if array.ndim != 3:
            raise ValueError("region needs a 3-D cube (rows × cols × bands)")
        block = np.asarray(array[region].compute())
        estimator.set_params(shape=block.shape[:2])
        return estimator.fit(block.reshape(-1, bands))
    flat = array.reshape(-1, bands)
    total = flat.shape[0]
    count = min(int(pixels), total)
    rng = np.random.default_rng(random_state)
    chosen = np.sort(rng.choice(total, size=count, replace=False))
    sample = np.asarray(flat[chosen].compute())
    estimator.set_params(shape=None)
    return estimator.fit(sample)
