"""Every unmix plugin as a scikit-learn estimator."""

from __future__ import annotations

import numbers
import sys

import numpy as np

from ._host import Scratch, UnmixError, UnmixValueError, host
from ._plugins import check_parameter_names, info, parameter_text, parameter_value

# Keywords of the estimator itself; every other keyword is a parameter of the plugin.
_OWN = ("plugin", "n_components", "random_state", "shape", "timeout", "max_memory", "progress")


class Unmixer:
    """Unmixing with an unmix plugin, as a scikit-learn transformer.

    `fit(X)` learns `n_components` endmembers from X (pixels × bands): `components_` (R × bands)
    holds them, in the data's units. `transform(X)` gives the abundances (pixels × R) of any
    cube with the same bands, through the model the fit saved; `fit_transform(X)` gives those
    of the fit itself (what `unmix run` writes). Plugin code runs in worker processes of the
    `unmix` host: a crash raises `PluginError` and leaves this interpreter alone.

    Parameters
    ----------
    plugin : the plugin's id or name (`unmix.plugins()`).
    n_components : R, the number of endmembers, or "auto" (HySime's estimate, as `-r auto`).
    random_state : None, an int or a `numpy.random.RandomState`: the seed the plugin gets.
    shape : (rows, cols) of the map X's pixels come from, for spatial plugins (CNNAEU, uDAS);
        None: one row of pixels.
    timeout : seconds a fit or transform may take (None: no limit).
    max_memory : GiB a plugin's worker may use beyond the cube (None: 3/4 of the machine's).
    progress : None, True (a tqdm bar when tqdm is installed, else lines on stderr) or a
        callable(fraction, message).
    **params : the plugin's parameters (`unmix.info(plugin)["parameters"]`), checked by the host
        at fit time with the command line's messages.
    """

    def __init__(self, plugin="vca", n_components=3, *, random_state=0, shape=None, timeout=None, max_memory=None,
                 progress=None, **params):
        self.plugin = plugin
        self.n_components = n_components
        self.random_state = random_state
        self.shape = shape
        self.timeout = timeout
        self.max_memory = max_memory
        self.progress = progress
        self._params = dict(params)
        for key, value in params.items():
            setattr(self, key, value)

    # scikit-learn's parameter protocol, written out because plugin parameters are keywords.

    def get_params(self, deep=True):
        out = {key: getattr(self, key) for key in _OWN}
        out.update({key: getattr(self, key) for key in self._params})
        return out

    def set_params(self, **params):
        # Names new to this estimator must be parameters of the plugin (scikit-learn refuses
        # unknown names here); values are checked by the host at fit time.
        new = [k for k in params if k not in _OWN and k not in self._params]
        if new:
            check_parameter_names(params.get("plugin", self.plugin), new)
        for key, value in params.items():
            setattr(self, key, value)
            if key not in _OWN:
                self._params[key] = value
        return self

    def __repr__(self):
        items = [repr(self.plugin)] + [f"{k}={v!r}" for k, v in self.get_params().items() if k != "plugin"]
        return f"Unmixer({', '.join(items)})"

    def __sklearn_tags__(self):
        # Asked for by scikit-learn only, so importing it here keeps numpy the one dependency.
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False), transformer_tags=TransformerTags(),
                    input_tags=InputTags(), requires_fit=True)

    def get_feature_names_out(self, input_features=None):
        """Names of the abundance columns: "<plugin>0", "<plugin>1", …"""
        self._check_fitted()
        return np.asarray([f"{self.plugin}{k}" for k in range(self.n_components_)], dtype=object)

    # Fitting and transforming.

    def _seed(self) -> int:
        rs = self.random_state
        if rs is None:
            return int(np.random.randint(0, 2**31 - 1))
        if isinstance(rs, numbers.Integral):
            if rs < 0:
                raise UnmixValueError(f"random_state must be a non-negative integer, got {rs}")
            return int(rs)
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2**31 - 1))
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(0, 2**31 - 1))
        raise UnmixValueError(f"random_state must be None, an int or a RandomState, got {rs!r}")

    def _cube(self, X) -> np.ndarray:
        """X (pixels × bands) checked and laid out as the map (rows × cols × bands)."""
        X = _as_matrix(X)
        if self.shape is None:
            return X[np.newaxis, :, :]
        rows, cols = (int(v) for v in self.shape)
        if rows * cols != X.shape[0]:
            raise UnmixValueError(f"shape {rows}x{cols} makes {rows * cols} pixels, X has {X.shape[0]}")
        return X.reshape(rows, cols, X.shape[1])

    def _limits(self) -> list[str]:
        words = []
        if self.timeout is not None:
            words += ["--timeout", parameter_text(self.timeout)]
        if self.max_memory is not None:
            words += ["--max-memory", parameter_text(self.max_memory)]
        return words

    def _progress(self):
        return _progress_callback(self.progress, self.plugin)

    def fit(self, X, y=None):
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        return self._fit(X)

    def _fit(self, X):
        cube = self._cube(X)
        table = info(self.plugin)
        r = self.n_components
        if not (isinstance(r, str) and r == "auto"):
            if not isinstance(r, numbers.Integral) or isinstance(r, bool):
                raise UnmixValueError(f"n_components must be a positive integer or 'auto', got {r!r}")
        words = [table["id"], None, "-r", str(r), "--seed", str(self._seed())] + self._limits()
        for key in self._params:
            value = getattr(self, key)
            if value is not None:
                words += ["--set", f"{key}={parameter_text(value)}"]
        can_save = "state" in table["capabilities"]
        with Scratch() as scratch, _progress_scope(self._progress()) as progress:
            words[1] = scratch.cube(cube)
            words += ["--out", scratch.file("out")]
            if can_save:
                words += ["--save-model", scratch.file("model.unmix")]
            report = host().request("run", words, progress=progress)
            endmembers = np.load(scratch.file("out/endmembers.npy"))
            abundances = np.load(scratch.file("out/abundances.npy"))
            model = open(scratch.file("model.unmix"), "rb").read() if can_save else None
        self.components_ = endmembers.astype(np.float64)
        self.n_components_ = int(report["r"])
        self.n_features_in_ = cube.shape[2]
        self.model_ = model
        self.report_ = report
        self.reconstruction_err_ = float(report["reconstruction_rmse"])
        return abundances.reshape(-1, self.n_components_).astype(np.float64)

    def transform(self, X):
        """The abundances of X (pixels × R) by the fitted model."""
        self._check_fitted()
        cube = self._cube(X)
        if cube.shape[2] != self.n_features_in_:
            raise UnmixValueError(
                f"X has {cube.shape[2]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input"
            )
        if self.model_ is None:
            raise UnmixError(f"{self.plugin} cannot save its model (no unmix.state extension), so it cannot transform new data: use fit_transform")
        with Scratch() as scratch, _progress_scope(self._progress()) as progress:
            model = scratch.file("model.unmix")
            with open(model, "wb") as f:
                f.write(self.model_)
            abundances = host().apply_model(model, cube, self._limits(), progress)
        return abundances.reshape(-1, self.n_components_).astype(np.float64)

    def inverse_transform(self, A):
        """The spectra (pixels × bands) the abundances A reconstruct: A · components_."""
        self._check_fitted()
        return np.asarray(A, dtype=np.float64) @ self.components_

    def _check_fitted(self):
        """scikit-learn's NotFittedError when it is installed, else UnmixError."""
        if not hasattr(self, "components_"):
            try:
                from sklearn.exceptions import NotFittedError
            except ImportError:
                raise UnmixError(f"This {type(self).__name__} instance is not fitted yet: call fit first") from None
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments before using this estimator.")

    # Models: the host's model file, both ways.

    def save(self, path):
        """Writes the fitted model as the host's model file (`unmix apply MODEL INPUT` reads it)."""
        self._check_fitted()
        if self.model_ is None:
            raise UnmixError(f"{self.plugin} cannot save its model (no unmix.state extension)")
        with open(path, "wb") as f:
            f.write(self.model_)


def load(path) -> Unmixer:
    """A fitted `Unmixer` from a model file (`unmix run --save-model`, or `Unmixer.save`). The
    host checks the file whole (checksum, sizes, values) before anything is used."""
    header = host().request("model", [str(path)])
    table = info(header["plugin"])
    specs = {p["id"]: p for p in table["parameters"]}
    params = {key: parameter_value(specs[key], text) for key, text in header["parameters"].items() if key in specs}
    est = Unmixer(header["plugin"], n_components=header["r"], random_state=int(header["seed"]), **params)
    with open(path, "rb") as f:
        est.model_ = f.read()
    est.components_ = np.asarray(header["endmembers"], dtype=np.float64)
    est.n_components_ = header["r"]
    est.n_features_in_ = header["bands"]
    est.report_ = None
    return est


def _as_matrix(X) -> np.ndarray:
    """X as a finite 2-D float array; the messages are scikit-learn's where it has one."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError("unmix plugins take dense data: a sparse matrix was passed, use X.toarray()")
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported: X must hold real numbers")
    if X.dtype.kind == "O":
        X = X.astype(np.float64)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must hold numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead: X is pixels × bands. "
                         "Reshape your data with X.reshape(1, -1) if it is a single spectrum.")
    if X.shape[0] < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    if X.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if not np.isfinite(X).all():
        raise ValueError("Input X contains NaN or infinity: unmixing needs finite values.")
    return X


class _progress_scope:
    """Enters a progress display (a tqdm bar needs closing)."""

    def __init__(self, callback):
        self.callback = callback

    def __enter__(self):
        return self.callback

    def __exit__(self, *exc):
        close = getattr(self.callback, "close", None)
        if close:
            close()


def _progress_callback(progress, plugin):
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        return _TqdmProgress(tqdm, plugin)

    def line(fraction, message):
        print(f"[{plugin}] {100 * fraction:3.0f}% {message}", file=sys.stderr)

    return line


class _TqdmProgress:
    def __init__(self, tqdm, plugin):
        self.bar = tqdm(total=1000, desc=str(plugin), unit="‰")
        self.done = 0

    def __call__(self, fraction, message):
        n = int(round(1000 * fraction))
        if n > self.done:
            self.bar.update(n - self.done)
            self.done = n
        self.bar.set_postfix_str(message, refresh=False)

    def close(self):
        self.bar.close()


__all__ = ["Unmixer", "load"]
