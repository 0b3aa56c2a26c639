"""Benchmarks of the Python package (run by scripts/bench-python, in release mode).

1. `Unmixer(...).fit_transform(X)` against `unmix run` on the same cube, same plugin and seed,
   measured in the same run (wall time of the whole call, median of --repeat).
2. `unmix.dask.apply` of a trained DAEU on a lazily generated N × N × B float32 Dask array on a
   LocalCluster of 2 single-threaded workers with a memory limit each: time, pixels per second,
   and the peak resident memory of each worker process and of its children (the `unmix serve`
   host and the plugin workers it starts).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import unmix
import unmix.dask as udask


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_fit(exe, preset, plugins, repeat, scratch):
    data = scratch / preset
    if not data.exists():
        subprocess.run([exe, "synth", "--preset", preset, "--seed", "1", "--out", str(data)], check=True, capture_output=True)
    cube = np.load(data / "cube.npy")
    X = cube.reshape(-1, cube.shape[2])
    r = len(np.load(data / "endmembers.npy"))
    rows = []
    for plugin in plugins:
        def cli():
            subprocess.run([exe, "run", plugin, str(data / "cube.npy"), "-r", str(r), "--seed", "1", "--out", str(scratch / "cli-out")],
                           check=True, capture_output=True)

        def python():
            unmix.Unmixer(plugin, r, random_state=1).fit_transform(X)

        python()  # start the host once, as a session would
        t_cli, t_py = median_time(cli, repeat), median_time(python, repeat)
        rows.append((plugin, preset, t_cli, t_py, t_py / t_cli))
    print(f"\nfit_transform against unmix run ({preset}: {cube.shape[0]}×{cube.shape[1]}×{cube.shape[2]}, median of {repeat})")
    print(f"{'plugin':8} {'unmix run (s)':>14} {'Python (s)':>11} {'ratio':>6}")
    for plugin, _, a, b, ratio in rows:
        print(f"{plugin:8} {a:14.3f} {b:11.3f} {ratio:6.2f}")
    return rows


def smooth_endmembers(bands, rng):
    """Three edge-like spectra on `bands` channels (power-law decay after an onset)."""
    e = np.empty((3, bands), dtype=np.float32)
    x = np.arange(bands, dtype=np.float64)
    for k, onset in enumerate((0.15, 0.45, 0.7)):
        o = onset * bands
        edge = np.where(x > o, (1 + np.clip(x - o, 0, None) / 40.0) ** -1.2, 0.0)
        e[k] = (200 * (x + 50.0) ** -0.8 + 100 * edge + rng.uniform(0.5, 1.5)).astype(np.float32)
    return e


def generated_block(block_info=None, endmembers=None, seed=0):
    """One chunk of the synthetic cube: Dirichlet abundances times the endmembers, Poisson noise."""
    loc = block_info[None]["array-location"]
    shape = block_info[None]["chunk-shape"]
    rng = np.random.default_rng([seed, loc[0][0], loc[1][0]])
    a = rng.dirichlet(np.ones(3), size=shape[0] * shape[1]).astype(np.float32)
    mean = a @ endmembers
    return rng.poisson(mean).astype(np.float32).reshape(shape)


def bench_dask(n, bands, chunk_rows, limit, epochs, scratch):
    import dask.array as da
    from distributed import Client, LocalCluster

    rng = np.random.default_rng(0)
    endmembers = smooth_endmembers(bands, rng)
    lazy = da.map_blocks(generated_block, dtype=np.float32, chunks=((chunk_rows,) * (n // chunk_rows), (n,), (bands,)),
                         endmembers=endmembers, seed=1)
    train = lazy[:64, :64].compute()
    est = unmix.Unmixer("daeu", 3, random_state=0, epochs=epochs).fit(train.reshape(-1, bands))
    nbytes = n * n * bands * 4
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=limit, dashboard_address=None) as cluster, Client(cluster) as client:
        # Warm each worker's host (started on first use) so that start-up is not in the time.
        udask.apply(est, lazy[: 2 * chunk_rows]).compute()
        # The baseline: generating the cube and reducing each spectrum to R numbers, no unmixing.
        t0 = time.perf_counter()
        lazy.sum(axis=-1).compute()
        baseline = time.perf_counter() - t0
        t0 = time.perf_counter()
        abundances = udask.apply(est, lazy).compute()
        seconds = time.perf_counter() - t0

        def peaks():
            from unmix._host import host

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, dict(host().peak_memory_mib)

        memory = client.run(peaks)
    assert abundances.shape == (n, n, 3) and np.isfinite(abundances).all()
    print(f"\nunmix.dask.apply of DAEU ({epochs} epochs) on {n}×{n}×{bands} float32 ({nbytes / 2**30:.1f} GiB, generated lazily,"
          f" chunks of {chunk_rows}×{n} pixels), LocalCluster 2 workers × 1 thread, memory_limit {limit}")
    print(f"apply: {seconds:.1f} s, {n * n / seconds:,.0f} pixels/s, {nbytes / seconds / 2**20:.0f} MiB/s;"
          f" baseline (generate and sum the same chunks): {baseline:.1f} s; apply / baseline {seconds / baseline:.2f}")
    for address, (worker, peaks) in sorted(memory.items()):
        print(f"  Dask worker {address}: peak RSS {worker:.0f} MiB; its unmix host {peaks['host']:.0f} MiB;"
              f" largest plugin worker {peaks['worker']:.0f} MiB")
    return seconds, memory


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=1024, help="N of the N × N × bands Dask cube")
    parser.add_argument("--bands", type=int, default=1024)
    parser.add_argument("--chunk-rows", type=int, default=32)
    parser.add_argument("--memory-limit", default="2GiB")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-fit", action="store_true")
    args = parser.parse_args()
    exe = unmix.find_executable()
    scratch = Path(tempfile.mkdtemp(prefix="unmix-bench-python-"))
    print(f"unmix: {exe}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    if not args.skip_fit:
        bench_fit(exe, "eels4", ["vca", "nmf"], args.repeat, scratch)
    if not args.skip_dask:
        bench_dask(args.size, args.bands, args.chunk_rows, args.memory_limit, args.epochs, scratch)


if __name__ == "__main__":
    sys.exit(main())
