#!/usr/bin/env python3
"""Writes the seed corpus of the model-file fuzzer (Tests/Fixtures/fuzz/model/).

    make_model_seeds.py OUT_DIR

Model file format 2 (Sources/UnmixIO/Model/ModelFile.swift) written independently of the Swift
code, with zlib's CRC-32: files named valid-* are well formed and must be read; files named
refuse-* are crafted to be refused (most with a correct checksum, so that the header checks are
what refuses them). FuzzCorpusTests replays them all.
"""
import json
import os
import struct
import sys
import zlib

MAGIC = b"unmix-model 2\n"


def header(**fields):
    h = {"format": 2, "plugin": "vca", "version": "1.0.0", "values": [0.0, 1.0], "parameters": {"snr": "0"},
         "seed": 7, "bands": 5, "r": 2, "state_bytes": 8, "selection": {}}
    h.update(fields)
    return json.dumps({k: v for k, v in h.items() if v is not None}, sort_keys=True, allow_nan=True).encode()


def model(head, r=2, bands=5, state=b"UXST\x01\x00\x00\x00", endmembers=None, magic=MAGIC, crc=True):
    if endmembers is None:
        endmembers = [0.1 * (i + 1) for i in range(r * bands)]
    body = magic + head + b"\n" + b"".join(struct.pack("<f", v) for v in endmembers) + state
    return body + struct.pack("<I", zlib.crc32(body)) if crc else body


def main(out):
    os.makedirs(out, exist_ok=True)
    axis = {"name": "Energy loss", "size": 5, "offset": 100.0, "scale": 0.5, "units": "eV"}
    files = {
        "valid-minimal": model(header()),
        "valid-axis-selection": model(header(signal_axis=axis, selection={
            "range": {"start": 10, "end": 15, "inChannels": True},
            "roi": {"rowStart": 0, "rowEnd": 4, "colStart": 1, "colEnd": 3}})),
        "valid-axis-values": model(header(signal_axis=dict(axis, values=[1.0, 2.0, 4.0, 8.0, 16.0]), seed=2**64 - 1)),
        "valid-empty-state": model(header(state_bytes=0), state=b""),
        "valid-r3-b7": model(header(r=3, bands=7, state_bytes=3), r=3, bands=7, state=b"abc"),
        "refuse-format1": b"unmix-model 1\n" + header() + b"\n" + b"\x00" * 48,
        "refuse-format3": model(header(), magic=b"unmix-model 3\n"),
        "refuse-not-a-model": b"\x93NUMPY\x01\x00",
        "refuse-empty": b"",
        "refuse-bad-crc": model(header())[:-1] + b"\x00",
        "refuse-truncated": model(header())[:-3],
        "refuse-huge-r": model(header(r=2**62)),
        "refuse-huge-bands": model(header(bands=2**62 + 1, r=3)),
        "refuse-overflowing-size": model(header(r=2**31, bands=2**33)),
        "refuse-huge-state": model(header(state_bytes=2**63 - 1)),
        "refuse-negative-r": model(header(r=-1)),
        "refuse-negative-state": model(header(state_bytes=-8)),
        "refuse-r-equals-bands": model(header(r=5), r=2),
        "refuse-one-band": model(header(r=1, bands=1, state_bytes=0), r=1, bands=1, state=b""),
        "refuse-inf-value": model(header(values=[float("inf")])),
        "refuse-nan-value": model(header(values=[float("nan")])),
        "refuse-axis-size": model(header(signal_axis=dict(axis, size=6))),
        "refuse-axis-values-count": model(header(signal_axis=dict(axis, values=[1.0, 2.0]))),
        "refuse-channel-range-huge": model(header(selection={"range": {"start": 1e300, "inChannels": True}})),
        "refuse-negative-roi": model(header(selection={"roi": {"rowStart": -4}})),
        "refuse-nan-endmember": model(header(), endmembers=[float("nan")] * 10),
        "refuse-deep-json": model(b"[" * 20000 + b"]" * 20000),
        "refuse-no-newline": (lambda b: b + struct.pack("<I", zlib.crc32(b)))(MAGIC + header()),
        "refuse-format-field": model(header(format=1)),
        "refuse-missing-field": model(header(plugin=None)),
        "refuse-seed-negative": model(header(seed=-1)),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(files)} model seeds in {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
