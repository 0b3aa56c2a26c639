import Foundation
import UnmixHost

enum DemoCommand {
    static let spec = CommandSpec(
        name: "demo", abstract: "Generate the eels3 synthetic cube and compare every plugin on it.",
        discussion: "The same as 'unmix synth --preset eels3 --out TMP' then 'unmix compare TMP --plugins all'.",
        options: [
            OptionSpec(["--preset"], value: "NAME", help: "eels3 (default) or eels4."),
            OptionSpec(["--repeat"], value: "N", help: "Runs per plugin (default 1; CNNAEU trains for a minute or more)."),
            OptionSpec(["--seed"], value: "N", help: "Seed of the data and of the first run (default 0)."),
            OptionSpec(["--out"], value: "DIR", help: "Keep the data, the runs and the report in DIR."),
        ])

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        guard args.positionals.isEmpty else { throw UnmixError.usage("'unmix demo' takes no positional arguments") }
        let presetName = args.value("--preset") ?? "eels3"
        guard let preset = SyntheticPreset(rawValue: presetName.lowercased()) else {
            throw UnmixError.usage("unknown preset '\(presetName)' (choose: \(SyntheticPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let seed = try parseSeed(args.value("--seed"))
        let repeatCount = try args.integer("--repeat") ?? 1
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-demo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let dataDir = tmp.appendingPathComponent(preset.rawValue)
        let data = SyntheticDataset.generate(preset, seed: seed)
        try data.write(to: dataDir)
        print("generated \(preset.rawValue): \(data.rows)×\(data.cols)×\(data.bands), R = \(data.r), seed \(seed)")
        print("plugins: \(registry.plugins.map(\.descriptor.id).joined(separator: ", "))\n")
        var compare = ParsedArguments()
        compare.positionals = [dataDir.path]
        compare.values["--repeat"] = [String(repeatCount)]
        compare.values["--seed"] = [String(seed)]
        compare.values["--label"] = ["\(preset.rawValue) (synthetic, seed \(seed))"]
        compare.values["--plugin-path"] = args.all("--plugin-path")
        if let out = args.value("--out") {
            compare.values["--out"] = [out]
        }
        let status = try CompareCommand.run(compare, registry)
        if let out = args.value("--out") {
            try OutputDirectory.write(out) { dir in try data.write(to: dir.appendingPathComponent("data")) }
            print("\nwrote the data, every run and report.html to \(out): open \(URL(fileURLWithPath: out).appendingPathComponent("report.html").path) in a browser")
        }
        return status
    }
}
