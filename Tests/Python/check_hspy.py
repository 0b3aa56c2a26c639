"""Loads a HyperSpy file with HyperSpy itself (`hyperspy.api.load`) and prints, as JSON on its last line, what
HyperSpy sees: for each signal its class, title, signal type, data shape and dtype, its axes in
array order (name, size, offset, scale, units, navigate, and the values of a non-uniform
axis), the first values, their sum, and the metadata tree.

The Swift tests run it on files our writer wrote (HyperSpyTests), with the Python of
.build/fixture-venv (scripts/make-fixtures creates it).

Usage: python check_hspy.py FILE.hspy
"""
import json
import logging
import sys
import warnings

import numpy as np
import hyperspy.api as hs

# HyperSpy logs to stdout (an unknown signal_type, for instance): keep stdout for the JSON.
logging.getLogger("hyperspy").setLevel(logging.ERROR)


def plain(value):
    """A metadata value as JSON: dictionaries and lists recursively, NumPy values as Python."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def text(value):
    return value if isinstance(value, str) else ""


def axis_entry(axis):
    entry = dict(name=text(axis.name), size=int(axis.size), units=text(axis.units), navigate=bool(axis.navigate),
                 uniform=bool(axis.is_uniform))
    if axis.is_uniform:
        entry.update(offset=float(axis.offset), scale=float(axis.scale))
    else:
        entry.update(values=[float(v) for v in axis.axis])
    return entry


def main(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = hs.load(path, file_format="HSPY")
    signals = loaded if isinstance(loaded, list) else [loaded]
    report = []
    for s in signals:
        data = np.asarray(s.data)
        report.append(dict(
            cls=type(s).__name__,
            title=s.metadata.General.title,
            signal_type=s.metadata.Signal.signal_type if s.metadata.has_item("Signal.signal_type") else "",
            shape=list(data.shape),
            dtype=str(data.dtype),
            axes=[axis_entry(a) for a in s.axes_manager._axes],
            navigation_dimension=s.axes_manager.navigation_dimension,
            signal_dimension=s.axes_manager.signal_dimension,
            first=[float(v) for v in data.ravel()[:8]],
            sum=float(data.astype(np.float64).sum()),
            metadata=plain(s.metadata.as_dictionary()),
        ))
    json.dump(dict(signals=report), sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
