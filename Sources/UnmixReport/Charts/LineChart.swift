import Foundation

/// A line chart as inline SVG: a framed plot area with x and y ticks and labels, curves clipped
/// to the frame, an optional title. Used for endmember spectra and abundance profiles.
public struct LineChart {
    public struct Series {
        public var label: String
        public var color: String
        public var x: [Double]
        public var y: [Double]
        public var width: Double
        public init(label: String, color: String, x: [Double], y: [Double], width: Double = 1.5) {
            self.label = label
            self.color = color
            self.x = x
            self.y = y
            self.width = width
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 420.0
    public var height = 270.0
    /// The y range to show; by default the curves' range, widened to whole ticks.
    public var yRange: (Double, Double)?

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let margin = (left: 62.0, right: 14.0, top: 26.0, bottom: 44.0)

    /// The SVG element; `id` must be unique in the page (it names the clip path).
    public func svg(id: String) -> String {
        let m = Self.margin
        let (pw, ph) = (width - m.left - m.right, height - m.top - m.bottom)
        let xs = series.flatMap(\.x).filter(\.isFinite), ys = series.flatMap(\.y).filter(\.isFinite)
        // No finite x at all (no series drawn): an empty chart over [0, 1].
        let (xLow, xHigh) = (xs.min() ?? 0, xs.max() ?? 1)
        let xTicks = Ticks(xLow, xHigh, count: 5, extend: false)
        let (x0, x1) = (xLow, xHigh > xLow ? xHigh : xLow + 1)
        let yTicks = Ticks(yRange?.0 ?? ys.min() ?? 0, yRange?.1 ?? ys.max() ?? 1, count: 5, extend: true)
        func px(_ x: Double) -> Double { m.left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { m.top + ph - (y - yTicks.low) / (yTicks.high - yTicks.low) * ph }
        var out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        out += "<defs><clipPath id=\"\(id)\"><rect x=\"\(f(m.left))\" y=\"\(f(m.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/></clipPath></defs>"
        out += "<text x=\"\(f(m.left))\" y=\"16\" class=\"title\">\(escapeHTML(title))</text>"
        for v in yTicks.values {
            let y = py(v)
            out += "<line x1=\"\(f(m.left))\" x2=\"\(f(m.left + pw))\" y1=\"\(f(y))\" y2=\"\(f(y))\" class=\"grid\"/>"
            out += "<text x=\"\(f(m.left - 5))\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"tick\">\(yTicks.label(v))</text>"
        }
        for v in xTicks.values where v >= x0 - 1e-9 * abs(x1 - x0) && v <= x1 + 1e-9 * abs(x1 - x0) {
            let x = px(v)
            out += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(m.top + ph))\" y2=\"\(f(m.top + ph + 4))\" class=\"axis\"/>"
            out += "<text x=\"\(f(x))\" y=\"\(f(m.top + ph + 16))\" text-anchor=\"middle\" class=\"tick\">\(xTicks.label(v))</text>"
        }
        out += "<text x=\"\(f(m.left + pw / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\" class=\"label\">\(escapeHTML(xLabel))</text>"
        out += "<text transform=\"translate(13 \(f(m.top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"label\">\(escapeHTML(yLabel))</text>"
        out += "<g clip-path=\"url(#\(id))\">"
        for s in series {
            var points = [String]()
            points.reserveCapacity(s.x.count)
            for (x, y) in zip(s.x, s.y) where x.isFinite && y.isFinite { points.append("\(f(px(x))),\(f(py(y)))") }
            guard !points.isEmpty else { continue }
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"\(s.width)\" stroke-linejoin=\"round\" points=\"\(points.joined(separator: " "))\"><title>\(escapeHTML(s.label))</title></polyline>"
        }
        out += "</g><rect x=\"\(f(m.left))\" y=\"\(f(m.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" class=\"frame\"/></svg>"
        return out
    }
}

/// A coordinate with one decimal.
func f(_ v: Double) -> String { String(format: "%.1f", v) }

/// Text safe inside HTML and SVG elements and attributes.
public func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default:
            // Control characters (a plugin's message may hold terminal escapes) are dropped.
            if c.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\n" || $0 == "\t" }) { out.append(c) }
        }
    }
    return out
}
