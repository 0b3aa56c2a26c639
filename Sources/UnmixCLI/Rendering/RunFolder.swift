import Foundation
import UnmixHost

/// Writes DIR/endmembers.npy (R, bands), DIR/abundances.npy (rows, cols, R), DIR/run.json and,
/// unless `report` is nil, DIR/report.html and DIR/result.hspy, with `files` beside it (the
/// model): all or nothing.
func writeRunFolder(_ out: String, _ result: RunResult, input: Input, json: String, report: Report?,
                    provenance: [String: MetadataValue], files: [(path: String, data: Data)] = []) throws {
    let cube = input.cube
    try OutputDirectory.write(out, files: files) { dir in
        try NPY.write(result.endmembers, shape: [result.r, cube.bands], to: dir.appendingPathComponent("endmembers.npy"))
        try NPY.write(result.abundances, shape: [cube.rows, cube.cols, result.r], to: dir.appendingPathComponent("abundances.npy"))
        try Data((json + "\n").utf8).write(to: dir.appendingPathComponent("run.json"))
        guard let report else { return }
        try ReportBuilder.write(report, to: dir)
        let d = input.dataset
        try HyperSpyWriter.writeResult(endmembers: result.endmembers, abundances: result.abundances, r: result.r,
                                       signalAxis: d.signalAxis, rowAxis: d.rowAxis, colAxis: d.colAxis,
                                       title: d.title.isEmpty ? "unmix" : d.title, metadata: ["unmix": .dictionary(provenance)],
                                       to: dir.appendingPathComponent("result.hspy").path)
    }
}

/// What result.hspy records of a run in its metadata (`metadata.unmix`): the plugin, its
/// parameters and seed, the input and its selection, the command.
func provenance(pluginID: String, version: String, parameters: [(String, String)], seed: UInt64, r: Int, input: Input,
                command: [String], model: String? = nil) -> [String: MetadataValue] {
    var tree: [String: MetadataValue] = [
        "plugin": .string(pluginID), "plugin_version": .string(version), "seed": .string(String(seed)), "r": .integer(r),
        "parameters": .dictionary(Dictionary(parameters.map { ($0.0, MetadataValue.string($0.1)) }, uniquingKeysWith: { a, _ in a })),
        "input": .dictionary([
            "path": .string(input.path), "format": .string(input.dataset.format), "dtype": .string(input.dataset.dtype.rawValue),
            "range": .string(input.selection.range?.text ?? ""), "roi": .string(input.selection.roi?.text ?? ""),
            "channels": .numbers([Double(input.region.channels.lowerBound), Double(input.region.channels.upperBound)]),
        ]),
        "command": .string(command.joined(separator: " ")), "unmix_version": .string(UnmixCLI.version),
    ]
    if let model { tree["model"] = .string(model) }
    return tree
}

/// The report of one run (`run`) or one application of a model (`apply`).
func singleRunReport(title: String, command: [String], input: Input, label: String, details: [Report.Field],
                     result: RunResult, seed: UInt64, fitted: Bool, profile: Report.ProfileDirection) -> Report {
    let cube = input.cube
    let truth = input.truth.flatMap { $0.r == result.r ? $0 : nil }
    let score = truth.map { Score(truth: $0, result: result, pixels: cube.pixels, bands: cube.bands) }
    var header = ["PLUGIN", "R", "SEED", "FIT (s)", "ABUNDANCES (s)", "RMSE"]
    var row = [label, String(result.r), String(seed), fitted ? String(format: "%.3f", result.fitSeconds) : "-",
               String(format: "%.3f", result.abundanceSeconds), String(format: "%.4g", result.rmse)]
    if let score {
        header += ["SAD (rad)", "NMSE"]
        row += [String(format: "%.4f", score.sadMean), String(format: "%.4f", score.nmseMean)]
    }
    let reference = truth?.endmembers
    return Report(
        title: title, command: command, input: [Report.Field("file", input.path)] + ReportBuilder.inputFields(input),
        table: Report.Table(header: header, rows: [row], rightAligned: Set(1..<header.count)),
        tableNotes: score == nil ? [] : ["SAD: mean spectral angle to the matched true endmembers; NMSE: mean ‖Z − Ẑ‖²/‖Z‖² of the matched abundance maps."],
        truth: truth.map { ReportBuilder.truth($0, bands: cube.bands, pixels: cube.pixels) },
        results: [ReportBuilder.result(label: label, details: details, endmembers: result.endmembers, abundances: result.abundances,
                                       r: result.r, bands: cube.bands, pixels: cube.pixels, reference: reference)],
        columns: ReportBuilder.columns(input, r: result.r), signalAxis: input.signalAxis, rowAxis: input.dataset.rowAxis,
        colAxis: input.dataset.colAxis, profile: profile,
        spectraNote: truth == nil ? "" : ReportBuilder.spectraNoteWithTruth)
}
