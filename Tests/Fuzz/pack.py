#!/usr/bin/env python3
"""Packs the seed folders of Tests/Fixtures/fuzz into the bundles ReaderFuzzer.swift reads.

    pack.py SEEDS_DIR OUT_DIR

Files that belong together (same stem: x.rpl + x.raw, x.hdr + x.img, x.emi + x_1.ser) become
one bundle, the header file first; every other file is a bundle of its own.
"""
import os
import struct
import sys

HEADERS = (".rpl", ".hdr", ".emi")


def stem(name):
    base = name.split(".", 1)[0]
    return base[:-2] if base.endswith("_1") else base


def bundle(files):
    out = b""
    for name, data in files:
        encoded = name.encode()
        out += struct.pack("<H", len(encoded)) + encoded + struct.pack("<I", len(data)) + data
    return out


def main(seeds, out):
    os.makedirs(out, exist_ok=True)
    names = sorted(n for n in os.listdir(seeds) if os.path.isfile(os.path.join(seeds, n)))
    groups = {}
    for n in names:
        groups.setdefault(stem(n), []).append(n)
    count = 0
    for key, members in groups.items():
        members.sort(key=lambda n: (not n.endswith(HEADERS), n))
        has_header = members[0].endswith(HEADERS)
        sets = [members] if has_header else [[m] for m in members]
        for s in sets:
            files = [(m, open(os.path.join(seeds, m), "rb").read()) for m in s]
            with open(os.path.join(out, "seed-" + s[0]), "wb") as f:
                f.write(bundle(files))
            count += 1
    print(f"{count} bundles from {seeds}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
