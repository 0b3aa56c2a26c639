import Foundation
import UnmixHost

// unmix-bench-readers: how fast each format we also write is read back, against `cat FILE >
// /dev/null` in the same run, and the reader's peak memory over the file's size.
//
//   swift run -c release unmix-bench-readers [--size ROWSxCOLSxBANDS] [--formats npy,rpl,...] [--dir DIR] [--keep]
//
// For each writer a generated float32 cube (512 × 512 × 2048, 2 GiB, by default) is written to
// DIR, read once by `cat` to put it in the page cache, then timed three times each: `cat FILE >
// /dev/null` and a child `unmix-bench-readers --read FILE`, which opens it as `unmix run` does
// (Datasets.open: read, convert, check every value is finite). The child's peak memory is
// its ru_maxrss. Files are removed after their row.

func fail(_ message: String) -> Never {
    writeStderr("unmix-bench-readers: \(message)\n")
    exit(2)
}

/// Child mode: open, touch every value, print the seconds spent.
if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "--read" {
    let t0 = now()
    do {
        // Datasets.open reads, converts and scans every value (the finiteness check), so every
        // page of the cube has been touched when it returns.
        let dataset = try Datasets.open(CommandLine.arguments[2])
        print(String(format: "%.6f %@", now() - t0, dataset.cube.storage.isMapped ? "mapped" : "copied"))
        exit(0)
    } catch {
        writeStderr("unmix-bench-readers: \(error)\n")
        exit(1)
    }
}

var size = (rows: 512, cols: 512, bands: 2048)
var formats: [String]? = nil
var keep = false
var folder = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-bench-readers-\(getpid())")
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--size":
        let p = (args.isEmpty ? "" : args.removeFirst()).split(separator: "x").compactMap { Int($0) }
        guard p.count == 3, p.allSatisfy({ $0 > 0 }) else { fail("--size expects ROWSxCOLSxBANDS") }
        size = (p[0], p[1], p[2])
    case "--formats": formats = (args.isEmpty ? "" : args.removeFirst()).split(separator: ",").map(String.init)
    case "--dir": folder = URL(fileURLWithPath: args.isEmpty ? "." : args.removeFirst())
    case "--keep": keep = true
    case "-h", "--help":
        print("usage: unmix-bench-readers [--size ROWSxCOLSxBANDS] [--formats npy,rpl,...] [--dir DIR] [--keep]")
        exit(0)
    default: fail("unknown option \(a)")
    }
}

try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { if !keep { try? FileManager.default.removeItem(at: folder) } }
let count = size.rows * size.cols * size.bands
writeStderr("generating a \(size.rows) × \(size.cols) × \(size.bands) float32 cube (\((count * 4) >> 20) MiB)…\n")
let storage = SampleStorage(count: count) { out in
    DispatchQueue.concurrentPerform(iterations: size.rows) { r in
        for i in (r * size.cols * size.bands)..<((r + 1) * size.cols * size.bands) {
            out[i] = Float((i &* 2_654_435_761) & 0xFFFF) * 0.01
        }
    }
}
let dataset = Dataset(path: "generated", format: "generated", cube: CubeData(rows: size.rows, cols: size.cols, bands: size.bands, storage: storage),
                      dtype: .float32, signalAxis: Axis(name: "Energy loss", size: size.bands, offset: 100, scale: 0.25, units: "eV"),
                      title: "benchmark")

/// Runs `argv` with stdout to a pipe; returns its wall time, peak memory (MiB) and stdout.
func timed(_ argv: [String], stdout path: String) throws -> (seconds: Double, peakMiB: Double, output: String) {
    let t0 = now()
    let outcome = try runChild(argv[0], Array(argv.dropFirst()), stdout: path, stderr: nil)
    let seconds = now() - t0
    guard outcome.succeeded else { throw UnmixError("\(argv.joined(separator: " ")) failed") }
    return (seconds, outcome.peakMemoryMiB, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
}

var rows = [[String]]()
let me = PluginSearchPath.executablePath()
for writer in Datasets.writers where formats == nil || formats!.contains(writer.fileExtension) {
    let file = folder.appendingPathComponent("cube.\(writer.fileExtension)").path
    do {
        let t0 = now()
        try writer.write(dataset, to: file)
        let writeSeconds = now() - t0
        let bytes = folder.path.isEmpty ? 0 : (try FileManager.default.contentsOfDirectory(atPath: folder.path))
            .reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent($1).path)[.size] as? Int) ?? 0) }
        let sink = folder.appendingPathComponent("stdout").path
        _ = try timed(["/bin/sh", "-c", "cat \"$0\"* > /dev/null", file.replacingOccurrences(of: ".\(writer.fileExtension)", with: "")], stdout: sink)
        var cat = [Double](), read = [Double](), peak = 0.0, how = ""
        for _ in 0..<3 {
            cat.append(try timed(["/bin/sh", "-c", "cat \"$0\"* > /dev/null", file.replacingOccurrences(of: ".\(writer.fileExtension)", with: "")], stdout: sink).seconds)
            let r = try timed([me, "--read", file], stdout: sink)
            read.append(r.seconds)
            peak = max(peak, r.peakMiB)
            how = r.output.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        }
        let (c, rd) = (cat.sorted()[1], read.sorted()[1])
        let fileMiB = Double(bytes) / 1_048_576
        rows.append([writer.formatName, writer.fileExtension, String(format: "%.0f", fileMiB), String(format: "%.2f", writeSeconds),
                     String(format: "%.3f", c), String(format: "%.3f", rd), String(format: "%.2f", rd / c), how,
                     String(format: "%.0f", peak), String(format: "%.2f", peak / fileMiB)])
    } catch {
        rows.append([writer.formatName, writer.fileExtension, "-", "-", "-", "-", "-", "\(error)", "-", "-"])
    }
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where !keep {
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
    }
}
print("\nreading a \(size.rows) × \(size.cols) × \(size.bands) float32 cube (median of 3; the file in the page cache)\n")
print(renderTable(["FORMAT", "EXT", "FILE (MiB)", "WRITE (s)", "CAT (s)", "READ (s)", "READ/CAT", "CUBE", "PEAK (MiB)", "PEAK/FILE"], rows,
                  rightAligned: [2, 3, 4, 5, 6, 8, 9]), terminator: "")
