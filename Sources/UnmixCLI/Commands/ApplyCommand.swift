import Foundation
import UnmixHost

enum ApplyCommand {
    static let spec = CommandSpec(
        name: "apply", abstract: "Unmix a cube with a model trained by 'unmix run --save-model'.",
        discussion: """
            Train once, apply to the following acquisitions: the model file records the plugin id and \
            version, its parameters, the number of bands and endmembers; apply refuses a mismatch. \
            The model's selection of the signal axis (--range when it was trained) and its \
            preprocessing (--background, --poisson) are applied to INPUT too, and a warning says when INPUT's axis differs from the model's. Writes \
            DIR/abundances.npy (rows, cols, R), DIR/endmembers.npy (the model's), DIR/run.json, \
            DIR/report.html and DIR/result.hspy.
            """,
        positionals: [("model", "A model file written by 'unmix run --save-model'."), ("input", "The cube: a file or a synth folder.")],
        options: [
            InputOptions.shape,
            OptionSpec(["--roi"], value: "R0:R1,C0:C1", help: "Unmix only these rows and columns (default: the model's selection)."),
            RunOptions.out,
            RunOptions.json,
            RunOptions.timeout,
            RunOptions.maxMemory,
            ReportBuilder.profileOption,
        ])

    /// Phase two: the model read and checked, its plugin found, the input opened with the
    /// model's selection.
    static func resolve(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> ApplyRequest {
        guard args.positionals.count == 2 else { throw UnmixError.usage("'unmix apply' takes a MODEL file and an INPUT") }
        _ = try args.required(RunOptions.out.key)
        let (modelPath, inputPath) = (args.positionals[0], args.positionals[1])
        let limits = try RunOptions.limits(args)
        let model = try ModelFile.read(modelPath)
        guard let plugin = registry.plugins.first(where: { $0.descriptor.id == model.pluginID }) else {
            throw UnmixError("\(modelPath) was trained by plugin '\(model.pluginID)', which is not installed (see 'unmix list')")
        }
        let d = plugin.descriptor
        guard d.version == model.pluginVersion else {
            throw UnmixError("\(modelPath) was trained by \(d.id) \(model.pluginVersion); the installed \(d.id) is \(d.version)")
        }
        guard model.values.count == d.parameters.count else {
            throw UnmixError("\(modelPath) holds \(model.values.count) parameter values; \(d.id) \(d.version) has \(d.parameters.count)")
        }
        for (p, v) in zip(d.parameters, model.values) {
            if let problem = p.problem(with: v) { throw UnmixError("\(modelPath): \(problem)") }
        }
        var selection = model.selection
        if let roi = args.value("--roi") { selection.roi = try Selection.Region(parsing: roi) }
        let preprocessing: Preprocessing
        do { preprocessing = try model.preprocessing.resolved() } catch {
            throw UnmixError("\(modelPath): corrupt model header (background '\(model.preprocessing.background ?? "")')")
        }
        let input = try InputOptions.open(inputPath, args, selection: selection, preprocessing: preprocessing,
                                          poissonBand: model.preprocessing.poissonBand)
        guard input.cube.bands == model.bands else {
            throw UnmixError("\(inputPath) has \(input.cube.bands) bands; the model in \(modelPath) was trained on \(model.bands)")
        }
        try validateEndmemberCount(model.r, for: input.cube)
        // Both calibrated and different: the same channel numbers hold other energies.
        if let trained = model.signalAxis, !trained.isUncalibrated, !input.signalAxis.isUncalibrated,
           !trained.matches(input.signalAxis) {
            writeStderr("unmix: warning: \(inputPath): its signal axis (\(input.signalAxis.summary)) differs from the one \(modelPath) was trained on (\(trained.summary))\n")
        }
        return ApplyRequest(plugin: plugin, model: model, input: input, limits: limits, verbose: args.flag("--verbose"))
    }

    /// run.json of an application of a model.
    static func report(_ request: ApplyRequest, _ outcome: RunOutcome, modelPath: String) -> RunReport {
        let (model, input, d) = (request.model, request.input, request.plugin.descriptor)
        var report = RunReport(
            plugin: .init(id: d.id, name: d.name, version: d.version, path: request.plugin.path), model: modelPath,
            parameters: model.parameters, seed: model.seed, r: model.r, input: InputReport(input), fitSeconds: nil,
            abundancesSeconds: outcome.result.abundanceSeconds, reconstructionRmse: outcome.result.rmse,
            workerPeakMemoryMib: outcome.workerPeakMiB, metrics: RunReport.Metrics(input, outcome.result))
        report.preprocessing = input.preprocessingReport(scales: model.preprocessing.poissonScales)
        return report
    }

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        let request = try resolve(args, registry)
        let out = try args.required(RunOptions.out.key)
        let modelPath = args.positionals[0]
        try RunCommand.refuseOverwritingInput(out: out, input: request.input.path)
        let profile = try ReportBuilder.profile(args)
        let outcome = try Runner.apply(request)
        let (model, input, d, result) = (request.model, request.input, request.plugin.descriptor, outcome.result)
        let report = report(request, outcome, modelPath: modelPath)
        let metrics = report.metrics
        let parameters = model.parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let command = ["unmix", "apply"] + args.words
        let page = singleRunReport(
            title: "unmix apply \(d.id) — \(input.dataset.title.isEmpty ? input.path : input.dataset.title)",
            command: command, input: input, label: d.id,
            details: [Report.Field("version", d.version), Report.Field("model", modelPath), Report.Field("seed", String(model.seed))]
                + parameters.map { Report.Field($0.0, $0.1) },
            result: result, seed: model.seed, fitted: false, profile: profile)
        try writeRunFolder(out, result, input: input, json: report.json, report: page,
                           provenance: provenance(pluginID: d.id, version: d.version, parameters: parameters,
                                                  seed: model.seed, r: model.r, input: input, command: command, model: modelPath))
        if args.flag("--json") {
            print(report.json)
        } else {
            print("\(d.id) \(d.version) model \(modelPath) on \(input.summary), R = \(model.r)"
                + (input.preprocessing.isEmpty ? "" : ", \(input.preprocessing.summary)"))
            print(String(format: "abundances %.3f s, reconstruction RMSE %.4g", result.abundanceSeconds, result.rmse) + (metrics?.line ?? ""))
            print("wrote endmembers.npy, abundances.npy, run.json, report.html and result.hspy to \(out)")
        }
        return 0
    }
}
