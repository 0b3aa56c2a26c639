import Foundation

enum ApplyCommand {
    static let spec = CommandSpec(
        name: "apply", abstract: "Unmix a cube with a model trained by 'unmix run --save-model'.",
        discussion: """
            Train once, apply to the following acquisitions: the model file records the plugin id and \
            version, its parameters, the number of bands and endmembers; apply refuses a mismatch. \
            The model's selection of the signal axis (--range when it was trained) is applied to \
            INPUT too, and a warning says when INPUT's axis differs from the model's. Writes \
            DIR/abundances.npy (rows, cols, R), DIR/endmembers.npy (the model's), DIR/run.json, \
            DIR/report.html and DIR/result.hspy.
            """,
        positionals: [("model", "A model file written by 'unmix run --save-model'."), ("input", "The cube: a file or a synth folder.")],
        options: [
            InputOptions.shape,
            OptionSpec(["--roi"], value: "R0:R1,C0:C1", help: "Unmix only these rows and columns (default: the model's selection)."),
            OptionSpec(["--out"], value: "DIR", help: "Folder to write (created if needed)."),
            OptionSpec(["--json"], help: "Print run.json on stdout instead of a summary."),
            ReportBuilder.profileOption,
            OptionSpec(["--in-process"], help: "Run the plugin in this process (no crash isolation).", hidden: true),
        ])

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        guard args.positionals.count == 2 else { throw UnmixError.usage("'unmix apply' takes a MODEL file and an INPUT") }
        let out = try args.required("--out")
        let (modelPath, inputPath) = (args.positionals[0], args.positionals[1])
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
        var selection = model.selection
        if let roi = args.value("--roi") { selection.roi = try Selection.Region(parsing: roi) }
        let quiet = args.flag("--in-process")
        let input = try InputOptions.open(inputPath, args, selection: selection, child: quiet)
        let cube = input.cube

        guard cube.bands == model.bands else {
            throw UnmixError("\(inputPath) has \(cube.bands) bands; the model in \(modelPath) was trained on \(model.bands)")
        }
        try validateEndmemberCount(model.r, for: cube)
        // Both calibrated and different: the same channel numbers hold other energies.
        if !quiet, let trained = model.signalAxis, !trained.isUncalibrated, !input.signalAxis.isUncalibrated,
           !trained.matches(input.signalAxis) {
            writeStderr("unmix: warning: \(inputPath): its signal axis (\(input.signalAxis.summary)) differs from the one \(modelPath) was trained on (\(trained.summary))\n")
        }
        try RunCommand.refuseOverwritingInput(out: out, input: input.path)
        if !args.flag("--in-process") { return try RunCommand.isolated("apply", args, pluginID: d.id, outputs: [out]) }

        let instance = try PluginInstance(plugin, verbose: args.flag("--verbose"))
        try instance.setParameters(model.values, seed: model.seed)
        instance.setSignalAxis(input.signalAxis.isUncalibrated ? nil : input.signalAxis)
        try instance.loadState(model.state, r: model.r, bands: model.bands)
        let t0 = now()
        let abundances = try instance.abundances(cube)
        let seconds = now() - t0
        let rmse = reconstructionRMSE(cube: cube, pixels: cube.pixels, bands: cube.bands,
                                      endmembers: model.endmembers, abundances: abundances, r: model.r)
        var report: [String: Any?] = [
            "plugin": ["id": d.id, "name": d.name, "version": d.version, "path": plugin.path],
            "model": modelPath, "parameters": model.parameters, "seed": model.seed, "r": model.r,
            "input": input.report,
            "abundances_seconds": seconds, "reconstruction_rmse": rmse,
        ]
        let result = RunResult(r: model.r, endmembers: model.endmembers, abundances: abundances, fitSeconds: 0,
                               abundanceSeconds: seconds, rmse: rmse)
        let score = scoreReport(input, result)
        report["metrics"] = score?.entry
        let json = jsonText(report)
        let parameters = model.parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let page = singleRunReport(
            title: "unmix apply \(d.id) — \(input.dataset.title.isEmpty ? input.path : input.dataset.title)",
            command: ["unmix", "apply"] + args.words.filter { $0 != "--in-process" }, input: input, label: d.id,
            details: [Report.Field("version", d.version), Report.Field("model", modelPath), Report.Field("seed", String(model.seed))]
                + parameters.map { Report.Field($0.0, $0.1) },
            result: result, seed: model.seed, fitted: false, profile: try ReportBuilder.profile(args))
        try writeRunFolder(out, result, input: input, json: json, report: page,
                           provenance: provenance(pluginID: d.id, version: d.version, parameters: parameters,
                                                  seed: model.seed, r: model.r, input: input,
                                                  command: ["unmix", "apply"] + args.words.filter { $0 != "--in-process" }, model: modelPath))
        if args.flag("--json") {
            print(json)
        } else {
            print("\(d.id) \(d.version) model \(modelPath) on \(input.summary), R = \(model.r)")
            print(String(format: "abundances %.3f s, reconstruction RMSE %.4g", seconds, rmse) + (score?.line ?? ""))
            print("wrote endmembers.npy, abundances.npy, run.json, report.html and result.hspy to \(out)")
        }
        return 0
    }
}
