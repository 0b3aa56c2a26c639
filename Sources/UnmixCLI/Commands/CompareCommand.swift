import Foundation
import UnmixHost

enum CompareCommand {
    static let spec = CommandSpec(
        name: "compare", abstract: "Run several plugins on one cube, repeatedly, and compare them.",
        discussion: """
            Each run happens in a worker process (a plugin that crashes, hangs past --timeout or \
            returns non-finite values fails its row only, and its peak memory is measured alone); \
            run i uses seed SEED + i. With ground truth (a synth \
            folder, or --truth DIR) each row gives the mean ± std over runs of the mean SAD (radians, \
            endmembers matched by the Hungarian algorithm) and of the mean abundance NMSE; without, \
            the reconstruction RMSE and how far the plugins' endmembers agree (a SAD matrix). A plugin \
            that fails is reported in its row; the exit status is then 1.
            """,
        positionals: [("input", "The cube: a file or a synth folder.")],
        options: [
            RunOptions.endmembers,
            OptionSpec(["--plugins"], value: "LIST", help: "Comma-separated plugin ids, or all (default)."),
            OptionSpec(["--truth"], value: "DIR", help: "Folder with endmembers.npy and abundances.npy to score against."),
            OptionSpec(["--repeat"], value: "N", help: "Runs per plugin (default 1)."),
            OptionSpec(["--seed"], value: "N", help: "Seed of the first run (default 0)."),
            OptionSpec(["--set"], value: "PLUGIN.KEY=VALUE", help: "Set a parameter of one plugin (repeatable).", repeatable: true),
            OptionSpec(["--timeout"], value: "SECONDS", help: "Stop any one run that takes longer (default: no limit)."),
            RunOptions.maxMemory,
        ] + InputOptions.all + InputOptions.preprocessingOptions + [
            OptionSpec(["--out"], value: "DIR", help: "Also write compare.json, report.html and every run's outputs to DIR."),
            ReportBuilder.profileOption,
            OptionSpec(["--json"], help: "Print one JSON document instead of a table."),
            OptionSpec(["--label"], value: "TEXT", help: "Name the input in the table's heading.", hidden: true),
        ])

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        guard args.positionals.count == 1 else { throw UnmixError.usage("'unmix compare' takes one INPUT") }
        let inputPath = args.positionals[0]
        // Phase two: everything checked before the first run.
        let plugins = try selectPlugins(args.value("--plugins") ?? "all", registry)
        let settings = try groupPluginSettings(args.all("--set"), plugins)
        let values = try Dictionary(uniqueKeysWithValues: plugins.map {
            ($0.descriptor.id, try resolveParameters($0.descriptor, settings: settings[$0.descriptor.id] ?? []))
        })
        let repeatCount = try args.integer("--repeat") ?? 1
        guard repeatCount >= 1 else { throw UnmixError.usage("--repeat must be at least 1") }
        let seed = try parseSeed(args.value("--seed"))
        let limits = try RunOptions.limits(args)
        let input = try InputOptions.open(inputPath, args, truthFolder: args.value("--truth"),
                                          preprocessing: try InputOptions.preprocessing(args))
        try refuseConstantCube(input)
        let (r, estimate) = try RunOptions.endmemberCount(args, input)
        if let truth = input.truth, truth.r != r {
            throw UnmixError("R = \(r) but the ground truth has \(truth.r) endmembers")
        }
        let profile = try ReportBuilder.profile(args)
        var comparison = Comparison(input: input, r: r, seed: seed, repeatCount: repeatCount,
                                    label: args.value("--label") ?? input.path)
        comparison.rankEstimate = estimate
        let verbose = args.flag("--verbose")

        // Every finished row is kept, whatever happens to the next runs or to the output folder.
        var summaries = [PluginSummary]()
        var stop: Error?
        let body = { (dir: URL?) in
            for (p, plugin) in plugins.enumerated() {
                do {
                    summaries.append(try comparison.evaluate(plugin, values: values[plugin.descriptor.id]!, limits: limits,
                                                             verbose: verbose, workDir: dir, runIndex: p * repeatCount,
                                                             totalRuns: plugins.count * repeatCount))
                } catch {
                    stop = error
                    return
                }
            }
        }
        var writeError: Error?
        if let out = args.value("--out") {
            do {
                try OutputDirectory.write(out) { dir in
                    body(dir.appendingPathComponent("runs"))
                    if let stop { throw stop }
                    try Data((jsonText(comparison.report(summaries)) + "\n").utf8).write(to: dir.appendingPathComponent("compare.json"))
                    try ReportBuilder.write(comparison.htmlReport(summaries, command: ["unmix", "compare"] + args.words, profile: profile),
                                            to: dir)
                }
            } catch {
                if stop == nil { writeError = error }
            }
        } else {
            // Deferred as the --out case is, so that a signal between two runs still prints the table.
            _ = try? Interrupts.deferring { body(nil) }
            if stop == nil, let signal = Interrupts.received { stop = Interrupts.error(signal, "") }
        }
        if args.flag("--json") {
            print(jsonText(comparison.report(summaries)))
        } else if !summaries.isEmpty || stop == nil {
            print(comparison.table(summaries), terminator: "")
        }
        if let stop {
            if let e = stop as? UnmixError, e.kind == .interrupted || e.kind == .terminated {
                let done = summaries.map(\.id).joined(separator: ", ")
                throw UnmixError(e.message + " during the runs of \(plugins[min(summaries.count, plugins.count - 1)].descriptor.id)"
                                 + (done.isEmpty ? "" : "; the table shows \(done)"), kind: e.kind)
            }
            throw stop
        }
        if let writeError { throw writeError }
        return summaries.allSatisfy({ $0.error == nil }) ? 0 : 1
    }

    static func selectPlugins(_ list: String, _ registry: PluginRegistry) throws -> [InstalledPlugin] {
        if list.lowercased() == "all" {
            guard !registry.plugins.isEmpty else { throw UnmixError("no plugins found (see 'unmix list')") }
            return registry.plugins
        }
        var chosen = [InstalledPlugin]()
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            let p = try registry.find(name)
            if !chosen.contains(where: { $0.path == p.path }) { chosen.append(p) }
        }
        guard !chosen.isEmpty else { throw UnmixError.usage("--plugins lists no plugin") }
        return chosen
    }
}

/// The outcome of one plugin over all its runs.
struct PluginSummary {
    var id: String
    var version: String
    var runs = 0
    var sad: [Double] = []       // mean SAD of each successful run
    var nmse: [Double] = []      // mean NMSE of each successful run
    var rmse: [Double] = []
    var fitSeconds: [Double] = []
    var peakMemoryMiB = 0.0
    var error: String?
    /// Endmembers and abundances of the first successful run (for the agreement matrix and the report).
    var endmembers: [Float]?
    var abundances: [Float]?
    /// The parameters of the runs, as run.json gives them, and the seed of the first run.
    var parameters: [Report.Field] = []
    var firstSeed: UInt64?
}

/// One comparison: the cube, R, seeds; runs children and renders results.
struct Comparison {
    var input: Input
    var r: Int
    var seed: UInt64
    var repeatCount: Int
    /// How the table's heading names the input.
    var label: String
    /// What `-r auto` found.
    var rankEstimate: RankEstimate.Summary?

    /// Runs `plugin` `repeatCount` times, each in a worker, and scores the runs; with
    /// `workDir`, writes each run's folder and its worker's stderr there. `runIndex` runs of
    /// `totalRuns` came before (for the progress line). A failed run ends the plugin's row with
    /// its reason; an interruption or a failure to write is thrown.
    func evaluate(_ plugin: InstalledPlugin, values: [Double], limits: WorkerLimits, verbose: Bool, workDir: URL?,
                  runIndex: Int, totalRuns: Int) throws -> PluginSummary {
        let d = plugin.descriptor
        var summary = PluginSummary(id: d.id, version: d.version)
        let interactive = isatty(2) != 0
        defer { if interactive { writeStderr("\r\u{1B}[K") } }
        for i in 0..<repeatCount {
            let runSeed = seed &+ UInt64(i)
            let prefix = "[run \(runIndex + i + 1) of \(totalRuns)] "
            if interactive { writeStderr("\r\u{1B}[K\(prefix)\(d.id) seed \(runSeed)") }
            var runLimits = limits
            runLimits.progressPrefix = prefix
            let dir = workDir?.appendingPathComponent(d.id).appendingPathComponent("seed-\(runSeed)")
            if let dir {
                try FileManager.default.createDirectory(at: dir.deletingLastPathComponent(), withIntermediateDirectories: true)
                runLimits.stderrPath = dir.deletingLastPathComponent().appendingPathComponent("seed-\(runSeed).stderr").path
            } else {
                runLimits.stderrPath = "/dev/null"
            }
            let request = RunRequest(plugin: plugin, values: values, seed: runSeed, r: r, input: input, limits: runLimits,
                                     verbose: verbose)
            let outcome: RunOutcome
            do {
                outcome = try Runner.run(request)
            } catch let failure as RunFailure {
                summary.peakMemoryMiB = max(summary.peakMemoryMiB, failure.peakMemoryMiB)
                summary.error = failure.reason
                break
            } catch let error as UnmixError where error.kind == .failure {
                summary.error = error.message.hasPrefix("\(d.id): ") ? String(error.message.dropFirst(d.id.count + 2)) : error.message
                break
            }
            let result = outcome.result
            summary.peakMemoryMiB = max(summary.peakMemoryMiB, outcome.workerPeakMiB)
            summary.runs += 1
            summary.rmse.append(result.rmse)
            summary.fitSeconds.append(result.fitSeconds)
            if summary.endmembers == nil {
                summary.endmembers = result.endmembers
                summary.abundances = result.abundances
                summary.firstSeed = runSeed
                summary.parameters = request.parameterTexts.sorted { $0.0 < $1.0 }.map { Report.Field($0.0, $0.1) }
            }
            let report = RunReport(request, outcome)
            if let metrics = report.metrics {
                summary.sad.append(metrics.sadMean)
                summary.nmse.append(metrics.nmseMean)
            }
            if let dir {
                try writeRunFolder(dir.path, result, input: input, json: report.json, report: nil, provenance: [:])
            }
        }
        return summary
    }

    /// Mean SAD between each pair of plugins' endmembers (first run each), matched by Hungarian.
    func agreement(_ summaries: [PluginSummary]) -> [[Double?]] {
        summaries.map { a in
            summaries.map { b -> Double? in
                guard let ea = a.endmembers, let eb = b.endmembers else { return nil }
                let m = matchEndmembers(truth: ea, estimate: eb, r: r, bands: input.cube.bands)
                return m.sad.reduce(0, +) / Double(r)
            }
        }
    }

    func report(_ summaries: [PluginSummary]) -> [String: Any?] {
        var out: [String: Any?] = [
            "input": input.report,
            "r": r, "seed": seed, "repeat": repeatCount, "truth": input.truth?.source,
            "results": summaries.map { s -> [String: Any?] in
                [
                    "plugin": s.id, "version": s.version, "runs": s.runs,
                    "sad_mean": input.truth == nil ? nil : mean(s.sad), "sad_std": input.truth == nil ? nil : std(s.sad),
                    "nmse_mean": input.truth == nil ? nil : mean(s.nmse), "nmse_std": input.truth == nil ? nil : std(s.nmse),
                    "rmse": mean(s.rmse), "time_median_s": median(s.fitSeconds), "peak_memory_mib": s.peakMemoryMiB,
                    "error": s.error,
                ]
            },
        ]
        if let e = rankEstimate {
            out["rank_estimate"] = ["method": e.method, "r": e.r, "noise_model": e.noiseModel.rawValue, "elbow_r": e.elbowR] as [String: Any]
        }
        if input.truth == nil {
            out["sad_matrix"] = ["plugins": summaries.map(\.id), "values": agreement(summaries).map { $0.map { $0 as Any? } }] as [String: Any]
        }
        return out
    }

    var heading: String {
        let cube = input.cube
        return "\(label): \(cube.rows)×\(cube.cols)×\(cube.bands), R = \(r), \(repeatCount) run\(repeatCount == 1 ? "" : "s") per plugin, seeds from \(seed)"
            + (input.preprocessing.isEmpty ? "" : ", \(input.preprocessing.summary)")
    }

    /// The results table's cells, as the terminal and the report show them.
    func tableCells(_ summaries: [PluginSummary]) -> Report.Table {
        let hasTruth = input.truth != nil
        var header = ["PLUGIN", "RUNS"]
        if hasTruth { header += ["SAD (rad)", "NMSE"] }
        header += ["RMSE", "FIT TIME (s)", "PEAK MEM (MiB)", "ERROR"]
        let rows = summaries.map { s -> [String] in
            var row = [s.id, "\(s.runs)/\(repeatCount)"]
            if hasTruth { row += [pm(s.sad, 4), pm(s.nmse, 4)] }
            row += [fmt(mean(s.rmse), "%.4g"), fmt(median(s.fitSeconds), "%.3f"), String(format: "%.0f", s.peakMemoryMiB), s.error ?? ""]
            return row
        }
        return Report.Table(header: header, rows: rows, rightAligned: Set(1..<(header.count - 1)))
    }

    func table(_ summaries: [PluginSummary]) -> String {
        let cells = tableCells(summaries)
        var text = heading + "\n\n" + renderTable(cells.header, cells.rows, rightAligned: cells.rightAligned)
        let hasTruth = input.truth != nil
        if !hasTruth && summaries.count > 1 {
            text += "\nagreement between plugins (mean SAD of matched endmembers, rad):\n"
            let m = agreement(summaries)
            text += renderTable([""] + summaries.map(\.id), zip(summaries, m).map { s, row in
                [s.id] + row.map { $0.map { String(format: "%.3f", $0) } ?? "-" }
            }, rightAligned: Set(1...summaries.count))
        }
        return text
    }

    /// The report.html of the comparison: every plugin's first successful run, matched to the
    /// truth (or to the first plugin's endmembers when there is none).
    func htmlReport(_ summaries: [PluginSummary], command: [String], profile: Report.ProfileDirection) -> Report {
        let cube = input.cube
        let reference = input.truth?.endmembers ?? summaries.first(where: { $0.endmembers != nil })?.endmembers
        let results = summaries.map { s -> Report.Result in
            let details = [Report.Field("version", s.version),
                           Report.Field("runs", "\(s.runs) of \(repeatCount)" + (s.firstSeed.map { ", drawn: seed \($0)" } ?? ""))]
                + s.parameters
            guard let e = s.endmembers, let a = s.abundances else {
                return Report.Result(label: s.id, details: details, endmembers: [], maps: [], error: s.error ?? "no successful run")
            }
            return ReportBuilder.result(label: s.id, details: details, endmembers: e, abundances: a, r: r, bands: cube.bands,
                                        pixels: cube.pixels, reference: reference)
        }
        var notes = [heading + ".", "Figures show each plugin's first successful run."]
        if input.truth != nil {
            notes.append("SAD: mean ± std over runs of the mean spectral angle to the matched true endmembers (radians); NMSE: of the mean ‖Z − Ẑ‖²/‖Z‖² of the matched abundance maps, as each method returns them.")
        } else {
            notes.append("No ground truth: RMSE of the reconstruction, and the plugins' agreement below.")
        }
        return Report(
            title: "unmix compare — \(input.dataset.title.isEmpty ? input.path : input.dataset.title)", command: command,
            input: [Report.Field("file", input.path)] + ReportBuilder.inputFields(input), table: tableCells(summaries), tableNotes: notes,
            truth: input.truth.map { ReportBuilder.truth($0, bands: cube.bands, pixels: cube.pixels) }, results: results,
            columns: ReportBuilder.columns(input, r: r), signalAxis: input.signalAxis, rowAxis: input.dataset.rowAxis,
            colAxis: input.dataset.colAxis, profile: profile,
            agreement: input.truth == nil && summaries.count > 1 ? agreement(summaries) : nil,
            spectraNote: input.truth == nil ? ReportBuilder.spectraNoteWithout : ReportBuilder.spectraNoteWithTruth)
    }
}

/// mean ± std with `digits` decimals, or "-" when empty.
private func pm(_ v: [Double], _ digits: Int) -> String {
    v.isEmpty ? "-" : String(format: "%.\(digits)f ± %.\(digits)f", mean(v), std(v))
}

private func fmt(_ v: Double, _ format: String) -> String { v.isFinite ? String(format: format, v) : "-" }

/// The mean, NaN when empty.
func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }

/// The sample standard deviation (n − 1), 0 for one value, NaN when empty.
func std(_ v: [Double]) -> Double {
    guard v.count > 1 else { return v.isEmpty ? .nan : 0 }
    let m = mean(v)
    return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
}

/// The median, NaN when empty.
func median(_ v: [Double]) -> Double {
    guard !v.isEmpty else { return .nan }
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
