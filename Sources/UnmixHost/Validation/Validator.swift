import CUnmix
import Foundation

/// `unmix validate LIB.so`: the checks a plugin author runs before shipping (clap-validator and
/// pluginval are the models). Each check runs the plugin in its own worker with a time limit,
/// so a plugin that crashes or hangs fails that check and the others still run.
public enum Validator {
    /// One check's outcome.
    public struct Check: Codable, Sendable {
        public enum Status: String, Codable, Sendable { case passed, failed, skipped }
        public var name: String
        public var status: Status
        public var detail: String
    }

    /// What validating one library found.
    public struct Outcome: Codable, Sendable {
        public var library: String
        public var plugin: String?
        public var checks: [Check]
        public var passed: Bool { !checks.contains { $0.status == .failed } }
    }

    /// Runs every check on the library at `path`; `timeout` bounds each worker.
    public static func validate(_ path: String, timeout: Double = 60) -> Outcome {
        var checks = [Check]()
        func record(_ name: String, _ body: () throws -> (Check.Status, String)) {
            do {
                let (status, detail) = try body()
                checks.append(Check(name: name, status: status, detail: detail))
            } catch {
                checks.append(Check(name: name, status: .failed, detail: oneLine("\(error)")))
            }
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-validate-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutPath = scratch.appendingPathComponent("stdout").path
        let limits = WorkerLimits(timeout: timeout, stderrPath: scratch.appendingPathComponent("stderr").path, stdoutPath: stdoutPath)

        // 1. Load and describe within the scan limit; the table is checked whole by the scan.
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return Outcome(library: path, plugin: nil, checks: [Check(name: "scan", status: .failed, detail: "not a regular file")])
        }
        let scanned = PluginRegistry.scan(path, key: RegistryCache.Key(info))
        guard let descriptor = scanned.descriptor else {
            return Outcome(library: path, plugin: nil, checks: [Check(name: "scan", status: .failed, detail: scanned.failure ?? "no description")])
        }
        let plugin = InstalledPlugin(path: path, descriptor: descriptor)
        checks.append(Check(name: "scan", status: .passed, detail: "\(descriptor.id) \(descriptor.version), \(descriptor.parameters.count) parameters, table consistent"))
        let defaults = descriptor.parameters.map(\.defaultValue)

        func stdoutClean() -> Bool { ((try? FileManager.default.attributesOfItem(atPath: stdoutPath)[.size] as? Int) ?? 0) == 0 }
        func fit(_ input: Input, r: Int, values: [Double]? = nil, seed: UInt64 = 0, saveState: Bool = false,
                 limits l: WorkerLimits? = nil, cancel: Bool = false) throws -> RunOutcome {
            var request = RunRequest(plugin: plugin, values: values ?? defaults, seed: seed, r: r, input: input,
                                     limits: l ?? limits, saveState: saveState)
            request.cancelFromStart = cancel
            return try Runner.run(request)
        }

        // 2. Out-of-range values are refused by set_params.
        record("out-of-range values refused") {
            var tried = [String]()
            let input = try testInput(rows: 4, cols: 4, bands: 8, r: 2, seed: 1)
            for (i, p) in descriptor.parameters.enumerated() {
                var bad: [Double] = []
                switch p.kind {
                case .integer, .real:
                    if let min = p.min { bad.append(min - max(1, abs(min))) }
                    if let max = p.max { bad.append(max + Swift.max(1, abs(max))) }
                case .boolean: bad.append(2)
                case .choice: bad.append(Double(p.choices.count))
                }
                for value in bad {
                    var values = defaults
                    values[i] = value
                    tried.append("\(p.id)=\(p.format(value))")
                    do {
                        _ = try fit(input, r: 2, values: values)
                        return (.failed, "set_params accepted \(p.id) = \(p.format(value)), outside its declared range")
                    } catch let error as UnmixError where error.message.contains("set_params failed") {
                        continue
                    }
                }
            }
            return tried.isEmpty ? (.skipped, "no parameter has a bound") : (.passed, "\(tried.count) values refused (\(tried.prefix(4).joined(separator: ", "))\(tried.count > 4 ? ", …" : ""))")
        }

        // 3. Fit and abundances on ordinary, tiny and odd cubes: finite outputs on the declared
        //    constraints, or a clean refusal.
        let shapes: [(String, Int, Int, Int, Int)] = [
            ("8×8×16, R = 3", 8, 8, 16, 3), ("1×1 pixel, R = 1", 1, 1, 4, 1), ("two bands, R = 1", 4, 4, 2, 1),
            ("R = pixels (2×2×8, R = 4)", 2, 2, 8, 4), ("odd sizes 3×5×7, R = 2", 3, 5, 7, 2),
        ]
        for (label, rows, cols, bands, r) in shapes {
            record("fit \(label)") {
                let input = try testInput(rows: rows, cols: cols, bands: bands, r: r, seed: 2)
                do {
                    let outcome = try fit(input, r: r)
                    return (.passed, String(format: "finite outputs%@, fit %.3f s", constraintText(descriptor), outcome.result.fitSeconds))
                } catch let error as UnmixError where error.message.hasPrefix("\(descriptor.id): ") && error.message.contains(" failed (") {
                    return (.passed, "refused cleanly: \(error.message.dropFirst(descriptor.id.count + 2))")
                }
            }
        }

        // 4. Reproducibility: the same seed gives the same bits; for a stochastic plugin,
        //    other seeds give other results.
        let main = try? testInput(rows: 8, cols: 8, bands: 16, r: 3, seed: 3)
        record("same seed, same bits") {
            guard let main else { return (.failed, "no test cube") }
            let a = try fit(main, r: 3, seed: 7), b = try fit(main, r: 3, seed: 7)
            guard a.result.endmembers == b.result.endmembers, a.result.abundances == b.result.abundances else {
                return (.failed, "two fits with seed 7 differ")
            }
            return (.passed, "two fits with seed 7 are identical")
        }
        record("different seeds, different results") {
            guard descriptor.isStochastic else { return (.skipped, "not declared stochastic") }
            // No pure pixel and some noise, so that a random start has room to matter.
            let hard = try testInput(rows: 16, cols: 16, bands: 32, r: 4, seed: 5, purePixels: false, noise: 0.5)
            let first = try fit(hard, r: 4, seed: 1)
            for seed: UInt64 in 2...4 {
                let other = try fit(hard, r: 4, seed: seed)
                if other.result.endmembers != first.result.endmembers || other.result.abundances != first.result.abundances {
                    return (.passed, "seeds 1 and \(seed) differ")
                }
            }
            return (.failed, "declared stochastic, but seeds 1 to 4 give the same bits")
        }

        // 5. Cancel honoured within a few seconds (CAP_PROGRESS).
        record("cancel honoured") {
            guard descriptor.reportsProgress else { return (.skipped, "not declared to report progress") }
            let input = try testInput(rows: 96, cols: 96, bands: 64, r: 3, seed: 4)
            var l = limits
            l.timeout = min(timeout, 10)
            let t0 = now()
            do {
                _ = try fit(input, r: 3, limits: l, cancel: true)
                return (.failed, "asked to stop at the start of fit, it finished its fit instead")
            } catch let error as UnmixError where error.message.contains("(cancelled)") {
                return (.passed, String(format: "stopped; the worker took %.2f s in all", now() - t0))
            } catch let failure as RunFailure where failure.reason.hasPrefix("timed out") {
                return (.failed, "asked to stop at the start of fit, still running after \(formatSeconds(l.timeout!))")
            }
        }

        // 6. State: save → load → same abundances; a corrupted state refused.
        record("state save and load") {
            guard descriptor.canSaveState else { return (.skipped, "no unmix.state extension") }
            guard let main else { return (.failed, "no test cube") }
            let trained = try fit(main, r: 3, saveState: true)
            let state = trained.state ?? []
            func apply(_ bytes: [UInt8]) throws -> RunOutcome {
                let model = ModelFile(pluginID: descriptor.id, pluginVersion: descriptor.version, values: defaults, parameters: [:],
                                      seed: 0, bands: main.cube.bands, r: 3, endmembers: trained.result.endmembers, state: bytes)
                return try Runner.apply(ApplyRequest(plugin: plugin, model: model, input: main, limits: limits))
            }
            let restored = try apply(state)
            guard restored.result.abundances == trained.result.abundances else {
                return (.failed, "the restored model gives other abundances than the fitted one")
            }
            var refused = [String]()
            let corruptions: [(String, [UInt8])] = [
                ("truncated", Array(state.prefix(state.count / 2))), ("empty", []),
                ("garbage", (0..<max(16, state.count)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }),
            ]
            for (label, bytes) in corruptions {
                do {
                    _ = try apply(bytes)
                    return (.failed, "a \(label) state (\(bytes.count) of \(state.count) bytes) was accepted")
                } catch let error as UnmixError where error.message.contains("failed (") {
                    refused.append(label)
                }
            }
            return (.passed, "\(state.count) bytes restore the same abundances; \(refused.joined(separator: ", ")) states refused")
        }

        // 7. Nothing on stdout (a plugin's prints would break `--json` output of other hosts).
        checks.append(stdoutClean()
            ? Check(name: "nothing on stdout", status: .passed, detail: "no byte written to stdout by any check's worker")
            : Check(name: "nothing on stdout", status: .failed, detail: "the plugin wrote to stdout"))
        return Outcome(library: path, plugin: descriptor.id, checks: checks)
    }

    private static func constraintText(_ d: PluginDescriptor) -> String {
        var parts = [String]()
        if d.capabilities & UInt64(UNMIX_CAP_ABUNDANCES_NONNEGATIVE) != 0 { parts.append("non-negative") }
        if d.capabilities & UInt64(UNMIX_CAP_ABUNDANCES_SUM_TO_ONE) != 0 { parts.append("summing to one") }
        return parts.isEmpty ? "" : " (abundances " + parts.joined(separator: ", ") + ")"
    }

    /// A seeded linear mixture: R smooth positive spectra (a bump each over a slope), abundances
    /// on the simplex, a little noise.
    static func testInput(rows: Int, cols: Int, bands: Int, r: Int, seed: UInt64, purePixels: Bool = true,
                          noise: Double = 0.01) throws -> Input {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var endmembers = [Float](repeating: 0, count: r * bands)
        for e in 0..<r {
            let centre = (Double(e) + 0.5) / Double(r) * Double(bands)
            for b in 0..<bands {
                let x = (Double(b) - centre) / max(1, Double(bands) / Double(2 * r))
                endmembers[e * bands + b] = Float(100 * (0.2 + exp(-x * x)) * (1 + 0.5 * Double(b) / Double(bands)))
            }
        }
        let pixels = rows * cols
        var abundances = [Float](repeating: 0, count: pixels * r)
        var values = [Float](repeating: 0, count: pixels * bands)
        for p in 0..<pixels {
            var w = (0..<r).map { _ in -log(max(1e-12, uniform())) }
            if purePixels && p < r { w = (0..<r).map { $0 == p ? 1 : 0 } } // pure pixels where there is room
            let total = w.reduce(0, +)
            for e in 0..<r { abundances[p * r + e] = Float(w[e] / total) }
            for b in 0..<bands {
                var v = 0.0
                for e in 0..<r { v += Double(abundances[p * r + e]) * Double(endmembers[e * bands + b]) }
                values[p * bands + b] = Float(v * (1 + noise * (uniform() - 0.5)))
            }
        }
        let cube = CubeData(rows: rows, cols: cols, bands: bands, values: values)
        return try Input.inMemory(cube, label: "validate \(rows)×\(cols)×\(bands)",
                                  truth: GroundTruth(r: r, endmembers: endmembers, abundances: abundances, source: "validate"))
    }
}
