"""Writes the HyperSpy (.hspy) reader fixtures into <out>/hspy/ and their expectations into
<out>/hspy/expected.json.

Files written by HyperSpy 2.5 itself (format 3.3: chunked datasets, gzip + shuffle by default;
an EELS spectrum image 3 x 5 x 16 in float32 and uint16, a line scan, an int32 spectrum, a
non-uniform energy axis); files in the older layouts written with h5py from what RosettaSciIO's
reader says those versions held (1.0: no version attribute, `mapped_parameters` with
`name`/`signal`/`record_by` at its root, no `navigate`; 1.2: a float version,
`metadata/General`, `record_by`, no `navigate`; 1.3: axes as `_list_3_axes`; 2.0: `navigate`
flags); and minimal h5py files in the 3.3 layout (HyperSpy's files are ~25 KB of metadata
each): one per sample type (contiguous, both byte orders), float16, gzip level 9, a functional
axis, two signals in one file, an image, three navigation axes, a newer format version.
Every expectation is what HyperSpy 2.5 (`hyperspy.api.load`) reads from the file, reshaped the
way unmix holds a cube: rows x cols x bands, a line scan as 1 row, a spectrum as 1 x 1.
Files unmix must refuse (2-D signals, 3 navigation axes) list fragments of the refusal.

Usage: python hspy.py Tests/Fixtures/data
"""
import json
import os
import sys
import warnings

import h5py
import numpy as np
import hyperspy
import hyperspy.api as hs

out = os.path.join(sys.argv[1], "hspy")
os.makedirs(out, exist_ok=True)
expected = {}

SI_AXES = [
    dict(name="y", offset=1.0, scale=0.5, units="nm", navigate=True),
    dict(name="x", offset=-2.0, scale=0.25, units="nm", navigate=True),
    dict(name="Energy loss", offset=100.0, scale=0.5, units="eV", navigate=False),
]


def with_sizes(axes, shape):
    return [dict(a, size=n) for a, n in zip(axes, shape)]


def axis_json(axis, default_name):
    """One HyperSpy axis as unmix's Axis: name (unmix's default when HyperSpy has none)."""
    name = axis.name if isinstance(axis.name, str) and axis.name not in ("", "<undefined>") else default_name
    units = axis.units if isinstance(axis.units, str) and axis.units != "<undefined>" else ""
    entry = dict(name=name, size=int(axis.size), units=units)
    if axis.is_uniform:
        entry.update(offset=float(axis.offset), scale=float(axis.scale), values=None)
    else:
        values = [float(v) for v in axis.axis]
        entry.update(offset=values[0], scale=(values[-1] - values[0]) / (len(values) - 1), values=values)
    return entry


def index_axis(name):
    return dict(name=name, size=1, offset=0.0, scale=1.0, units="", values=None)


def expect(name, **extra):
    """Loads `name` with HyperSpy and records what unmix must read from it."""
    path = os.path.join(out, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = hs.load(path, file_format="HSPY")
    except Exception as error:  # files that are not HyperSpy's: HyperSpy refuses them too
        entry = dict(hyperspy=[f"error: {type(error).__name__}: {error}"])
        entry.update(extra)
        expected[name] = entry
        return
    signals = loaded if isinstance(loaded, list) else [loaded]
    entry = dict(hyperspy=[f"{type(s).__name__} {s.data.shape} {s.data.dtype}" for s in signals])
    if "refused" in extra:
        entry.update(extra)
        expected[name] = entry
        return
    s = signals[extra.pop("signal", 0)]
    axes = s.axes_manager._axes  # array order
    data = np.asarray(s.data)
    if data.ndim == 1:
        cube = data.reshape(1, 1, -1)
        row, col = index_axis("y"), index_axis("x")
    elif data.ndim == 2:
        cube = data.reshape(1, *data.shape)
        row, col = index_axis("y"), axis_json(axes[0], "x")
    else:
        cube = data
        row, col = axis_json(axes[0], "y"), axis_json(axes[1], "x")
    entry.update(
        rows=cube.shape[0], cols=cube.shape[1], bands=cube.shape[2], dtype=data.dtype.newbyteorder("=").name,
        title=s.metadata.General.title, row_axis=row, col_axis=col, signal_axis=axis_json(axes[-1], "channel"),
        values=[float(v) for v in cube.astype(np.float64).ravel()],
    )
    # unmix uses the file's pages in place when the data is contiguous little-endian float32
    # at an offset that is a multiple of 4.
    with h5py.File(path, "r") as f:
        titles = sorted(k for k in f["Experiments"] if "data" in f["Experiments"][k])
        dset = f["Experiments"][titles[extra.pop("experiment", 0)]]["data"]
        entry["mapped"] = dset.chunks is None and dset.compression is None and dset.dtype == np.dtype("<f4") \
            and dset.id.get_offset() % 4 == 0
    entry.update(extra)
    expected[name] = entry


def save(signal, name, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signal.save(os.path.join(out, name), overwrite=True, **kwargs)


# ---- Written by HyperSpy 2.5 -------------------------------------------------------------
values = (np.arange(3 * 5 * 16, dtype=np.float32).reshape(3, 5, 16) * 0.25 - 7).astype(np.float32)
s = hs.signals.Signal1D(values, axes=with_sizes(SI_AXES, values.shape))
s.metadata.General.title = "EELS SI"
s.metadata.Signal.signal_type = "EELS"  # exspy's class; plain HyperSpy loads a Signal1D
save(s, "si_float32.hspy")
expect("si_float32.hspy", version="3.3")

counts = (np.arange(3 * 5 * 16).reshape(3, 5, 16) * 271 % 65536).astype(np.uint16)
s = hs.signals.Signal1D(counts, axes=with_sizes(SI_AXES, counts.shape))
s.metadata.General.title = "EELS counts"
save(s, "si_uint16.hspy", compression=None)
expect("si_uint16.hspy", version="3.3")

line = np.linspace(-1, 1, 7 * 16).reshape(7, 16)
s = hs.signals.Signal1D(line, axes=with_sizes(SI_AXES[1:], line.shape))
s.metadata.General.title = "line scan"
save(s, "line_scan.hspy")
expect("line_scan.hspy", version="3.3")

spectrum = (np.arange(32, dtype=np.int32) * 1000 - 5000)
spectrum[3] = 2 ** 25 + 1  # above 2^24: float32 loses it, and unmix says so
s = hs.signals.Signal1D(spectrum, axes=with_sizes(SI_AXES[2:], spectrum.shape))
s.metadata.General.title = "spectrum"
save(s, "spectrum_int32.hspy")
expect("spectrum_int32.hspy", version="3.3", warning="lose precision")

nonuniform = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
s = hs.signals.Signal1D(nonuniform, axes=with_sizes(SI_AXES[:2], (2, 3))
                        + [dict(name="Energy", units="eV", axis=np.array([1.0, 2, 4, 8, 16]), navigate=False)])
s.metadata.General.title = "non-uniform"
save(s, "nonuniform.hspy")
expect("nonuniform.hspy", version="3.3")

# ---- Older layouts, written with h5py -------------------------------------------------------
def old_axis(group, i, name, size, offset, scale, units, navigate=None, extra=None):
    a = group.create_group(f"axis-{i}")
    a.attrs["name"] = name
    a.attrs["size"] = np.int64(size)
    a.attrs["offset"] = float(offset)
    a.attrs["scale"] = float(scale)
    a.attrs["units"] = units
    if navigate is not None:
        a.attrs["navigate"] = np.bool_(navigate)
    for key, value in (extra or {}).items():
        a.attrs[key] = value


# 1.0: no version attribute (RosettaSciIO infers 1.0 from the Experiments group);
# `mapped_parameters` with the title as `name`, the signal type as `signal`, and `record_by`;
# axes without `navigate` (old ones carried `index_in_array`). Big-endian float32, contiguous.
v10 = (np.arange(2 * 3 * 8).reshape(2, 3, 8) * 1.5 - 4).astype(">f4")
with h5py.File(os.path.join(out, "v1_0.hdf5"), "w") as f:
    f.attrs["file_format"] = "HyperSpy"
    g = f.create_group("Experiments/old spectra")
    g.create_dataset("data", data=v10)
    for i, (n, o, sc, u) in enumerate([("y", 0, 2, "um"), ("x", 5, 2, "um"), ("Energy", 200, 0.25, "eV")]):
        old_axis(g, i, n, v10.shape[i], o, sc, u, extra=dict(index_in_array=np.int64(i)))
    m = g.create_group("mapped_parameters")
    m.attrs["name"] = "old spectra"
    m.attrs["signal"] = "EELS"
    m.attrs["record_by"] = "spectrum"
    g.create_group("original_parameters")
expect("v1_0.hdf5", version="1.0")

# 1.2: the version as a float attribute, `metadata/General/title` (fixed-length bytes, as old
# h5py wrote), `metadata/Signal/record_by`, no `navigate`. A little-endian int16 line scan.
v12 = (np.arange(4 * 8).reshape(4, 8) * 3 - 40).astype("<i2")
with h5py.File(os.path.join(out, "v1_2.hdf5"), "w") as f:
    f.attrs["file_format"] = np.bytes_(b"HyperSpy")
    f.attrs["file_format_version"] = 1.2
    g = f.create_group("Experiments/line12")
    g.create_dataset("data", data=v12)
    old_axis(g, 0, "x", 4, 0, 1.5, "nm")
    old_axis(g, 1, "Energy", 8, -10, 0.5, "eV")
    g.create_group("metadata/General").attrs["title"] = np.bytes_(b"v1.2 line")
    sig = g.create_group("metadata/Signal")
    sig.attrs["record_by"] = np.bytes_(b"spectrum")
    sig.attrs["signal_type"] = np.bytes_(b"EELS")
    g.create_group("original_metadata")
expect("v1_2.hdf5", version="1.2")

# 2.0: a string version, `navigate` flags; uint8 chunked and gzip-compressed; an unnamed
# signal axis ("_None_", which unmix names "channel").
v20 = (np.arange(3 * 2 * 6).reshape(3, 2, 6) * 7 % 256).astype(np.uint8)
with h5py.File(os.path.join(out, "v2_0.hspy"), "w") as f:
    f.attrs["file_format"] = "HyperSpy"
    f.attrs["file_format_version"] = "2.0"
    g = f.create_group("Experiments/v2")
    g.create_dataset("data", data=v20, chunks=(1, 2, 6), compression="gzip")
    old_axis(g, 0, "y", 3, 0, 1, "px", navigate=True)
    old_axis(g, 1, "x", 2, 0, 1, "px", navigate=True)
    old_axis(g, 2, "_None_", 6, 10, 2, "_None_", navigate=False)
    g.create_group("metadata/General").attrs["title"] = "v2 counts"
    g.create_group("metadata/Signal").attrs["signal_type"] = ""
    g.create_group("original_metadata")
expect("v2_0.hspy", version="2.0")


# Axes stored as a list (`_list_3_axes/0`, `/1`, `/2`), as RosettaSciIO's generic dictionary
# writer stores a list of dictionaries; its reader falls back to it when `axis-<i>` is absent.
la = (np.arange(2 * 2 * 3) + 1).astype(np.float32).reshape(2, 2, 3)
with h5py.File(os.path.join(out, "list_axes.hspy"), "w", libver=("v108", "v110")) as f:
    f.attrs["file_format"] = "HyperSpy"
    f.attrs["file_format_version"] = "1.3"
    g = f.create_group("Experiments/listed")
    g.create_dataset("data", data=la)
    lst = g.create_group("_list_3_axes")
    for i, (n, o, sc, u, nav) in enumerate([("y", 0, 1, "nm", True), ("x", 0, 3, "nm", True), ("E", 5, 5, "eV", False)]):
        old_axis(lst, i, n, la.shape[i], o, sc, u, navigate=nav)
        lst.move(f"axis-{i}", str(i))
    g.create_group("metadata/General").attrs["title"] = "listed axes"
    g.create_group("original_metadata")
expect("list_axes.hspy", version="1.3")


# ---- One minimal file per sample type (format 3.3 layout, contiguous) ---------------------
def minimal(name, data, title, axes=SI_AXES, append=False, **dataset):
    """A file with only what HyperSpy needs (format 3.3 layout), compact (libver 1.8–1.10, which HDF5 1.10 reads);
    `append` adds a signal to an existing file."""
    with h5py.File(os.path.join(out, name), "a" if append else "w", libver=("v108", "v110")) as f:
        f.attrs["file_format"] = "HyperSpy"
        f.attrs["file_format_version"] = "3.3"
        g = f.create_group(f"Experiments/{title}")
        g.attrs["package"] = "hyperspy"
        g.attrs["package_version"] = hyperspy.__version__
        g.create_dataset("data", data=data, **dataset)
        for i, axis in enumerate(axes):
            axis = dict(axis)
            sub = axis.pop("x", None)
            a = g.create_group(f"axis-{i}")
            a.attrs["_type"] = "FunctionalDataAxis" if "expression" in axis else "UniformDataAxis"
            a.attrs["size"] = np.int64(data.shape[i])
            a.attrs["is_binned"] = np.False_
            for key, value in axis.items():
                a.attrs[key] = np.bool_(value) if key == "navigate" else value
            if sub is not None:  # a functional axis: its x, a uniform axis, as HyperSpy writes it
                x = a.create_group("x")
                for key, value in dict(_type="UniformDataAxis", is_binned=np.False_, name="_None_", navigate=np.False_,
                                       offset=0.0, scale=1.0, size=np.int64(data.shape[i]), units="_None_").items():
                    x.attrs[key] = value
        g.create_group("metadata/General").attrs["title"] = title
        g.create_group("metadata/Signal").attrs["signal_type"] = ""
        g.create_group("original_metadata")


smooth = (np.add.outer(np.add.outer(np.arange(4) * 10, np.arange(6)), np.zeros(32)) + np.arange(32) // 8).astype(np.int16)
minimal("compressed.hspy", smooth, "compressed", chunks=(2, 3, 32), compression="gzip", compression_opts=9, shuffle=True)
expect("compressed.hspy", version="3.3")

half = (np.arange(2 * 3 * 8).reshape(2, 3, 8) * 0.5 - 3).astype(np.float16)
minimal("float16.hspy", half, "half")
expect("float16.hspy", version="3.3")

functional = np.arange(2 * 2 * 5, dtype=np.float32).reshape(2, 2, 5)
minimal("functional.hspy", functional, "functional",
        axes=SI_AXES[:2] + [dict(name="Energy", units="eV", expression="a / (x + 1)", a=10.0, x=True, navigate=False)])
# unmix does not evaluate the expression: channels are numbered 0, 1, …, with a warning.
expect("functional.hspy", version="3.3", warning="functional axis")
expected["functional.hspy"]["signal_axis"].update(offset=0.0, scale=1.0, values=None)

image = np.arange(4 * 6, dtype=np.float32).reshape(4, 6)
minimal("image.hspy", image, "an image", axes=[dict(name="y", navigate=False), dict(name="x", navigate=False)])
expect("image.hspy", refused=["'an image'", "2-D signal", "(4, 6)"])

stack = np.zeros((2, 2, 2, 4), dtype=np.float32)
minimal("nav3.hspy", stack, "stack", axes=[dict(name=n, navigate=True) for n in "zyx"] + [dict(name="E", navigate=False)])
expect("nav3.hspy", refused=["'stack'", "3 navigation axes"])


# A newer major format version than 3: read as 3.x, with a warning (HyperSpy warns too).
minimal("future.hspy", np.ones((1, 2, 3), dtype=np.float32), "future")
with h5py.File(os.path.join(out, "future.hspy"), "a") as f:
    f.attrs["file_format_version"] = "4.0"
expect("future.hspy", version="4.0", warning="newer")

# Two signals in one file (hs.load returns a list, in name order): a stack of maps first, then
# spectra; unmix reads the spectra and names what it skipped.
minimal("two_signals.hspy", np.ones((2, 3, 4), dtype=np.float32), "a maps",
        axes=[dict(name="k", navigate=True), dict(name="y", navigate=False), dict(name="x", navigate=False)])
minimal("two_signals.hspy", np.arange(2 * 4, dtype=np.float32).reshape(2, 4), "b spectra", append=True,
        axes=[dict(name="x", navigate=True), dict(name="E", navigate=False, units="eV")])
expect("two_signals.hspy", version="3.3", signal=1, experiment=1, warning="'a maps'")

ramp = np.arange(24).reshape(2, 3, 4)
for dtype in ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8", ">i2", ">u4", ">f4", ">f8"]:
    t = np.dtype(dtype)
    if t.kind == "f":
        data = (ramp * 0.375 - 4).astype(t)
    elif t.kind == "i":
        data = ((ramp - 12) * (np.iinfo(t).max // 16)).astype(t)
    else:
        data = (ramp * (np.iinfo(t).max // 32)).astype(t)
    label = ("be_" if t.byteorder == ">" else "") + t.newbyteorder("=").name
    minimal(f"dtype_{label}.hspy", data, f"{label} ramp")
    wide = t.kind in "iu" and t.itemsize >= 4  # counts above 2^24: unmix warns they lose precision
    expect(f"dtype_{label}.hspy", version="3.3", **(dict(warning="lose precision") if wide else {}))

# HDF5 files that are not HyperSpy's.
with h5py.File(os.path.join(out, "not_hyperspy.h5"), "w", libver=("v108", "v110")) as f:
    f.attrs["file_format"] = "NeXus"
    f.create_dataset("entry/data", data=np.zeros((2, 3, 4), dtype=np.float32))
expect("not_hyperspy.h5", refused=["not a HyperSpy", "NeXus"])
with h5py.File(os.path.join(out, "plain.h5"), "w", libver=("v108", "v110")) as f:
    f.create_dataset("cube", data=np.zeros((2, 3, 4), dtype=np.float32))
expect("plain.h5", refused=["not a HyperSpy", "no Experiments group"])

with open(os.path.join(out, "expected.json"), "w") as f:
    generator = f"HyperSpy {hyperspy.__version__}, h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version}), NumPy {np.__version__}"
    f.write('{"generator": %s,\n "files": {\n' % json.dumps(generator))
    f.write(",\n".join(f"  {json.dumps(name)}: {json.dumps(expected[name], sort_keys=True)}" for name in sorted(expected)))
    f.write("\n }\n}\n")
print(f"wrote {len(expected)} files and expected.json in {out}")
