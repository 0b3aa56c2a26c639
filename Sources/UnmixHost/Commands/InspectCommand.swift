import Foundation

enum InspectCommand {
    static let spec = CommandSpec(
        name: "inspect", abstract: "Show how a file is read: format, shape, sample type, axes, title, ground truth.",
        discussion: """
            Reads INPUT as 'run' would and prints what the reader found, so that you can check \
            how your file was understood before unmixing it. With --range or --roi, also what \
            the selection keeps.
            """,
        positionals: [("input", "A file (DigitalMicrograph, HyperSpy, TIA, ripple, ENVI, MATLAB, NumPy) or a synth folder.")],
        options: InputOptions.all + [OptionSpec(["--json"], help: "Print one JSON document instead of text."), InputOptions.noProbe])

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else { throw UnmixError.usage("'unmix inspect' takes one INPUT") }
        let json = args.flag("--json")
        let input = try InputOptions.open(args.positionals[0], args, warnings: !json)
        let d = input.dataset
        if json {
            var report = input.report
            report["mapped"] = d.cube.storage.isMapped
            report["truth"] = d.truth.map { ["source": $0.source, "r": $0.r, "names": $0.names as Any?] as [String: Any?] }
            report["warnings"] = d.warnings
            print(jsonText(report))
            return 0
        }
        func axisLine(_ a: Axis, _ noun: String = "pixel") -> String {
            "\(a.name.isEmpty ? "(unnamed)" : a.name): \(a.summary(counting: noun))"
        }
        var rows: [(String, String)] = [
            ("format", d.format),
            ("title", d.title.isEmpty ? "(none)" : d.title),
            ("shape", "\(d.cube.rows) × \(d.cube.cols) pixels × \(d.cube.bands) channels (rows × columns × signal)"),
            ("dtype", d.dtype.rawValue + (d.dtype == .float32 ? "" : ", read as float32")
                + (d.cube.storage.isMapped ? " (used in place from the file)" : "")),
            ("signal", axisLine(d.signalAxis, "channel")),
            ("rows", axisLine(d.rowAxis)),
            ("columns", axisLine(d.colAxis)),
            ("truth", d.truth.map { t in
                "R = \(t.r) endmembers and their abundances, from \(t.source)" + (t.names.map { " (\($0.joined(separator: ", ")))" } ?? "")
            } ?? "none"),
        ]
        if !input.selection.isEmpty {
            let r = input.region
            rows.append(("selection", "rows \(r.rows.lowerBound)..<\(r.rows.upperBound), columns \(r.cols.lowerBound)..<\(r.cols.upperBound), "
                + "channels \(r.channels.lowerBound)..<\(r.channels.upperBound) of \(input.fileShape.map(String.init).joined(separator: " × "))"))
        }
        print(input.path)
        for (key, value) in rows { print("  " + key.padding(toLength: 10, withPad: " ", startingAt: 0) + value) }
        return 0
    }
}
