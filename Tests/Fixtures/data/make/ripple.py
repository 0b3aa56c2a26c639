"""Lispix ripple fixtures written by HyperSpy, and what HyperSpy reads back from them.

Usage: python ripple.py OUTPUT_FOLDER   (through scripts/make-fixtures ripple)

Writes into OUTPUT_FOLDER/ripple/:
  eels_float32.rpl/.raw   a 3 x 5 x 16 EELS-like spectrum image, float32 (record-by vector)
  eels_uint16.rpl/.raw    the same counts as uint16
  eels_int32be.rpl/.raw   4 x 2 x 8 int32 big-endian, with negative values
  stack_float64.rpl/.raw  a stack of 3 images of 2 x 4 (Signal2D, record-by image), float64
  expected.json           for each pair: the cube as rows x cols x bands in pixel-major
                          order, the stored dtype, the three axes and the title, all as
                          HyperSpy reads the pair back (hs.load), checked against the
                          arrays written.
"""
import json
import os
import sys

import numpy as np
import hyperspy.api as hs

out = os.path.join(sys.argv[1], "ripple")
os.makedirs(out, exist_ok=True)


def eels_counts():
    """3 x 5 pixels x 16 channels: two Gaussian edges whose mix varies across the map."""
    y, x, e = np.meshgrid(np.arange(3), np.arange(5), np.arange(16), indexing="ij")
    a = 1000 * np.exp(-((e - 4) ** 2) / 6.0)
    b = 700 * np.exp(-((e - 11) ** 2) / 4.0)
    w = (x + 1) / 6.0 + y / 10.0
    return np.round(w * a + (1 - w) * b + 10 * y + x + 3)


def spectrum_image(data, title):
    s = hs.signals.Signal1D(data)
    s.metadata.General.title = title
    s.metadata.set_item("Signal.signal_type", "EELS")
    ax = s.axes_manager
    ax[0].name, ax[0].offset, ax[0].scale, ax[0].units = "x", -2.5, 0.75, "nm"   # columns
    ax[1].name, ax[1].offset, ax[1].scale, ax[1].units = "y", 10.0, 1.25, "nm"   # rows
    ax[2].name, ax[2].offset, ax[2].scale, ax[2].units = "Energy loss", 280.5, 0.25, "eV"
    return s


def axis_dict(a):
    return {"name": str(a.name), "size": int(a.size), "offset": float(a.offset), "scale": float(a.scale),
            "units": "" if a.units is None or str(a.units) == "<undefined>" else str(a.units)}


expected = {}


def save(name, s, cube, dtype):
    """Saves s as NAME.rpl, reads it back with HyperSpy and records what it read.

    cube: the array written, as rows x cols x bands (what unmix should read)."""
    path = os.path.join(out, name + ".rpl")
    for ext in (".rpl", ".raw"):
        if os.path.exists(os.path.join(out, name + ext)):
            os.remove(os.path.join(out, name + ext))
    s.save(path)
    back = hs.load(path)
    assert back.data.dtype == np.dtype(dtype), (name, back.data.dtype)
    if back.axes_manager.signal_dimension == 1:
        read = back.data                                  # (rows, cols, bands)
        signal, = back.axes_manager.signal_axes
        cols, rows = back.axes_manager.navigation_axes
    else:
        read = np.moveaxis(back.data, 0, -1)              # (depth, rows, cols) -> rows x cols x depth
        signal, = back.axes_manager.navigation_axes
        cols, rows = back.axes_manager.signal_axes
    assert np.array_equal(read, cube), name
    expected[name] = {
        "rows": int(cube.shape[0]), "cols": int(cube.shape[1]), "bands": int(cube.shape[2]),
        "dtype": np.dtype(dtype).name,
        "values": [float(v) for v in cube.ravel()],
        "sum": float(cube.astype(np.float64).sum()),
        "signal": axis_dict(signal), "row": axis_dict(rows), "col": axis_dict(cols),
        "title": str(back.metadata.General.title),
        "record_by": "vector" if back.axes_manager.signal_dimension == 1 else "image",
    }


counts = eels_counts()
save("eels_float32", spectrum_image(counts.astype(np.float32) / 8, "EELS map fixture"),
     counts.astype(np.float32) / 8, "float32")
save("eels_uint16", spectrum_image(counts.astype(np.uint16), "EELS map fixture (counts)"),
     counts.astype(np.uint16), "uint16")

signed = (np.arange(4 * 2 * 8).reshape(4, 2, 8) * 37 % 101 - 50).astype(">i4")
s = hs.signals.Signal1D(signed)
s.metadata.General.title = "signed big-endian"
s.axes_manager[2].offset, s.axes_manager[2].scale, s.axes_manager[2].units = 0.5, 2.0, "eV"
save("eels_int32be", s, signed, ">i4")

images = (np.arange(3 * 2 * 4).reshape(3, 2, 4) * 1.5 - 4).astype(np.float64)   # depth, rows, cols
stack = hs.signals.Signal2D(images)
stack.metadata.General.title = "image stack"
stack.axes_manager[0].name, stack.axes_manager[0].offset, stack.axes_manager[0].scale = "Energy", 100.0, 20.0
stack.axes_manager[0].units = "eV"
save("stack_float64", stack, np.moveaxis(images, 0, -1), "float64")

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote", sorted(os.listdir(out)))
