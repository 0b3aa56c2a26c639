"""ENVI fixtures written by the `spectral` package, and what it reads back from them.

Usage: python envi.py OUTPUT_FOLDER   (through scripts/make-fixtures envi)

Writes into OUTPUT_FOLDER/envi/ (a 3 x 5 map, non-square, of 7 bands unless said):
  bip_float32.hdr + .img      BIP, float32, a non-uniform wavelength list in nanometers
  bil_int16.hdr + .img        BIL, int16 with negative values, big-endian (byte order 1)
  bsq_uint16.hdr + bsq_uint16 BSQ, uint16, no extension on the data file, no wavelength
  bsq_float64.img.hdr + .img  BSQ, float64, the `file.img.hdr` naming, a uniform wavelength
                              list in micrometers
  library.hdr + .sli          an ENVI spectral library of 4 spectra of 6 channels
  expected.json               for each file: the cube (rows x cols x bands, pixel-major), the
                              stored dtype, the wavelengths and their units and the description,
                              as `spectral` reads the file back, checked against the arrays
                              written.
"""
import json
import os
import sys

import numpy as np
import spectral.io.envi as envi

out = os.path.join(sys.argv[1], "envi")
os.makedirs(out, exist_ok=True)
for name in os.listdir(out):
    os.remove(os.path.join(out, name))

rows, cols, bands = 3, 5, 7
r, c, b = np.meshgrid(np.arange(rows), np.arange(cols), np.arange(bands), indexing="ij")
base = 100 * r + 10 * c + b                        # every sample tells where it is
nonuniform = [400.5, 410.0, 432.25, 470.0, 520.5, 600.0, 701.75]
uniform = [1.5 + 0.25 * i for i in range(bands)]
expected = {}


def record(name, header, data_file, cube, dtype, interleave, wavelengths=None, units="", description=""):
    img = envi.open(os.path.join(out, header), os.path.join(out, data_file))
    back = np.array(img.open_memmap(interleave="bip"))   # rows x cols x bands, as stored
    assert back.dtype.name == np.dtype(dtype).name and np.array_equal(back, cube), name
    meta = img.metadata
    got = [float(w) for w in meta["wavelength"]] if "wavelength" in meta else None
    assert got == wavelengths, (name, got, wavelengths)
    expected[name] = {
        "header": header, "data": data_file,
        "rows": int(cube.shape[0]), "cols": int(cube.shape[1]), "bands": int(cube.shape[2]),
        "dtype": np.dtype(dtype).name, "interleave": interleave,
        "byte_order": int(meta["byte order"]),
        "values": [float(v) for v in np.asarray(cube).ravel()],
        "wavelength": got, "wavelength_units": meta.get("wavelength units", units),
        "description": meta.get("description", description),
    }


a = (base / 4).astype(np.float32)
envi.save_image(os.path.join(out, "bip_float32.hdr"), a, interleave="bip", ext="img", force=True,
                metadata={"wavelength": nonuniform, "wavelength units": "Nanometers",
                          "description": "BIP float32 fixture", "band names": [f"b{i}" for i in range(bands)]})
record("bip_float32", "bip_float32.hdr", "bip_float32.img", a, "float32", "bip", nonuniform, "Nanometers",
       "BIP float32 fixture")

s16 = (base - 300).astype(np.int16)
envi.save_image(os.path.join(out, "bil_int16.hdr"), s16, interleave="bil", ext="img", byteorder=1, force=True)
record("bil_int16", "bil_int16.hdr", "bil_int16.img", s16, "int16", "bil")

u16 = (base * 7).astype(np.uint16)
envi.save_image(os.path.join(out, "bsq_uint16.hdr"), u16, interleave="bsq", ext="", force=True)
record("bsq_uint16", "bsq_uint16.hdr", "bsq_uint16", u16, "uint16", "bsq")

f64 = (base * 0.001 - 0.2).astype(np.float64)
envi.save_image(os.path.join(out, "bsq_float64.img.hdr"), f64, interleave="bsq", ext="", force=True,
                metadata={"wavelength": uniform, "wavelength units": "Micrometers"})
record("bsq_float64", "bsq_float64.img.hdr", "bsq_float64.img", f64, "float64", "bsq", uniform, "Micrometers")

spectra = (np.arange(4 * 6).reshape(4, 6) * 0.5 + 1).astype(np.float32)
library = envi.SpectralLibrary(spectra, {"wavelength": [10, 20, 30, 40, 50, 60], "wavelength units": "nm",
                                         "spectra names": ["a", "b", "c", "d"]}, None)
library.save(os.path.join(out, "library"), "a spectral library")
lib = envi.open(os.path.join(out, "library.hdr"), os.path.join(out, "library.sli"))
assert np.array_equal(lib.spectra, spectra)
expected["library"] = {
    "header": "library.hdr", "data": "library.sli", "rows": 1, "cols": 4, "bands": 6, "dtype": "float32",
    "interleave": "bip", "byte_order": int(lib.metadata["byte order"]),
    "values": [float(v) for v in spectra.ravel()],
    "wavelength": [float(w) for w in lib.bands.centers], "wavelength_units": lib.bands.band_unit,
    "description": lib.metadata.get("description", ""),
}

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote", sorted(os.listdir(out)))
