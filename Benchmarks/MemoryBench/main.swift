import Foundation
import UnmixHost

// unmix-bench-memory: time and peak memory of `unmix run PLUGIN` on generated float32 cubes of
// growing size (64², 128², 256², 512² pixels × 1024 bands by default).
//
//   swift run -c release unmix-bench-memory [--sizes 64,128,256,512] [--bands 1024] [--plugins vca,nmf,udas] [--r 4]
//
// Each cube is a seeded linear mixture of R smooth spectra with Poisson-like noise, written as
// a NumPy file (read in place by the host, mapped by the worker: neither copies it). Each run is
// `unmix run` as a user types it; run.json gives the worker's and the host's peak resident
// memory (ru_maxrss). Both count the cube's pages they touched, which are the same physical
// pages (the page cache), so the memory the run needed is about host + worker − cube: that is
// the TOTAL column, and ×CUBE is it over the cube's size.

func fail(_ message: String) -> Never {
    writeStderr("unmix-bench-memory: \(message)\n")
    exit(2)
}

var sizes = [64, 128, 256, 512]
var bands = 1024
var plugins = ["vca", "nmf", "udas"]
var r = 4
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    let value = args.isEmpty ? "" : args.removeFirst()
    switch a {
    case "--sizes": sizes = value.split(separator: ",").compactMap { Int($0) }
    case "--bands": bands = Int(value) ?? 0
    case "--plugins": plugins = value.split(separator: ",").map(String.init)
    case "--r": r = Int(value) ?? 0
    default: fail("unknown option \(a) (see the comment at the top of Benchmarks/MemoryBench/main.swift)")
    }
}
guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }), bands > r, r >= 1 else { fail("bad sizes, bands or R") }

let exe = Worker.executable
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-bench-memory-\(getpid())")
try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }

/// A seeded mixture cube side × side × bands, written as cube.npy.
func writeCube(side: Int) throws -> URL {
    var state: UInt64 = 0x2545_F491_4F6C_DD1D &+ UInt64(side)
    func uniform() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24)
    }
    let spectra = (0..<r).map { e in
        (0..<bands).map { b -> Float in
            let x = (Float(b) - Float(e + 1) * Float(bands) / Float(r + 1)) / Float(bands / (3 * r))
            return 50 * (0.3 + expf(-x * x)) * (1 + Float(b) / Float(bands))
        }
    }
    let pixels = side * side
    let url = folder.appendingPathComponent("cube-\(side).npy")
    let storage = SampleStorage(count: pixels * bands) { out in
        var w = [Float](repeating: 0, count: r)
        for p in 0..<pixels {
            var total: Float = 0
            for e in 0..<r { w[e] = -logf(max(1e-6, uniform())); total += w[e] }
            for b in 0..<bands {
                var v: Float = 0
                for e in 0..<r { v += w[e] / total * spectra[e][b] }
                out[p * bands + b] = v + (uniform() - 0.5) * v.squareRoot()
            }
        }
    }
    try NPY.write(CubeData(rows: side, cols: side, bands: bands, storage: storage), to: url.path)
    return url
}

print("unmix-bench-memory: unmix run PLUGIN cube.npy -r \(r) (float32 NumPy input, mapped in place), \(ProcessInfo.processInfo.activeProcessorCount) cores\n")
var rows = [[String]]()
for side in sizes {
    writeStderr("generating \(side)×\(side)×\(bands)…\n")
    let cube: URL
    do { cube = try writeCube(side: side) } catch { fail("cannot write the cube: \(error)") }
    let cubeMiB = Double(side * side * bands * 4) / 1_048_576
    for plugin in plugins {
        let out = folder.appendingPathComponent("out-\(plugin)-\(side)")
        let logs = folder.appendingPathComponent("log-\(plugin)-\(side)")
        let t0 = now()
        let outcome = try runChild(exe, ["run", plugin, cube.path, "-r", String(r), "--out", out.path, "--json"],
                                   stdout: logs.path + ".json", stderr: logs.path + ".stderr")
        let seconds = now() - t0
        var row = ["\(side)² × \(bands)", String(format: "%.0f", cubeMiB), plugin]
        if outcome.succeeded, let data = FileManager.default.contents(atPath: logs.path + ".json"),
           let report = try? decodeJSON(RunReport.self, data) {
            let total = report.hostPeakMemoryMib + report.workerPeakMemoryMib - cubeMiB
            row += [String(format: "%.2f", seconds), String(format: "%.2f", report.fitSeconds ?? 0),
                    String(format: "%.0f", report.hostPeakMemoryMib), String(format: "%.0f", report.workerPeakMemoryMib),
                    String(format: "%.0f", total), String(format: "%.2f", total / cubeMiB)]
        } else {
            let why = (try? String(contentsOfFile: logs.path + ".stderr", encoding: .utf8))?.split(separator: "\n").last.map(String.init)
            row += ["-", "-", "-", "-", "-", "failed: \(why ?? "status \(outcome.exitStatus ?? -1)")"]
        }
        rows.append(row)
        print(renderTable(["CUBE", "MiB", "PLUGIN", "WALL (s)", "FIT (s)", "HOST PEAK", "WORKER PEAK", "TOTAL", "×CUBE"], [row],
                          rightAligned: [1, 3, 4, 5, 6, 7, 8]).split(separator: "\n").last.map(String.init) ?? "")
        try? FileManager.default.removeItem(at: out)
    }
    try? FileManager.default.removeItem(at: cube)
}
print("")
print(renderTable(["CUBE", "MiB", "PLUGIN", "WALL (s)", "FIT (s)", "HOST PEAK", "WORKER PEAK", "TOTAL", "×CUBE"], rows,
                  rightAligned: [1, 3, 4, 5, 6, 7, 8]), terminator: "")
print("\npeaks in MiB (ru_maxrss); TOTAL = host + worker − cube (the cube's pages are shared, counted in both)")
