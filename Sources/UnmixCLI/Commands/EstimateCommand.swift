import Foundation
import UnmixHost

enum EstimateCommand {
    static let noise = OptionSpec(["--noise"], value: "MODEL",
                                  help: "HySime's noise model: poisson (counts, through √Y), additive, or auto (default: poisson when every value is a non-negative whole number).")

    static let spec = CommandSpec(
        name: "estimate", abstract: "Estimate the number of endmembers R: HySime and the scree elbow.",
        discussion: """
            HySime (Bioucas-Dias & Nascimento 2008) estimates each band's noise by regression on the \
            other bands and counts the eigenvectors of the signal's correlation whose power exceeds \
            twice the noise's: R is the dimension of the signal subspace. For counts it works on the \
            square root of the data, whose Poisson noise has the same variance everywhere. The scree \
            elbow is HyperSpy's estimate_elbow_position on the SVD's explained-variance ratios. \
            'run -r auto' and 'compare -r auto' use HySime's R. With --out, writes DIR/estimate.json \
            and DIR/report.html (the scree curve and HySime's powers, R marked).
            """,
        positionals: [("input", "The cube: a file or a synth folder.")],
        options: [noise] + InputOptions.all + [
            OptionSpec(["--out"], value: "DIR", help: "Also write estimate.json and report.html to DIR."),
            OptionSpec(["--json"], help: "Print estimate.json on stdout instead of a summary."),
        ])

    /// estimate.json: the input as run.json describes it, and the estimate.
    struct Document: Encodable {
        var input: InputReport
        var command: [String]
        var estimate: RankEstimate
    }

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else { throw UnmixError.usage("'unmix estimate' takes one INPUT") }
        let choice = try args.value(noise.key).map(RankEstimate.NoiseChoice.init(parsing:)) ?? .auto
        let json = args.flag("--json")
        let input = try InputOptions.open(args.positionals[0], args)
        let estimate = try RankEstimate.estimate(input.cube, noise: choice)
        let command = ["unmix", "estimate"] + args.words
        let document = encodeJSON(Document(input: InputReport(input), command: command, estimate: estimate))
        if let out = args.value("--out") {
            try OutputDirectory.write(out) { dir in
                try Data((document + "\n").utf8).write(to: dir.appendingPathComponent("estimate.json"))
                try ReportBuilder.write(report(estimate, input: input, command: command), to: dir)
            }
        }
        if json {
            print(document)
            return 0
        }
        print(input.summary)
        print("noise model: \(estimate.noiseModel.rawValue) (\(estimate.noiseModelReason))")
        print("HySime: R = \(estimate.hysime.r)")
        print("elbow:  R = \(estimate.scree.r) (the scree of the SVD, HyperSpy's estimate_elbow_position)")
        print(String(format: "%.3f s", estimate.seconds) + (args.value("--out").map { "; wrote estimate.json and report.html to \($0)" } ?? ""))
        print("")
        let t = table(estimate)
        print(renderTable(t.header, t.rows, rightAligned: t.rightAligned), terminator: "")
        return 0
    }

    /// The first components: HySime's powers per eigenvector of Rx and the SVD's explained
    /// variance, to a few rows past both estimates.
    static func table(_ e: RankEstimate) -> Report.Table {
        let h = e.hysime
        let shown = min(e.bands, max(h.r, e.scree.r) + 3)
        let rows = (0..<shown).map { i -> [String] in
            [String(i + 1), String(format: "%.4g", h.signalPower[i]), String(format: "%.4g", h.noisePower[i]),
             String(format: "%.4g", -h.signalPower[i] + 2 * h.noisePower[i]), i < h.r ? "signal" : "noise",
             String(format: "%.3e", e.scree.explainedVarianceRatio[i]), i == e.scree.elbowIndex ? "elbow" : ""]
        }
        return Report.Table(header: ["K", "Py", "Pn", "-Py+2Pn", "HYSIME", "EXPLAINED VAR", "SCREE"], rows: rows,
                            rightAligned: [0, 1, 2, 3, 5])
    }

    /// report.html: the input, the table, the scree curve with its elbow and HySime's powers with R.
    static func report(_ e: RankEstimate, input: Input, command: [String]) -> Report {
        let h = e.hysime
        let screeCount = min(e.bands, max(50, e.scree.r + 20))
        let scree = e.scree.explainedVarianceRatio.prefix(screeCount).map { log10(max($0, 1e-30)) }
        let xs = (1...screeCount).map(Double.init)
        func marker(_ x: Int, _ ys: [Double], _ label: String, _ color: String) -> LineChart.Series {
            let finite = ys.filter(\.isFinite)
            return LineChart.Series(label: label, color: color, x: [Double(x), Double(x)], y: [finite.min() ?? 0, finite.max() ?? 1], width: 1.2)
        }
        var screeChart = LineChart(title: "Scree: explained variance ratio (log₁₀), elbow at \(e.scree.r)", xLabel: "component",
                                   yLabel: "log₁₀ explained variance ratio",
                                   series: [.init(label: "explained variance ratio", color: "#1f77b4", x: xs, y: Array(scree), width: 1.8),
                                            marker(e.scree.r, Array(scree), "elbow: R = \(e.scree.r)", "#d62728")])
        let hCount = min(e.bands, max(30, 2 * h.r + 10))
        let py = h.signalPower.prefix(hCount).map { log10(max($0, 1e-300)) }
        let pn2 = h.noisePower.prefix(hCount).map { log10(max(2 * $0, 1e-300)) }
        let hx = (1...hCount).map(Double.init)
        var hysimeChart = LineChart(title: "HySime: signal power Py and twice the noise power 2 Pn, R = \(h.r)", xLabel: "eigenvector of Rx",
                                    yLabel: "log₁₀ power",
                                    series: [.init(label: "Py", color: "#1f77b4", x: hx, y: Array(py), width: 1.8),
                                             .init(label: "2 Pn", color: "#2ca02c", x: hx, y: Array(pn2), width: 1.8),
                                             marker(h.r, Array(py) + Array(pn2), "HySime: R = \(h.r)", "#d62728")])
        screeChart.width = 620
        hysimeChart.width = 620
        screeChart.height = 340
        hysimeChart.height = 340
        let t = table(e)
        return Report(
            title: "unmix estimate — \(input.dataset.title.isEmpty ? input.path : input.dataset.title)", command: command,
            input: ReportBuilder.inputFields(input), table: t,
            tableNotes: ["HySime: R = \(h.r) (noise model \(e.noiseModel.rawValue): \(e.noiseModelReason)). Elbow of the scree: R = \(e.scree.r).",
                         "Py, Pn: the signal and noise power along each eigenvector of the signal correlation Rx (decreasing eigenvalue); "
                            + "HySime keeps those with −Py + 2 Pn < 0. EXPLAINED VAR: the SVD's explained-variance ratio (data uncentred).",
                         "Regularisation: \(h.regularisation). \(String(format: "%.3f", e.seconds)) s."],
            truth: nil, results: [], columns: [], signalAxis: input.signalAxis, rowAxis: input.dataset.rowAxis,
            colAxis: input.dataset.colAxis,
            figures: [Report.Figure(title: "Estimates", charts: [screeChart, hysimeChart], notes: [
                "Scree: the explained-variance ratio of each SVD component on a log scale (blue); the red line marks the elbow, "
                    + "the point farthest from the line joining components 1 and \(e.scree.maxPoints + 1): its component number is "
                    + "HyperSpy's R. Where the corner is sharp that point is the first component on the noise floor, one past the signal.",
                "HySime: the signal power Py (blue) and twice the noise power 2 Pn (green) per eigenvector of Rx; the signal subspace is where Py "
                    + "lies above 2 Pn, and the red line marks R = \(h.r).",
            ])])
    }
}
