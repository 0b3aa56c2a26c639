import Foundation

/// An SVG figure of spectra: one panel per reference spectrum, with the matched spectrum of each
/// method drawn over it, every curve scaled to its own maximum (SAD is scale-free, so shapes are
/// what to compare). Written by `compare --out` as `endmembers.svg`.
public struct SpectraPlot {
    public struct Series {
        public var label: String
        /// R × B, rows already matched to the panels (row k belongs to panel k).
        public var spectra: [[Float]]
        public init(label: String, spectra: [[Float]]) {
            self.label = label
            self.spectra = spectra
        }
    }

    public var panelTitles: [String]
    public var series: [Series]
    /// The x value of each band (e.g. energy in eV), or nil for the band index.
    public var axis: [Double]?
    public var axisLabel: String

    public init(panelTitles: [String], series: [Series], axis: [Double]? = nil, axisLabel: String = "band") {
        self.panelTitles = panelTitles
        self.series = series
        self.axis = axis
        self.axisLabel = axisLabel
    }

    static let palette = ["#000000", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public func svg() -> String {
        let panelWidth = 360.0, panelHeight = 220.0, margin = 40.0, legendHeight = 24.0 * Double((series.count + 3) / 4)
        let columns = min(2, max(1, panelTitles.count))
        let rows = (panelTitles.count + columns - 1) / columns
        let width = Double(columns) * (panelWidth + margin) + margin
        let height = Double(rows) * (panelHeight + margin + 20) + margin + legendHeight
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>

            """
        for (s, item) in series.enumerated() {
            let x = margin + Double(s % 4) * 170, y = 20 + Double(s / 4) * 24
            let color = Self.palette[s % Self.palette.count]
            out += "<line x1=\"\(x)\" y1=\"\(y)\" x2=\"\(x + 24)\" y2=\"\(y)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            out += "<text x=\"\(x + 30)\" y=\"\(y + 4)\">\(escape(item.label))</text>\n"
        }
        for (k, title) in panelTitles.enumerated() {
            let left = margin + Double(k % columns) * (panelWidth + margin)
            let top = legendHeight + margin + Double(k / columns) * (panelHeight + margin + 20)
            out += "<text x=\"\(left)\" y=\"\(top - 8)\" font-weight=\"bold\">\(escape(title))</text>\n"
            out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(panelWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#999\"/>\n"
            let bands = series.first?.spectra[k].count ?? 0
            let xs = axis ?? (0..<bands).map(Double.init)
            if let first = xs.first, let last = xs.last {
                out += "<text x=\"\(left)\" y=\"\(top + panelHeight + 14)\">\(formatTick(first))</text>"
                out += "<text x=\"\(left + panelWidth)\" y=\"\(top + panelHeight + 14)\" text-anchor=\"end\">\(formatTick(last)) \(escape(axisLabel))</text>\n"
            }
            for (s, item) in series.enumerated() where k < item.spectra.count {
                let spectrum = item.spectra[k]
                let peak = spectrum.map { abs($0) }.max() ?? 0
                guard peak > 0, spectrum.count > 1, let x0 = xs.first, let x1 = xs.last, x1 > x0 else { continue }
                let points = spectrum.enumerated().map { b, v -> String in
                    let px = left + (xs[b] - x0) / (x1 - x0) * panelWidth
                    let py = top + panelHeight - (Double(v) / Double(peak) * 0.9 + 0.05) * panelHeight
                    return String(format: "%.1f,%.1f", px, py)
                }.joined(separator: " ")
                out += "<polyline fill=\"none\" stroke=\"\(Self.palette[s % Self.palette.count])\" stroke-width=\"\(s == 0 ? 2 : 1.2)\" points=\"\(points)\"/>\n"
            }
        }
        return out + "</svg>\n"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private func formatTick(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }
}
