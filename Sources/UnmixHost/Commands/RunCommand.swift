import Foundation

enum RunCommand {
    static let spec = CommandSpec(
        name: "run", abstract: "Unmix a cube with one plugin and write its endmembers and abundances.",
        discussion: """
            INPUT is any file 'unmix inspect' reads (DigitalMicrograph, HyperSpy, TIA, ripple, ENVI, \
            MATLAB, NumPy) or a folder written by 'unmix synth'. Writes DIR/endmembers.npy (R, bands), \
            DIR/abundances.npy (rows, cols, R), DIR/run.json, DIR/report.html (open it in a browser) and \
            DIR/result.hspy (for HyperSpy). Nothing is written when anything fails.
            """,
        positionals: [("name", "The plugin's id or name."), ("input", "The cube: a file or a synth folder.")],
        options: [
            OptionSpec(["-r", "--endmembers"], value: "R", help: "Number of endmembers (default: the ground truth's, when known)."),
            OptionSpec(["--set"], value: "KEY=VALUE", help: "Set a plugin parameter (repeatable; see 'unmix info NAME').", repeatable: true),
            OptionSpec(["--seed"], value: "N", help: "Seed for stochastic plugins (default 0)."),
        ] + InputOptions.all + [
            OptionSpec(["--out"], value: "DIR", help: "Folder to write (created if needed)."),
            OptionSpec(["--json"], help: "Print run.json on stdout instead of a summary."),
            OptionSpec(["--save-model"], value: "FILE", help: "Also save the trained model to FILE, for 'unmix apply'."),
            ReportBuilder.profileOption,
            OptionSpec(["--no-report"], help: "Write no report.html (compare's runs).", hidden: true),
            OptionSpec(["--in-process"], help: "Run the plugin in this process (no crash isolation).", hidden: true),
        ])

    /// Phase two of the arguments: the plugin, its parameter values, the cube and R, all checked
    /// before anything runs.
    struct Plan {
        var plugin: PluginLibrary
        var values: [Double]
        var input: Input
        var r: Int
        var seed: UInt64
    }

    static func plan(_ args: ParsedArguments, _ registry: PluginRegistry, name: String, inputPath: String) throws -> Plan {
        let plugin = try registry.find(name)
        let values = try resolveParameters(plugin.descriptor, settings: args.all("--set"))
        let seed = try parseSeed(args.value("--seed"))
        let input = try InputOptions.open(inputPath, args, child: args.flag("--in-process"))
        try refuseConstantCube(input)
        let r = try endmemberCount(args, input)
        return Plan(plugin: plugin, values: values, input: input, r: r, seed: seed)
    }

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        guard args.positionals.count == 2 else { throw UnmixError.usage("'unmix run' takes a plugin name and an INPUT") }
        let out = try args.required("--out")
        let plan = try plan(args, registry, name: args.positionals[0], inputPath: args.positionals[1])
        try refuseOverwritingInput(out: out, input: plan.input.path)
        let modelPath = args.value("--save-model")
        if modelPath != nil && !plan.plugin.descriptor.canSaveState {
            throw UnmixError("\(plan.plugin.descriptor.id) cannot save its model (it lacks the unmix.state/1 extension)")
        }
        if !args.flag("--in-process") {
            return try isolated("run", args, pluginID: plan.plugin.descriptor.id, outputs: [out] + (modelPath.map { [$0] } ?? []))
        }
        let (result, instance) = try runPlugin(plan.plugin, cube: plan.input.cube, r: plan.r, values: plan.values,
                                        seed: plan.seed, axis: plan.input.signalAxis,
                                               verbose: args.flag("--verbose"))
        let cube = plan.input.cube
        let d = plan.plugin.descriptor
        // The parameter values as users write them, in the table's order.
        let parameters = zip(d.parameters, plan.values).map { ($0.id, $0.format($1)) }
        var report: [String: Any?] = [
            "plugin": ["id": d.id, "name": d.name, "version": d.version, "path": plan.plugin.path],
            "parameters": Dictionary(uniqueKeysWithValues: parameters),
            "seed": plan.seed, "r": plan.r,
            "input": plan.input.report,
            "fit_seconds": result.fitSeconds, "abundances_seconds": result.abundanceSeconds,
            "reconstruction_rmse": result.rmse,
        ]
        let score = scoreReport(plan.input, result)
        report["metrics"] = score?.entry
        let json = jsonText(report)
        let page = args.flag("--no-report") ? nil : singleRunReport(
            title: "unmix run \(d.id) — \(plan.input.dataset.title.isEmpty ? plan.input.path : plan.input.dataset.title)",
            command: ["unmix", "run"] + args.words.filter { $0 != "--in-process" }, input: plan.input, label: d.id,
            details: [Report.Field("version", d.version), Report.Field("seed", String(plan.seed))] + parameters.map { Report.Field($0.0, $0.1) },
            result: result, seed: plan.seed, fitted: true, profile: try ReportBuilder.profile(args))
        try writeRunFolder(out, result, input: plan.input, json: json, report: page,
                           provenance: provenance(pluginID: d.id, version: d.version, parameters: parameters,
                                                  seed: plan.seed, r: plan.r, input: plan.input,
                                                  command: ["unmix", "run"] + args.words.filter { $0 != "--in-process" }))
        if let modelPath {
            let state = try instance.saveState() ?? []
            let model = ModelFile(pluginID: d.id, pluginVersion: d.version, values: plan.values,
                                  parameters: Dictionary(uniqueKeysWithValues: parameters),
                                  seed: plan.seed, bands: cube.bands, r: plan.r, endmembers: result.endmembers, state: state,
                                  signalAxis: plan.input.signalAxis, selection: plan.input.selection)
            try OutputDirectory.writeFile(modelPath, model.encoded())
        }
        if args.flag("--json") {
            print(json)
        } else {
            print("\(d.id) \(d.version) on \(plan.input.summary), R = \(plan.r), seed \(plan.seed)")
            print(String(format: "fit %.3f s, abundances %.3f s, reconstruction RMSE %.4g", result.fitSeconds, result.abundanceSeconds, result.rmse) + (score?.line ?? ""))
            print("wrote endmembers.npy, abundances.npy, run.json\(page == nil ? "" : ", report.html and result.hspy") to \(out)"
                + (modelPath.map { ", the model to \($0)" } ?? ""))
        }
        return 0
    }

    /// Outputs must not replace the input: an `--out` naming the input folder (a synth folder's
    /// ground truth would be overwritten) or a file that `run` writes.
    static func refuseOverwritingInput(out: String, input: String) throws {
        let outURL = URL(fileURLWithPath: out).standardizedFileURL.resolvingSymlinksInPath()
        let inURL = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
        let written = ["endmembers.npy", "abundances.npy", "run.json"].map { outURL.appendingPathComponent($0).path }
        if outURL.path == inURL.path || written.contains(inURL.path) {
            throw UnmixError("--out \(out) would overwrite the input \(input): choose another folder")
        }
    }

    /// Runs this same `command` again in a child process, with `--in-process`, once everything
    /// has been checked here: the child prints its own results and errors; a plugin that crashes
    /// the child is reported here in one line, and what the child left half-written is removed.
    static func isolated(_ command: String, _ args: ParsedArguments, pluginID: String, outputs: [String]) throws -> Int32 {
        let outcome = try runChild(PluginSearchPath.executablePath(), [command] + args.words + ["--in-process"],
                                   stdout: nil, stderr: nil, environment: ["SWIFT_BACKTRACE": "enable=no"])
        if let signal = outcome.signal {
            for path in outputs { OutputDirectory.removeLeftovers(path, pid: outcome.pid) }
            throw UnmixError("plugin \(pluginID) crashed (\(signalName(signal))); nothing was written")
        }
        return outcome.exitStatus ?? 1
    }

    /// R from -r, or the ground truth's; checked against the cube.
    static func endmemberCount(_ args: ParsedArguments, _ input: Input) throws -> Int {
        let r: Int
        if let given = try args.integer("--endmembers") {
            r = given
        } else if let truth = input.truth {
            r = truth.r
        } else {
            throw UnmixError.usage("give the number of endmembers with -r R (no ground truth to take it from)")
        }
        try validateEndmemberCount(r, for: input.cube)
        return r
    }
}

/// SAD and NMSE of one run against the truth, after Hungarian matching on SAD.
public struct Score: Sendable {
    public var sad: [Double]
    public var nmse: [Double]
    public var sadMean: Double { sad.reduce(0, +) / Double(sad.count) }
    public var nmseMean: Double { nmse.reduce(0, +) / Double(nmse.count) }

    public init(truth: GroundTruth, result: RunResult, pixels: Int, bands: Int) {
        let match = matchEndmembers(truth: truth.endmembers, estimate: result.endmembers, r: truth.r, bands: bands)
        sad = match.sad
        nmse = abundanceNMSE(truth: truth.abundances, estimate: result.abundances, pixels: pixels, r: truth.r,
                             permutation: match.permutation)
    }
}
