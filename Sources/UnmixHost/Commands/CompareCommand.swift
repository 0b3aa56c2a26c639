import Foundation

enum CompareCommand {
    static let spec = CommandSpec(
        name: "compare", abstract: "Run several plugins on one cube, repeatedly, and compare them.",
        discussion: """
            Each run happens in a child process (a crashing plugin cannot stop the comparison, and \
            its peak memory is measured alone); run i uses seed SEED + i. With ground truth (a synth \
            folder, or --truth DIR) each row gives the mean ± std over runs of the mean SAD (radians, \
            endmembers matched by the Hungarian algorithm) and of the mean abundance NMSE; without, \
            the reconstruction RMSE and how far the plugins' endmembers agree (a SAD matrix). A plugin \
            that fails is reported in its row; the exit status is then 1.
            """,
        positionals: [("input", "The cube: a file or a synth folder.")],
        options: [
            OptionSpec(["-r", "--endmembers"], value: "R", help: "Number of endmembers (default: the ground truth's, when known)."),
            OptionSpec(["--plugins"], value: "LIST", help: "Comma-separated plugin ids, or all (default)."),
            OptionSpec(["--truth"], value: "DIR", help: "Folder with endmembers.npy and abundances.npy to score against."),
            OptionSpec(["--repeat"], value: "N", help: "Runs per plugin (default 1)."),
            OptionSpec(["--seed"], value: "N", help: "Seed of the first run (default 0)."),
            OptionSpec(["--set"], value: "PLUGIN.KEY=VALUE", help: "Set a parameter of one plugin (repeatable).", repeatable: true),
        ] + InputOptions.all + [
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
        let repeatCount = try args.integer("--repeat") ?? 1
        guard repeatCount >= 1 else { throw UnmixError.usage("--repeat must be at least 1") }
        let seed = try parseSeed(args.value("--seed"))
        let input = try InputOptions.open(inputPath, args, truthFolder: args.value("--truth"))
        try refuseConstantCube(input)
        let r = try RunCommand.endmemberCount(args, input)
        if let truth = input.truth, truth.r != r {
            throw UnmixError("R = \(r) but the ground truth has \(truth.r) endmembers")
        }
        let profile = try ReportBuilder.profile(args)
        let comparison = Comparison(input: input, r: r, seed: seed, repeatCount: repeatCount,
                                    label: args.value("--label") ?? input.path)

        let body = { (dir: URL) throws -> [PluginSummary] in
            var summaries = [PluginSummary]()
            for (p, plugin) in plugins.enumerated() {
                summaries.append(try comparison.evaluate(plugin, settings: settings[plugin.descriptor.id] ?? [],
                                                         args: args, workDir: dir, runIndex: p * repeatCount,
                                                         totalRuns: plugins.count * repeatCount))
            }
            return summaries
        }
        var summaries = [PluginSummary]()
        if let out = args.value("--out") {
            try OutputDirectory.write(out) { dir in
                summaries = try body(dir.appendingPathComponent("runs"))
                let report = comparison.report(summaries)
                try Data((jsonText(report) + "\n").utf8).write(to: dir.appendingPathComponent("compare.json"))
                try ReportBuilder.write(comparison.htmlReport(summaries, command: ["unmix", "compare"] + args.words, profile: profile),
                                        to: dir)
            }
        } else {
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-compare-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            defer { try? FileManager.default.removeItem(at: tmp) }
            summaries = try body(tmp)
        }
        if args.flag("--json") {
            print(jsonText(comparison.report(summaries)))
        } else {
            print(comparison.table(summaries), terminator: "")
        }
        return summaries.allSatisfy({ $0.error == nil }) ? 0 : 1
    }

    static func selectPlugins(_ list: String, _ registry: PluginRegistry) throws -> [PluginLibrary] {
        if list.lowercased() == "all" {
            guard !registry.plugins.isEmpty else { throw UnmixError("no plugins found (see 'unmix list')") }
            return registry.plugins
        }
        var chosen = [PluginLibrary]()
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            let p = try registry.find(name)
            if !chosen.contains(where: { $0 === p }) { chosen.append(p) }
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

    /// Runs `plugin` `repeatCount` times, each in a child `unmix run`, and scores the runs.
    /// `runIndex` runs of `totalRuns` came before (for the progress line).
    func evaluate(_ plugin: PluginLibrary, settings: [String], args: ParsedArguments, workDir: URL,
                  runIndex: Int, totalRuns: Int) throws -> PluginSummary {
        let d = plugin.descriptor
        var summary = PluginSummary(id: d.id, version: d.version)
        let exe = PluginSearchPath.executablePath()
        let interactive = isatty(2) != 0
        for i in 0..<repeatCount {
            let runSeed = seed &+ UInt64(i)
            let dir = workDir.appendingPathComponent(d.id).appendingPathComponent("seed-\(runSeed)")
            try FileManager.default.createDirectory(at: dir.deletingLastPathComponent(), withIntermediateDirectories: true)
            var childArgs = ["run", d.id, input.path, "-r", String(r), "--seed", String(runSeed), "--out", dir.path,
                             "--json", "--in-process", "--no-report"]
            for s in settings { childArgs += ["--set", s] }
            childArgs += InputOptions.words(args)
            for p in args.all("--plugin-path") { childArgs += ["--plugin-path", p] }
            let prefix = "[run \(runIndex + i + 1) of \(totalRuns)] "
            if interactive { writeStderr("\r\u{1B}[K\(prefix)\(d.id) seed \(runSeed)") }
            let logs = dir.deletingLastPathComponent()
            let stderrPath = logs.appendingPathComponent("seed-\(runSeed).stderr").path
            let outcome = try runChild(exe, childArgs, stdout: logs.appendingPathComponent("seed-\(runSeed).stdout").path,
                                       stderr: stderrPath,
                                       environment: ["SWIFT_BACKTRACE": "enable=no"].merging(
                                           interactive ? ["UNMIX_PROGRESS_FD": "3", "UNMIX_PROGRESS_PREFIX": prefix] : [:]) { a, _ in a },
                                       terminalFD: interactive)
            summary.peakMemoryMiB = max(summary.peakMemoryMiB, outcome.peakMemoryMiB)
            guard outcome.succeeded else {
                summary.error = failureReason(outcome, stderrPath: stderrPath)
                break
            }
            let report = try parseJSON(Data(contentsOf: dir.appendingPathComponent("run.json")))
            let endmembers = try NPY.read(dir.appendingPathComponent("endmembers.npy")).values
            let abundances = try NPY.read(dir.appendingPathComponent("abundances.npy")).values
            let result = RunResult(r: r, endmembers: endmembers, abundances: abundances,
                                   fitSeconds: report["fit_seconds"] as? Double ?? .nan,
                                   abundanceSeconds: report["abundances_seconds"] as? Double ?? .nan,
                                   rmse: report["reconstruction_rmse"] as? Double ?? .nan)
            summary.runs += 1
            summary.rmse.append(result.rmse)
            summary.fitSeconds.append(result.fitSeconds)
            if summary.endmembers == nil {
                summary.endmembers = endmembers
                summary.abundances = abundances
                summary.firstSeed = runSeed
                let parameters = report["parameters"] as? [String: Any] ?? [:]
                summary.parameters = parameters.keys.sorted().map { Report.Field($0, "\(parameters[$0] ?? "")") }
            }
            if let truth = input.truth {
                let score = Score(truth: truth, result: result, pixels: input.cube.pixels, bands: input.cube.bands)
                summary.sad.append(score.sadMean)
                summary.nmse.append(score.nmseMean)
            }
        }
        if interactive { writeStderr("\r\u{1B}[K") }
        return summary
    }

    private func failureReason(_ outcome: ChildOutcome, stderrPath: String) -> String {
        if let s = outcome.signal { return "crashed (\(signalName(s)))" }
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let last = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(outcome.exitStatus ?? -1)"
        return last.hasPrefix("unmix: error: ") ? String(last.dropFirst("unmix: error: ".count)) : last
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
        if input.truth == nil {
            out["sad_matrix"] = ["plugins": summaries.map(\.id), "values": agreement(summaries).map { $0.map { $0 as Any? } }] as [String: Any]
        }
        return out
    }

    var heading: String {
        let cube = input.cube
        return "\(label): \(cube.rows)×\(cube.cols)×\(cube.bands), R = \(r), \(repeatCount) run\(repeatCount == 1 ? "" : "s") per plugin, seeds from \(seed)"
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
