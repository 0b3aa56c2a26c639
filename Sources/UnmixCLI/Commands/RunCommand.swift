import Foundation
import UnmixHost

enum RunCommand {
    static let spec = CommandSpec(
        name: "run", abstract: "Unmix a cube with one plugin and write its endmembers and abundances.",
        discussion: """
            INPUT is any file 'unmix inspect' reads (DigitalMicrograph, HyperSpy, TIA, ripple, ENVI, \
            MATLAB, NumPy) or a folder written by 'unmix synth'. Writes DIR/endmembers.npy (R, bands), \
            DIR/abundances.npy (rows, cols, R), DIR/run.json, DIR/report.html (open it in a browser) and \
            DIR/result.hspy (for HyperSpy). The plugin runs in a worker process: a crash, a hang past \
            --timeout or a non-finite result is reported in one line, and nothing is written when \
            anything fails (the model of --save-model and DIR appear together or not at all).
            """,
        positionals: [("name", "The plugin's id or name."), ("input", "The cube: a file or a synth folder.")],
        options: [
            RunOptions.endmembers,
            OptionSpec(["--set"], value: "KEY=VALUE", help: "Set a plugin parameter (repeatable; see 'unmix info NAME').", repeatable: true),
            RunOptions.seed,
        ] + InputOptions.all + InputOptions.preprocessingOptions + [
            RunOptions.out,
            RunOptions.json,
            OptionSpec(["--save-model"], value: "FILE", help: "Also save the trained model to FILE, for 'unmix apply'."),
            RunOptions.timeout,
            RunOptions.maxMemory,
            ReportBuilder.profileOption,
        ])

    /// Phase two of the arguments: the plugin, its parameter values, the cube and R, all checked
    /// before anything runs.
    static func resolve(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> RunRequest {
        guard args.positionals.count == 2 else { throw UnmixError.usage("'unmix run' takes a plugin name and an INPUT") }
        let plugin = try registry.find(args.positionals[0])
        let values = try resolveParameters(plugin.descriptor, settings: args.all("--set"))
        let seed = try parseSeed(args.value(RunOptions.seed.key))
        let limits = try RunOptions.limits(args)
        _ = try args.required(RunOptions.out.key)
        let input = try InputOptions.open(args.positionals[1], args, preprocessing: try InputOptions.preprocessing(args))
        try refuseConstantCube(input)
        let (r, estimate) = try RunOptions.endmemberCount(args, input)
        let saveModel = args.value("--save-model") != nil
        if saveModel && !plugin.descriptor.canSaveState {
            throw UnmixError("\(plugin.descriptor.id) cannot save its model (it lacks the unmix.state extension)")
        }
        var request = RunRequest(plugin: plugin, values: values, seed: seed, r: r, input: input, limits: limits,
                                 saveState: saveModel, verbose: args.flag("--verbose"))
        request.rankEstimate = estimate
        return request
    }

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        let request = try resolve(args, registry)
        let out = try args.required(RunOptions.out.key)
        let modelPath = args.value("--save-model")
        try refuseOverwritingInput(out: out, input: request.input.path)
        let profile = try ReportBuilder.profile(args)
        let outcome = try Runner.run(request)
        let result = outcome.result
        let input = request.input
        let d = request.plugin.descriptor
        let parameters = request.parameterTexts
        let report = RunReport(request, outcome)
        let metrics = report.metrics
        let command = ["unmix", "run"] + args.words
        let page = singleRunReport(
            title: "unmix run \(d.id) — \(input.dataset.title.isEmpty ? input.path : input.dataset.title)",
            command: command, input: input, label: d.id,
            details: [Report.Field("version", d.version), Report.Field("seed", String(request.seed))] + parameters.map { Report.Field($0.0, $0.1) },
            result: result, seed: request.seed, fitted: true, profile: profile)
        var files = [(path: String, data: Data)]()
        if let modelPath {
            files.append((modelPath, try modelFile(request, outcome).encoded()))
        }
        try writeRunFolder(out, result, input: input, json: report.json, report: page,
                           provenance: provenance(pluginID: d.id, version: d.version, parameters: parameters,
                                                  seed: request.seed, r: request.r, input: input, command: command),
                           files: files)
        if args.flag("--json") {
            print(report.json)
        } else {
            print("\(d.id) \(d.version) on \(input.summary), R = \(request.r), seed \(request.seed)"
                + (input.preprocessing.isEmpty ? "" : ", \(input.preprocessing.summary)"))
            print(String(format: "fit %.3f s, abundances %.3f s, reconstruction RMSE %.4g", result.fitSeconds, result.abundanceSeconds, result.rmse) + (metrics?.line ?? ""))
            print("wrote endmembers.npy, abundances.npy, run.json, report.html and result.hspy to \(out)"
                + (modelPath.map { ", the model to \($0)" } ?? ""))
        }
        return 0
    }

    /// The model file of a run that saved its state (`--save-model`), which `apply` reads.
    static func modelFile(_ request: RunRequest, _ outcome: RunOutcome) -> ModelFile {
        let (d, input) = (request.plugin.descriptor, request.input)
        return ModelFile(pluginID: d.id, pluginVersion: d.version, values: request.values,
                         parameters: Dictionary(request.parameterTexts, uniquingKeysWith: { a, _ in a }),
                         seed: request.seed, bands: input.cube.bands, r: request.r, endmembers: outcome.result.endmembers,
                         state: outcome.state ?? [], signalAxis: input.signalAxis, selection: input.selection,
                         preprocessing: ModelFile.Preprocessing(input, scales: outcome.poissonScales))
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
}
