"""Writes the MATLAB .mat reader fixtures in <out>/mat/ with public tools, and their expected
values in <out>/mat/expected.json (computed here with NumPy, not by unmix).

    v5 (compressed or not) and v4: scipy.io.savemat
    v7.3: h5py, as MATLAB writes it: an HDF5 file with a 512-byte user block holding the
          128-byte MAT header ("MATLAB 7.3 MAT-file ...", version 0x0200, "IM"), one dataset
          per variable with a MATLAB_class attribute, dimensions reversed (HDF5 row-major of
          MATLAB's column-major array)

Every map is 3 rows x 5 columns (non-square), so a wrong pixel order changes the cube.

Layouts:
    HySUPP (BehnoodRasti/HySUPP, src/data/base.py, utils/bundle_data.py): Y (L x N), E (L x p),
        A (p x N), H, W, p, L, N; pixel n = h*W + w (NumPy's row-major reshape of H x W x L).
    hu_autoencoders (burknipalsson/hu_autoencoders, unmixing.py): Y (B x P), GT (R x B),
        S_GT (rows x cols x R), lines, cols; pixel j = r + c*lines (MATLAB's column-major
        reshape; the notebooks reshape abundances to (cols, rows, R) and transpose to show them).
    3-D: one rows x cols x bands array (Indian Pines, Salinas), a 2-D label map beside it.
"""
import json
import os
import sys

import h5py
import numpy as np
import scipy.io as sio

out = os.path.join(sys.argv[1], "mat")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20240607)
ROWS, COLS, B = 3, 5, 8
P = ROWS * COLS
expected = {}


def mixture(r):
    """Endmembers R x B, abundances rows x cols x R (sum to one), cube rows x cols x B."""
    e = rng.uniform(0.1, 1.0, size=(r, B))
    a = rng.dirichlet(np.ones(r), size=(ROWS, COLS))
    return e, a, a @ e


def record(name, cube, layout, version, dtype, e=None, a=None, names=None, wavelengths=None, shape=None):
    item = {
        "rows": ROWS, "cols": COLS, "bands": B, "layout": layout, "version": version, "dtype": dtype,
        "cube": np.asarray(cube, dtype=np.float64).reshape(-1).tolist(),  # row-major pixels, band-contiguous
    }
    if e is not None:
        item["r"] = int(e.shape[0])
        item["endmembers"] = e.reshape(-1).tolist()                        # R x B, row-major
        item["abundances"] = a.reshape(P, -1).reshape(-1).tolist()         # pixels (row-major) x R
    if names is not None:
        item["names"] = names
    if wavelengths is not None:
        item["wavelengths"] = list(map(float, wavelengths))
    if shape is not None:
        item["shape"] = shape
    expected[name] = item


def hysupp(e, a, cube, ytype):
    """HySUPP variables: pixel n = h*W + w."""
    return {
        "Y": cube.reshape(P, B).T.astype(ytype),      # L x N
        "E": e.T.copy(),                               # L x p
        "A": a.reshape(P, -1).T.copy(),                # p x N
        "H": ROWS, "W": COLS, "p": e.shape[0], "L": B, "N": P,
    }


def hu(e, a, cube, ytype):
    """hu_autoencoders variables: pixel j = r + c*rows (MATLAB's reshape(cube, [], B)')."""
    return {
        "Y": cube.reshape((P, B), order="F").T.astype(ytype),  # B x P
        "GT": e.copy(),                                        # R x B
        "S_GT": a.copy(),                                      # rows x cols x R
        "lines": float(ROWS), "cols": float(COLS),
    }


# ---- v5 (scipy) --------------------------------------------------------------------------
e2, a2, c2 = mixture(2)
v = hysupp(e2, a2, c2, np.float64)
v["labels"] = np.array(["soil ", "water"])
sio.savemat(os.path.join(out, "hysupp_v5.mat"), v, do_compression=False)
record("hysupp_v5.mat", c2, "HySUPP", "5", "float64", e2, a2, names=["soil", "water"])

e2b, a2b, c2b = mixture(2)
sio.savemat(os.path.join(out, "hysupp_v5z.mat"), hysupp(e2b, a2b, c2b, np.float32), do_compression=True)
record("hysupp_v5z.mat", c2b.astype(np.float32), "HySUPP", "5", "float32", e2b, a2b)

e3, a3, c3 = mixture(3)
sio.savemat(os.path.join(out, "hu_v5z.mat"), hu(e3, a3, c3, np.float32), do_compression=True)
record("hu_v5z.mat", c3.astype(np.float32), "hu_autoencoders", "5", "float32", e3, a3)

e3b, a3b, c3b = mixture(3)
sio.savemat(os.path.join(out, "hu_v5.mat"), hu(e3b, a3b, c3b, np.float64), do_compression=False)
record("hu_v5.mat", c3b, "hu_autoencoders", "5", "float64", e3b, a3b)

# A bare Y (bands x pixels) with no map size: needs ReadOptions.shape; read in HySUPP's order.
e2c, a2c, c2c = mixture(2)
sio.savemat(os.path.join(out, "bare_y_v5.mat"), {"Y": c2c.reshape(P, B).T.copy()})
record("bare_y_v5.mat", c2c, "bare Y", "5", "float64", shape=[ROWS, COLS])

# 3-D remote-sensing layout: uint16 counts, a label map and the band centres in nm.
_, _, c3d = mixture(3)
counts = np.round(c3d * 1000).astype(np.uint16)
labels = rng.integers(0, 4, size=(ROWS, COLS)).astype(np.uint8)
wl = np.linspace(400.0, 1000.0, B)
sio.savemat(os.path.join(out, "cube_v5.mat"),
            {"indian_pines_corrected": counts, "indian_pines_gt": labels, "wavelength": wl},
            do_compression=False)
record("cube_v5.mat", counts, "3-D", "5", "uint16", wavelengths=wl)

# v4 (scipy format='4'): 2-D variables only, which is all the HySUPP layout needs.
e2d, a2d, c2d = mixture(2)
v4 = hysupp(e2d, a2d, c2d, np.float64)
v4 = {k: (np.array([[float(x)]]) if np.isscalar(x) else x) for k, x in v4.items()}
sio.savemat(os.path.join(out, "hysupp_v4.mat"), v4, format="4")
record("hysupp_v4.mat", c2d, "HySUPP", "4", "float64", e2d, a2d)

# Every numeric class, as a 3-D variable (v5, the odd ones compressed).
types = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
_, _, ct = mixture(2)
for i, t in enumerate(types):
    values = np.round(ct * 100).astype(t) if not t.startswith("float") else ct.astype(t)
    if t.startswith("int"):
        values = (values - 30).astype(t)  # negative values for the signed types
    name = f"cube_{t}_v5.mat"
    sio.savemat(os.path.join(out, name), {"cube": values}, do_compression=(i % 2 == 1))
    record(name, values, "3-D", "5", t)


# Files that hold no cube the reader can take (expectations stated by the tests).
sio.savemat(os.path.join(out, "no_cube_v5.mat"), {"H": 3, "W": 5, "note": "no data here"})
_, _, cz = mixture(2)
sio.savemat(os.path.join(out, "complex_v5.mat"), {"Y": (cz.reshape(P, B).T * (1 + 1j)), "H": ROWS, "W": COLS})


# ---- v7.3 (h5py, as MATLAB writes it) ----------------------------------------------------
MATLAB_CLASS = {"float64": "double", "float32": "single", "int8": "int8", "uint8": "uint8",
                "int16": "int16", "uint16": "uint16", "int32": "int32", "uint32": "uint32",
                "int64": "int64", "uint64": "uint64"}


def matlab_class(dataset, cls):
    """The MATLAB_class attribute as MATLAB writes it: a scalar fixed-length ASCII string of
    exactly the name's length, H5T_STR_NULLTERM padding."""
    string = h5py.h5t.C_S1.copy()
    string.set_size(len(cls))
    string.set_strpad(h5py.h5t.STR_NULLTERM)
    attribute = h5py.h5a.create(dataset.id, b"MATLAB_class", string, h5py.h5s.create(h5py.h5s.SCALAR))
    attribute.write(np.array(cls.encode("ascii"), dtype=f"S{len(cls)}"), mtype=string)


def savemat73(path, variables, compress):
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Fri Jun  7 12:00:00 2024 HDF5 schema 1.00 ."
    with h5py.File(path, "w", userblock_size=512, libver="earliest") as f:
        for name, value in variables.items():
            array = np.asarray(value)
            if array.ndim < 2:
                array = array.reshape(1, -1)  # MATLAB has no 1-D arrays: a 1 x n row
            cls = MATLAB_CLASS[array.dtype.name]
            data = np.ascontiguousarray(array.T)  # HDF5 dims are MATLAB's reversed
            options = {"chunks": True, "compression": "gzip", "compression_opts": 3} if compress and data.size > 1 else {}
            d = f.create_dataset(name, data=data, **options)
            matlab_class(d, cls)
    with open(path, "r+b") as f:
        block = header.ljust(116, b" ") + b"\x00" * 8 + (0x0200).to_bytes(2, "little") + b"IM"
        f.write(block.ljust(512, b"\x00"))


e2e, a2e, c2e = mixture(2)
savemat73(os.path.join(out, "hysupp_v73.mat"),
          {k: (np.float64(x) if np.isscalar(x) else x) for k, x in hysupp(e2e, a2e, c2e, np.float64).items()},
          compress=True)
record("hysupp_v73.mat", c2e, "HySUPP", "7.3", "float64", e2e, a2e)

e3e, a3e, c3e = mixture(3)
savemat73(os.path.join(out, "hu_v73.mat"),
          {k: (np.float64(x) if np.isscalar(x) else x) for k, x in hu(e3e, a3e, c3e, np.float32).items()},
          compress=False)
record("hu_v73.mat", c3e.astype(np.float32), "hu_autoencoders", "7.3", "float32", e3e, a3e)

_, _, c3f = mixture(3)
signed = (np.round(c3f * 1000) - 400).astype(np.int16)
savemat73(os.path.join(out, "cube_v73.mat"),
          {"salinas": signed, "salinas_gt": rng.integers(0, 4, size=(ROWS, COLS)).astype(np.uint8)},
          compress=True)
record("cube_v73.mat", signed, "3-D", "7.3", "int16")

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print(f"wrote {len(expected)} fixtures in {out}", file=sys.stderr)
