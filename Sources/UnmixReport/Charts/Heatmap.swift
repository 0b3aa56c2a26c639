/// A square matrix of values as a table of coloured cells (viridis, low = dark) with the value
/// written in each cell, as inline SVG: the plugins' agreement (mean SAD between their
/// endmembers) when there is no ground truth.
public struct Heatmap {
    public var labels: [String]
    /// labels.count × labels.count; nil where unknown (a failed plugin).
    public var values: [[Double?]]
    public var unit: String

    public init(labels: [String], values: [[Double?]], unit: String) {
        self.labels = labels
        self.values = values
        self.unit = unit
    }

    public func svg() -> String {
        let cell = 58.0, left = 90.0, top = 70.0
        let n = labels.count
        let all = values.flatMap { $0.compactMap { $0 } }
        let high = Swift.max(all.max() ?? 1, 1e-12)
        let width = left + Double(n) * cell + 10, height = top + Double(n) * cell + 10
        var out = "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\">"
        for (j, label) in labels.enumerated() {
            let x = left + (Double(j) + 0.5) * cell
            out += "<text transform=\"translate(\(f(x)) \(f(top - 8))) rotate(-40)\" class=\"label\">\(escapeHTML(label))</text>"
        }
        for (i, label) in labels.enumerated() {
            let y = top + Double(i) * cell
            out += "<text x=\"\(f(left - 8))\" y=\"\(f(y + cell / 2 + 4))\" text-anchor=\"end\" class=\"label\">\(escapeHTML(label))</text>"
            for j in 0..<n {
                let x = left + Double(j) * cell
                let v = i < values.count && j < values[i].count ? values[i][j] : nil
                let t = (v ?? 0) / high
                out += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell - 2))\" height=\"\(f(cell - 2))\" fill=\"\(v == nil ? "#ddd" : Colormap.css(t))\"/>"
                let text = v.map { String(format: "%.3f", $0) } ?? "–"
                out += "<text x=\"\(f(x + cell / 2 - 1))\" y=\"\(f(y + cell / 2 + 4))\" text-anchor=\"middle\" class=\"cell\" fill=\"\(t > 0.6 ? "#111" : "#fff")\">\(text)</text>"
            }
        }
        return out + "</svg>"
    }
}
