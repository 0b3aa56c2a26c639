import Foundation
import UnmixHost
import UnmixNumerics

// unmix-bench: times every discovered plugin on the synthetic presets and prints a table.
// Where python3 with numpy and scipy is installed, it also times the Python baselines in
// Benchmarks/python on the very same cubes, in the same run, and prints our time over theirs.
//
//   swift run -c release unmix-bench [--repeat N] [--plugins vca,...] [--presets eels3,eels4]
//                                    [--set PLUGIN.key=value ...]
//
// `--set` changes a parameter for our plugin and its baseline alike (e.g. `cnnaeu.epochs=10` to
// compare the cost per epoch where a full training would take an hour); a baseline that does
// not know the parameter fails its row rather than run something else.

struct Options {
    var repeatCount = 5
    var plugins: [String]? = nil
    var presets: [SyntheticPreset] = [.eels3, .eels4]
    var settings: [String] = []
}

func parseOptions() -> Options {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())
    while !args.isEmpty {
        let a = args.removeFirst()
        switch a {
        case "--repeat": o.repeatCount = Int(args.removeFirst()) ?? 5
        case "--plugins": o.plugins = args.removeFirst().split(separator: ",").map(String.init)
        case "--presets": o.presets = args.removeFirst().split(separator: ",").compactMap { SyntheticPreset(rawValue: String($0)) }
        case "--set": o.settings.append(args.removeFirst())
        case "-h", "--help":
            print("usage: unmix-bench [--repeat N] [--plugins a,b] [--presets eels3,eels4] [--set PLUGIN.key=value ...]")
            exit(0)
        default:
            writeStderr("unmix-bench: unknown option \(a)\n")
            exit(2)
        }
    }
    return o
}

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// Runs the Python baseline `script` on `dir` and returns its median time and mean SAD, or why
/// it did not run (the last line it wrote on stderr: python3 or a package missing, a --set
/// parameter it does not support).
func pythonBaseline(_ script: String, dir: URL, repeatCount: Int, settings: [String]) -> Result<(seconds: Double, sad: Double), UnmixError> {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python").appendingPathComponent(script).path
    guard FileManager.default.fileExists(atPath: path) else { return .failure(UnmixError("\(path) not found")) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", path, dir.path, String(repeatCount)] + settings
    // These pin old OpenBLAS kernels on some machines here and slow numpy's newer OpenBLAS:
    // the baseline runs without them, so it is not handicapped (ours keeps the environment).
    var env = ProcessInfo.processInfo.environment
    env["OPENBLAS_CORETYPE"] = nil
    env["OPENBLAS_L2_SIZE"] = nil
    p.environment = env
    let out = Pipe()
    let errPath = dir.appendingPathComponent("baseline-stderr.txt")
    FileManager.default.createFile(atPath: errPath.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errPath) }
    guard let err = try? FileHandle(forWritingTo: errPath) else { return .failure(UnmixError("cannot write \(errPath.path)")) }
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch { return .failure(UnmixError("python3: \(error)")) }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try? err.close()
    guard p.terminationStatus == 0, let json = try? parseJSON(data),
          let s = json["median_seconds"] as? Double, let sad = json["sad_mean"] as? Double else {
        let lines = (try? String(contentsOf: errPath, encoding: .utf8))?.split(separator: "\n") ?? []
        return .failure(UnmixError(lines.last.map(String.init) ?? "exit status \(p.terminationStatus)"))
    }
    return .success((s, sad))
}

let options = parseOptions()
MemoryPolicy.keepFreedMemory()
let registry = PluginRegistry.discover(.standard(explicit: []))
let plugins = registry.plugins.filter { options.plugins == nil || options.plugins!.contains($0.descriptor.id) }
let settings: [String: [String]]
do {
    settings = try groupPluginSettings(options.settings, plugins)
} catch {
    writeStderr("unmix-bench: \(error)\n")
    exit(2)
}
let baselines = [
    "vca": "vca_baseline.py",
    "nmf": "nmf_baseline.py",
    "ica": "ica_baseline.py",
    "blu": "blu_baseline.py",
    "daeu": "daeu_baseline.py",
    "udas": "udas_baseline.py",
    "mtaeu": "mtaeu_baseline.py",
    "cnnaeu": "cnnaeu_baseline.py",
]
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-bench-\(getpid())")
defer { try? FileManager.default.removeItem(at: tmp) }

print("unmix-bench: median of \(options.repeatCount) runs (fit + abundances), \(ProcessInfo.processInfo.activeProcessorCount) cores, "
      + "OpenBLAS \(blasCoreName()) kernels, \(blasThreads()) threads\n")
var rows = [[String]]()
var notes = [String]()
for preset in options.presets {
    let data = SyntheticDataset.generate(preset, seed: 0)
    let dir = tmp.appendingPathComponent(preset.rawValue)
    try data.write(to: dir)
    let input = try Input.open(dir.path)
    let cube = input.cube
    let truth = input.truth!
    for plugin in plugins {
        let mine = settings[plugin.descriptor.id] ?? []
        var fit = [Double](), total = [Double](), sads = [Double]()
        var failure: String?
        for i in 0..<options.repeatCount {
            do {
                // parse → resolve → run: the same typed request and worker as `unmix run`.
                let request = RunRequest(plugin: plugin, values: try resolveParameters(plugin.descriptor, settings: mine),
                                         seed: UInt64(i), r: data.r, input: input)
                let result = try Runner.run(request).result
                fit.append(result.fitSeconds)
                total.append(result.fitSeconds + result.abundanceSeconds)
                sads.append(Score(truth: truth, result: result, pixels: cube.pixels, bands: cube.bands).sadMean)
            } catch {
                failure = "\(error)"
                break
            }
        }
        var row = ["\(preset.rawValue) \(data.rows)×\(data.cols)×\(data.bands)", ([plugin.descriptor.id] + mine).joined(separator: " ")]
        if let failure {
            row += ["-", "-", "-", "-", "-", "failed: \(failure)"]
        } else {
            let ours = median(total)
            row += [String(format: "%.4f", median(fit)), String(format: "%.4f", ours), String(format: "%.4f", sads.reduce(0, +) / Double(sads.count))]
            switch baselines[plugin.descriptor.id].map({ pythonBaseline($0, dir: dir, repeatCount: options.repeatCount, settings: mine) }) {
            case .success(let base)?:
                row += [String(format: "%.4f", base.seconds), String(format: "%.4f", base.sad), String(format: "%.3f", ours / base.seconds)]
            case .failure(let why)?:
                row += ["-", "-", "-"]
                notes.append("\(plugin.descriptor.id) on \(preset.rawValue): baseline did not run: \(why.message)")
            case nil:
                row += ["-", "-", "-"]
            }
        }
        rows.append(row)
    }
}
print(renderTable(["CUBE", "PLUGIN", "FIT (s)", "FIT+ABUND (s)", "SAD", "BASELINE (s)", "BASELINE SAD", "OURS/BASELINE"], rows,
                  rightAligned: [2, 3, 4, 5, 6, 7]), terminator: "")
print("\nbaselines: Benchmarks/python (numpy/scipy, scikit-learn or Keras implementations of the reference pipelines)")
for note in notes { print(note) }
