import Foundation
import UnmixHost

/// Builds the typed `Report` of `report.html` from what a command computed: matches every
/// method's endmembers to the reference's columns and cuts abundances into maps.
enum ReportBuilder {
    /// The report option, shared by `run`, `compare` and `apply`.
    static let profileOption = OptionSpec(["--profile"], value: "rows|cols",
                                          help: "Profiles in report.html: the mean abundance of each row (rows, default) or column.")

    static func profile(_ args: ParsedArguments) throws -> Report.ProfileDirection {
        guard let text = args.value(profileOption.key) else { return .rows }
        guard let p = Report.ProfileDirection(rawValue: text.lowercased()) else {
            throw UnmixError.usage("--profile expects rows or cols, got '\(text)'")
        }
        return p
    }

    /// A method's result with its endmembers and maps in the reference's column order
    /// (Hungarian matching on spectral angles), or in its own order without a reference.
    static func result(label: String, details: [Report.Field], endmembers: [Float], abundances: [Float], r: Int,
                       bands: Int, pixels: Int, reference: [Float]?) -> Report.Result {
        let order = reference.map { matchEndmembers(truth: $0, estimate: endmembers, r: r, bands: bands).permutation }
            ?? Array(0..<r)
        return Report.Result(label: label, details: details,
                             endmembers: order.map { Array(endmembers[($0 * bands)..<(($0 + 1) * bands)]) },
                             maps: order.map { k in (0..<pixels).map { abundances[$0 * r + k] } })
    }

    /// The truth as a result (its own order defines the columns).
    static func truth(_ truth: GroundTruth, bands: Int, pixels: Int) -> Report.Result {
        result(label: "truth", details: [Report.Field("source", truth.source)], endmembers: truth.endmembers,
               abundances: truth.abundances, r: truth.r, bands: bands, pixels: pixels, reference: nil)
    }

    /// Column titles: the truth's names, or "endmember k".
    static func columns(_ input: Input, r: Int) -> [String] {
        (0..<r).map { k in
            if let names = input.truth?.names, input.truth?.r == r, k < names.count { return names[k] }
            return "endmember \(k + 1)"
        }
    }

    /// How the input was read, one field a line: what `inspect` prints and the report's input
    /// table shows (after the file's path).
    static func inputFields(_ input: Input) -> [Report.Field] {
        let d = input.dataset
        func axis(_ a: Axis, _ noun: String) -> String { "\(a.name.isEmpty ? "(unnamed)" : a.name): \(a.summary(counting: noun))" }
        var fields = [
            Report.Field("format", d.format),
            Report.Field("title", d.title.isEmpty ? "(none)" : d.title),
            Report.Field("shape", "\(input.cube.rows) × \(input.cube.cols) pixels × \(input.cube.bands) channels (rows × columns × signal)"),
            Report.Field("sample type", d.dtype.rawValue + (d.dtype == .float32 ? "" : ", read as float32")
                + (d.cube.storage.isMapped ? " (used in place from the file)" : "")),
            Report.Field("signal", axis(d.signalAxis, "channel")),
            Report.Field("rows", axis(d.rowAxis, "pixel")),
            Report.Field("columns", axis(d.colAxis, "pixel")),
            Report.Field("truth", input.truth.map { t in
                "R = \(t.r) endmembers and their abundances, from \(t.source)" + (t.names.map { " (\($0.joined(separator: ", ")))" } ?? "")
            } ?? "none"),
        ]
        if !input.selection.isEmpty {
            let r = input.region
            let options = [input.selection.range.map { "--range \($0.text)" }, input.selection.roi.map { "--roi \($0.text)" }]
            fields.append(Report.Field("selection", options.compactMap { $0 }.joined(separator: " ")
                + " → rows \(r.rows.lowerBound)..<\(r.rows.upperBound), columns \(r.cols.lowerBound)..<\(r.cols.upperBound), "
                + "channels \(r.channels.lowerBound)..<\(r.channels.upperBound) of \(input.fileShape.map(String.init).joined(separator: " × "))"))
        }
        if !input.preprocessing.isEmpty {
            var text = input.preprocessing.summary
            if let fit = input.backgroundFit {
                text += "; background fitted on channels \(fit.fitChannels[0])..<\(fit.fitChannels[1])"
                    + (fit.window.map { " (\(formatNumber($0[0]))–\(formatNumber($0[1])) found)" } ?? "")
                    + String(format: ", %.0f %% of the counts", 100 * fit.backgroundShare)
                if let q = fit.exponentQuartiles { text += String(format: ", exponent r quartiles %.2f / %.2f / %.2f", q[0], q[1], q[2]) }
            }
            fields.append(Report.Field("preprocessing", text))
        }
        return fields
    }

    static let spectraNoteWithTruth = "The truth in counts; each estimate scaled by the factor that brings it closest to the truth (least squares), since methods differ in how they split scale between endmembers and abundances."
    static let spectraNoteWithout = "Each estimate scaled by the factor that brings it closest (least squares) to the first method's, since methods differ in how they split scale between endmembers and abundances."

    /// Writes `report.html` into `dir`.
    static func write(_ report: Report, to dir: URL) throws {
        try Data(try HTMLReport.render(report).utf8).write(to: dir.appendingPathComponent("report.html"))
    }
}
