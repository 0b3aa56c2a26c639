/// A vertical colour bar for a viridis scale from `low` to `high`, as inline SVG.
public struct ColorBar {
    public var low: Double
    public var high: Double
    public var height = 128.0

    public init(low: Double, high: Double, height: Double = 128) {
        self.low = low
        self.high = high
        self.height = height
    }

    public func svg(id: String) -> String {
        let barWidth = 12.0, top = 6.0, width = 58.0
        let ticks = Ticks(low, high, count: 4, extend: false)
        var out = "<svg class=\"colorbar\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height + 2 * top))\">"
        out += "<defs><linearGradient id=\"\(id)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for i in 0...8 { out += "<stop offset=\"\(Double(i) / 8)\" stop-color=\"\(Colormap.css(Double(i) / 8))\"/>" }
        out += "</linearGradient></defs>"
        out += "<rect x=\"1\" y=\"\(f(top))\" width=\"\(f(barWidth))\" height=\"\(f(height))\" fill=\"url(#\(id))\" stroke=\"#666\" stroke-width=\"0.5\"/>"
        let span = high - low
        for v in ticks.values where span > 0 && v >= low - 1e-9 * span && v <= high + 1e-9 * span {
            let y = top + height - (v - low) / span * height
            out += "<line x1=\"\(f(1 + barWidth))\" x2=\"\(f(4 + barWidth))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#444\"/>"
            out += "<text x=\"\(f(6 + barWidth))\" y=\"\(f(y + 4))\" class=\"tick\">\(ticks.label(v))</text>"
        }
        return out + "</svg>"
    }
}
