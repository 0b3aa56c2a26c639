import Foundation

enum ApplyCommand {
    static let spec = CommandSpec(
        name: "apply", abstract: "Unmix a cube with a model trained by 'unmix run --save-model'.",
        discussion: """
            Train once, apply to the following acquisitions: the model file records the plugin id and \
            version, its parameters, the number of bands and endmembers; apply refuses a mismatch. \
            Writes DIR/abundances.npy (rows, cols, R), DIR/endmembers.npy (the model's) and DIR/run.json.
            """,
        positionals: [("model", "A model file written by 'unmix run --save-model'."), ("input", "The cube: a .npy file or a synth folder.")],
        options: [
            OptionSpec(["--shape"], value: "ROWSxCOLS", help: "Map size of a 2-D (pixels × bands) input."),
            OptionSpec(["--out"], value: "DIR", help: "Folder to write (created if needed)."),
            OptionSpec(["--json"], help: "Print run.json on stdout instead of a summary."),
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
        let input = try Input.open(inputPath, shape: try args.value("--shape").map(parseShape))
        let cube = input.cube
        guard cube.bands == model.bands else {
            throw UnmixError("\(inputPath) has \(cube.bands) bands; the model in \(modelPath) was trained on \(model.bands)")
        }
        try validateEndmemberCount(model.r, for: cube)
        try RunCommand.refuseOverwritingInput(out: out, input: input.path)
        if !args.flag("--in-process") { return try RunCommand.isolated("apply", args, pluginID: d.id, outputs: [out]) }

        let instance = try PluginInstance(plugin, verbose: args.flag("--verbose"))
        try instance.setParameters(model.values, seed: model.seed)
        try instance.loadState(model.state, r: model.r)
        let t0 = now()
        let abundances = try instance.abundances(cube)
        let seconds = now() - t0
        let rmse = reconstructionRMSE(cube: cube.values, pixels: cube.pixels, bands: cube.bands,
                                      endmembers: model.endmembers, abundances: abundances, r: model.r)
        var report: [String: Any?] = [
            "plugin": ["id": d.id, "name": d.name, "version": d.version, "path": plugin.path],
            "model": modelPath, "parameters": model.parameters, "seed": model.seed, "r": model.r,
            "input": ["path": input.path, "rows": cube.rows, "cols": cube.cols, "bands": cube.bands],
            "abundances_seconds": seconds, "reconstruction_rmse": rmse,
        ]
        let result = RunResult(r: model.r, endmembers: model.endmembers, abundances: abundances, fitSeconds: 0,
                               abundanceSeconds: seconds, rmse: rmse)
        let score = scoreReport(input, result)
        report["metrics"] = score?.entry
        let json = jsonText(report)
        try writeRunFolder(out, result, cube: cube, json: json)
        if args.flag("--json") {
            print(json)
        } else {
            print("\(d.id) \(d.version) model \(modelPath) on \(input.path) (\(cube.rows)×\(cube.cols)×\(cube.bands)), R = \(model.r)")
            print(String(format: "abundances %.3f s, reconstruction RMSE %.4g", seconds, rmse) + (score?.line ?? ""))
            print("wrote endmembers.npy, abundances.npy and run.json to \(out)")
        }
        return 0
    }
}
