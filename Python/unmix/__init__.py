"""unmix from Python: every plugin of the `unmix` host as a scikit-learn estimator.

    import unmix
    unmix.plugins()                      # what the host finds on its search path
    unmix.info("vca")["parameters"]      # a plugin's parameter table
    est = unmix.Unmixer("vca", n_components=3, random_state=0)
    A = est.fit_transform(X)             # X: pixels × bands; A: pixels × R
    est.components_                      # R × bands
    est.save("vca.unmix")                # a model file for `unmix apply`, or unmix.load

Plugin code runs in worker processes of the host (`unmix serve`), never in this interpreter.
"""

from ._host import PluginError, UnmixError, UnmixValueError, find_executable
from ._plugins import failures, info, plugins
from .estimator import Unmixer, load

__version__ = "0.1.0"

__all__ = ["Unmixer", "load", "plugins", "failures", "info", "UnmixError", "UnmixValueError", "PluginError",
           "find_executable", "__version__"]
