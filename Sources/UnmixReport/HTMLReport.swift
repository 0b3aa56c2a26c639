import Foundation
import UnmixIO

/// Renders a `Report` as one self-contained HTML page: inline CSS, figures as inline SVG, maps
/// as PNG `data:` URIs. No script, no network: the file opens anywhere.
public enum HTMLReport {
    /// One colour per result, in order; the truth is drawn in black.
    public static let palette = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                                 "#bcbd22", "#7f7f7f"]
    static let truthColor = "#111111"
    /// The frame colour of every abundance map (a colour nothing else on the page uses, so a
    /// test can find the maps in a screenshot).
    public static let mapFrame = (r: UInt8(0x11), g: UInt8(0x22), b: UInt8(0x33))
    /// The longer side of a map on the page, in CSS pixels.
    public static let mapSide = 150.0
    /// Maps with more pixels than this on a side are averaged down before encoding.
    static let maximumMapSide = 256

    public static func render(_ report: Report) throws -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escapeHTML(report.title))</title>
            <style>\(css)</style>
            </head><body>
            <h1>\(escapeHTML(report.title))</h1>
            <p class="command"><code>\(escapeHTML(report.command.map(shellQuoted).joined(separator: " ")))</code></p>

            """
        html += section("Input", fields(report.input))
        html += section("Results", "<pre class=\"table\">\(escapeHTML(textTable(report.table)))</pre>"
            + report.tableNotes.map { "<p class=\"note\">\(escapeHTML($0))</p>" }.joined())
        for (f, figure) in report.figures.enumerated() {
            html += section(figure.title, "<div class=\"charts\">" + figure.charts.enumerated().map { $1.svg(id: "figure-\(f)-\($0)") }.joined()
                + "</div>" + figure.notes.map { "<p class=\"note\">\(escapeHTML($0))</p>" }.joined())
        }
        let drawn = report.results.filter { $0.error == nil && !$0.endmembers.isEmpty }
        if !drawn.isEmpty {
            html += section("Endmembers", spectra(report, drawn))
            html += section("Abundance maps", try maps(report))
            html += section("Profiles", profiles(report, drawn))
        }
        if let agreement = report.agreement, report.results.count > 1 {
            html += section("Agreement between methods", Heatmap(labels: report.results.map(\.label), values: agreement, unit: "rad").svg()
                + "<p class=\"note\">Mean spectral angle (radians) between the endmembers of two methods, matched by the Hungarian method. Low (dark) means the two agree.</p>")
        }
        if !report.results.isEmpty { html += section("Parameters", parameters(report)) }
        html += "<p class=\"footer\">Written by unmix. This page is self-contained: it needs no network and no script.</p>\n</body></html>\n"
        return html
    }

    // MARK: - Sections

    static func section(_ title: String, _ body: String) -> String {
        "<section><h2>\(escapeHTML(title))</h2>\n\(body)\n</section>\n"
    }

    static func fields(_ rows: [Report.Field]) -> String {
        "<table class=\"fields\">" + rows.map { "<tr><th>\(escapeHTML($0.key))</th><td>\(escapeHTML($0.value))</td></tr>" }.joined() + "</table>"
    }

    /// The terminal's table, padded the same way.
    static func textTable(_ t: Report.Table) -> String {
        var widths = t.header.map(\.count)
        for row in t.rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, (i < widths.count ? widths[i] : 0) - cell.count))
                return t.rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        return ([line(t.header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + t.rows.map(line))
            .joined(separator: "\n")
    }

    static func axisLabel(_ axis: Axis) -> String {
        if axis.isUncalibrated { return axis.name.isEmpty ? "index" : "\(axis.name) (index)" }
        let name = axis.name.isEmpty ? "value" : axis.name
        return axis.units.isEmpty ? name : "\(name) (\(axis.units))"
    }

    static func legend(_ report: Report, _ results: [Report.Result]) -> String {
        var items = [String]()
        if report.truth != nil { items.append("<span><i style=\"background:\(truthColor)\"></i>truth</span>") }
        for (i, r) in report.results.enumerated() where results.contains(where: { $0.label == r.label }) {
            items.append("<span><i style=\"background:\(palette[i % palette.count])\"></i>\(escapeHTML(r.label))</span>")
        }
        return "<p class=\"legend\">\(items.joined())</p>"
    }

    static func color(of result: Report.Result, in report: Report) -> String {
        let i = report.results.firstIndex { $0.label == result.label } ?? 0
        return palette[i % palette.count]
    }

    static func spectra(_ report: Report, _ drawn: [Report.Result]) -> String {
        let x = report.signalAxis.allValues
        let reference = report.truth ?? drawn[0]
        var charts = [String]()
        for (k, title) in report.columns.enumerated() {
            var series = [LineChart.Series]()
            if let truth = report.truth, k < truth.endmembers.count {
                series.append(.init(label: "truth", color: truthColor, x: x, y: truth.endmembers[k].map(Double.init), width: 2.4))
            }
            let target = k < reference.endmembers.count ? reference.endmembers[k] : []
            for r in drawn where k < r.endmembers.count {
                let scale = leastSquaresScale(r.endmembers[k], onto: target)
                series.append(.init(label: r.label, color: color(of: r, in: report), x: x, y: r.endmembers[k].map { Double($0) * scale }))
            }
            charts.append(LineChart(title: title, xLabel: axisLabel(report.signalAxis), yLabel: "intensity", series: series)
                .svg(id: "spectrum-\(k)"))
        }
        return legend(report, drawn) + "<div class=\"charts\">\(charts.joined())</div>"
            + (report.spectraNote.isEmpty ? "" : "<p class=\"note\">\(escapeHTML(report.spectraNote))</p>")
    }

    /// The factor s minimising ‖target − s · spectrum‖ (1 when either is empty or zero).
    static func leastSquaresScale(_ spectrum: [Float], onto target: [Float]) -> Double {
        guard spectrum.count == target.count, !spectrum.isEmpty else { return 1 }
        var dot = 0.0, norm = 0.0
        for (a, b) in zip(spectrum, target) {
            dot += Double(a) * Double(b)
            norm += Double(a) * Double(a)
        }
        return norm > 0 && dot.isFinite && dot != 0 ? dot / norm : 1
    }

    /// Whether a map holds proportions (drawn on its column's shared scale).
    static func isProportion(_ map: [Float]) -> Bool {
        !map.isEmpty && map.allSatisfy { $0.isFinite && $0 >= -0.02 && $0 <= 1.02 }
    }

    static func maps(_ report: Report) throws -> String {
        let rows = report.rowAxis.size, cols = report.colAxis.size
        let entries = (report.truth.map { [$0] } ?? []) + report.results
        // One shared scale per column, over the maps that hold proportions.
        var scales = [(Double, Double)?]()
        for k in report.columns.indices {
            let shared = entries.compactMap { k < $0.maps.count && isProportion($0.maps[k]) ? $0.maps[k] : nil }
            let values = shared.flatMap { $0 }
            if let lo = values.min(), let hi = values.max() {
                // From 0 (or below) to the data's maximum, rounded up to a whole tick.
                let ticks = Ticks(Double(Swift.min(0, lo)), Double(hi > lo ? hi : lo + 1), count: 4, extend: true)
                scales.append((Double(Swift.min(0, lo)), ticks.high))
            } else {
                scales.append(nil)
            }
        }
        let side = mapSide / Double(max(rows, cols))
        let (width, height) = (Double(cols) * side, Double(rows) * side)
        var html = "<table class=\"maps\"><tr><th></th>" + report.columns.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr>"
        var ownScales = [String]()
        for (e, entry) in entries.enumerated() {
            let isTruth = report.truth != nil && e == 0
            html += "<tr><th class=\"rowlabel\"><span style=\"color:\(isTruth ? truthColor : color(of: entry, in: report))\">\(escapeHTML(isTruth ? "truth" : entry.label))</span></th>"
            if let error = entry.error {
                html += "<td colspan=\"\(report.columns.count)\" class=\"error\">\(escapeHTML(error))</td></tr>"
                continue
            }
            for k in report.columns.indices {
                guard k < entry.maps.count, entry.maps[k].count == rows * cols else { html += "<td></td>"; continue }
                let map = entry.maps[k]
                let own = !isProportion(map) || scales[k] == nil
                let (lo, hi): (Double, Double)
                if own, let mn = map.min(), let mx = map.max() {
                    (lo, hi) = (Double(mn), Double(mx > mn ? mx : mn + 1))
                } else {
                    (lo, hi) = scales[k] ?? (0, 1)
                }
                let uri = try mapImage(map, rows: rows, cols: cols, low: lo, high: hi).dataURI()
                html += "<td><div class=\"cell\"><img class=\"map\" src=\"\(uri)\" width=\"\(Int(width.rounded()))\" height=\"\(Int(height.rounded()))\" alt=\"\(escapeHTML(entry.label)) \(escapeHTML(report.columns[k]))\">"
                if own {
                    html += ColorBar(low: lo, high: hi, height: height).svg(id: "bar-\(e)-\(k)")
                    ownScales.append(entry.label)
                }
                html += "</div></td>"
            }
            html += "</tr>"
        }
        html += "<tr><th class=\"rowlabel\">scale</th>"
        for k in report.columns.indices {
            if let (lo, hi) = scales[k] {
                html += "<td>\(ColorBar(low: lo, high: hi, height: 100).svg(id: "bar-column-\(k)"))</td>"
            } else {
                html += "<td></td>"
            }
        }
        html += "</tr></table>"
        var notes = ["Column k shows what each method found for the same endmember (matched by the Hungarian method on spectral angles"
            + (report.truth != nil ? " to the truth" : " to the first method") + "). Maps that hold proportions share their column's colour scale (bottom row)."]
        let unique = Array(Set(ownScales)).sorted()
        if !unique.isEmpty {
            notes.append("Not proportions, so each drawn on its own scale (the bar beside the map): \(unique.joined(separator: ", ")).")
        }
        notes.append("Rows: \(axisLabel(report.rowAxis)), top to bottom; columns: \(axisLabel(report.colAxis)), left to right.")
        return html + notes.map { "<p class=\"note\">\(escapeHTML($0))</p>" }.joined()
    }

    /// A map coloured on [low, high], averaged down when larger than `maximumMapSide`.
    static func mapImage(_ map: [Float], rows: Int, cols: Int, low: Double, high: Double) -> PNGImage {
        let factor = max(1, (max(rows, cols) + maximumMapSide - 1) / maximumMapSide)
        let (h, w) = ((rows + factor - 1) / factor, (cols + factor - 1) / factor)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                var sum = 0.0, n = 0.0
                for r in (y * factor)..<min(rows, (y + 1) * factor) {
                    for c in (x * factor)..<min(cols, (x + 1) * factor) {
                        sum += Double(map[r * cols + c])
                        n += 1
                    }
                }
                let (red, green, blue) = Colormap.viridis((sum / n - low) / (high - low))
                pixels[(y * w + x) * 3] = red
                pixels[(y * w + x) * 3 + 1] = green
                pixels[(y * w + x) * 3 + 2] = blue
            }
        }
        return PNGImage(width: w, height: h, pixels: pixels)
    }

    static func profiles(_ report: Report, _ drawn: [Report.Result]) -> String {
        let rows = report.rowAxis.size, cols = report.colAxis.size
        let alongRows = report.profile == .rows
        let axis = alongRows ? report.rowAxis : report.colAxis
        let x = axis.allValues
        func profile(_ map: [Float]) -> [Double] {
            var sums = [Double](repeating: 0, count: alongRows ? rows : cols)
            for r in 0..<rows {
                for c in 0..<cols { sums[alongRows ? r : c] += Double(map[r * cols + c]) }
            }
            let n = Double(alongRows ? cols : rows)
            return sums.map { $0 / n }
        }
        var charts = [String]()
        var omitted = Set<String>()
        for (k, title) in report.columns.enumerated() {
            var series = [LineChart.Series]()
            if let truth = report.truth, k < truth.maps.count, truth.maps[k].count == rows * cols {
                series.append(.init(label: "truth", color: truthColor, x: x, y: profile(truth.maps[k]), width: 2.4))
            }
            for r in drawn where k < r.maps.count && r.maps[k].count == rows * cols {
                guard isProportion(r.maps[k]) else { omitted.insert(r.label); continue }
                series.append(.init(label: r.label, color: color(of: r, in: report), x: x, y: profile(r.maps[k])))
            }
            var chart = LineChart(title: title, xLabel: axisLabel(axis), yLabel: "mean abundance", series: series)
            chart.yRange = (0, 1)
            charts.append(chart.svg(id: "profile-\(k)"))
        }
        var note = "The mean abundance " + (alongRows ? "of each row (over its columns), top to bottom" : "of each column (over its rows), left to right")
            + " (--profile \(alongRows ? "cols" : "rows") for the other direction)."
        if !omitted.isEmpty { note += " Left out, since their abundances are not proportions: \(omitted.sorted().joined(separator: ", "))." }
        return legend(report, drawn) + "<div class=\"charts\">\(charts.joined())</div><p class=\"note\">\(escapeHTML(note))</p>"
    }

    static func parameters(_ report: Report) -> String {
        report.results.map { r in
            "<div class=\"params\"><h3 style=\"color:\(color(of: r, in: report))\">\(escapeHTML(r.label))</h3>\(fields(r.details))</div>"
        }.joined()
    }

    /// A word as a shell would need it quoted.
    static func shellQuoted(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=,+@%".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static let css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;margin:24px auto;max-width:1480px;padding:0 24px;background:#fff}
        h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
        h3{font-size:14px;margin:0 0 6px}.command code{font-size:12px;color:#555;word-break:break-all}
        table.fields{border-collapse:collapse;font-size:13px}table.fields th{text-align:left;padding:2px 16px 2px 0;color:#555;font-weight:600;vertical-align:top}
        table.fields td{padding:2px 0}pre.table{font-size:12.5px;background:#f7f7f7;border:1px solid #e4e4e4;padding:10px 12px;overflow-x:auto}
        .note{font-size:12.5px;color:#555;max-width:1100px}.legend span{display:inline-block;margin-right:18px;font-size:13px}
        .legend i{display:inline-block;width:22px;height:3px;vertical-align:middle;margin-right:6px}
        .charts{display:flex;flex-wrap:wrap;gap:8px 18px}
        svg text{font-family:inherit}svg .title{font-size:13px;font-weight:600;fill:#222}svg .tick{font-size:10.5px;fill:#444}
        svg .label{font-size:11.5px;fill:#333}svg .cell{font-size:11px}svg .grid{stroke:#e6e6e6;stroke-width:1}svg .axis{stroke:#444}
        svg .frame{fill:none;stroke:#888;stroke-width:1}
        table.maps{border-collapse:separate;border-spacing:10px 8px}table.maps th{font-size:13px;font-weight:600;text-align:center}
        table.maps th.rowlabel{text-align:right;padding-right:6px}table.maps td{vertical-align:top}
        .cell{display:flex;gap:4px;align-items:flex-start}
        img.map{image-rendering:pixelated;border:1px solid rgb(17,34,51);display:block}
        td.error{color:#b00;font-size:13px}.params{display:inline-block;vertical-align:top;margin:0 28px 16px 0}
        .footer{margin-top:32px;font-size:12px;color:#888}
        """
}
