/// One axis of a dataset, as HyperSpy describes it: a name, a size, the value of the first
/// index (`offset`), the step between indices (`scale`) and units. Value i is
/// `offset + i · scale`, unless the file lists every value (`values`, for instance an ENVI
/// `wavelength` list), which then wins.
public struct Axis: Codable, Equatable, Sendable {
    public var name: String
    public var size: Int
    public var offset: Double
    public var scale: Double
    /// "eV", "nm", "µm", … ; "" when the file does not say.
    public var units: String
    /// Every value, for a non-uniform axis; nil for a uniform one.
    public var values: [Double]?

    public init(name: String, size: Int, offset: Double = 0, scale: Double = 1, units: String = "", values: [Double]? = nil) {
        precondition(values == nil || values!.count == size, "Axis \(name): \(values!.count) values for size \(size)")
        self.name = name
        self.size = size
        self.offset = offset
        self.scale = scale
        self.units = units
        self.values = values
    }

    /// An axis that only counts: offset 0, scale 1, no units.
    public static func index(_ name: String, size: Int) -> Axis { Axis(name: name, size: size) }

    /// True when the axis carries no calibration (offset 0, scale 1, no units, no values).
    public var isUncalibrated: Bool { offset == 0 && scale == 1 && units.isEmpty && values == nil }

    /// The value at index `i`.
    public func value(_ i: Int) -> Double { values.map { $0[i] } ?? offset + Double(i) * scale }

    /// Every value, first to last.
    public var allValues: [Double] { values ?? (0..<size).map { offset + Double($0) * scale } }

    /// The axis restricted to indices `range` (which must lie inside it).
    public func cropped(_ range: Range<Int>) -> Axis {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "Axis \(name): crop \(range) outside 0..<\(size)")
        return Axis(name: name, size: range.count, offset: value(range.lowerBound), scale: scale, units: units,
                    values: values.map { Array($0[range]) })
    }

    /// The indices whose values lie in the closed interval [low, high] (either order of the
    /// axis), or an empty range.
    public func indices(from low: Double, to high: Double) -> Range<Int> {
        let inside = (0..<size).filter { i in let v = value(i); return v >= low && v <= high }
        guard let first = inside.first, let last = inside.last else { return 0..<0 }
        return first..<(last + 1)
    }

    /// Whether two axes describe the same channels, to `tolerance` of a channel's width.
    public func matches(_ other: Axis, tolerance: Double = 1e-3) -> Bool {
        guard size == other.size, units == other.units else { return false }
        let step = Swift.max(abs(scale), abs(other.scale), .leastNormalMagnitude)
        if values == nil && other.values == nil {
            return abs(offset - other.offset) <= tolerance * step && abs(scale - other.scale) <= tolerance * step
        }
        return (0..<size).allSatisfy { abs(value($0) - other.value($0)) <= tolerance * step }
    }

    /// "150 … 691.8 eV (903 channels of 0.6 eV)", for summaries.
    public var summary: String { summary(counting: "channel") }

    /// The summary with another word for the steps ("pixel" for a navigation axis).
    public func summary(counting noun: String) -> String {
        guard size > 0 else { return "empty" }
        let unit = units.isEmpty ? "" : " \(units)"
        let range = "\(formatNumber(value(0))) … \(formatNumber(value(size - 1)))\(unit)"
        let nouns = "\(size) \(noun)\(size == 1 ? "" : "s")"
        if values != nil { return "\(range) (\(nouns), non-uniform)" }
        return "\(range) (\(nouns) of \(formatNumber(scale))\(unit))"
    }
}

/// A number with at most 6 significant digits and no trailing zeros ("3.33", "250", "1e-05").
public func formatNumber(_ v: Double) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v < 0 ? "-inf" : "inf") }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    var text = String(format: "%.6g", v)
    if text.contains("."), !text.contains("e") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text
}
