import Foundation

/// Axis ticks at "nice" steps (1, 2 or 5 × 10ⁿ) covering a data range, and their labels.
public struct Ticks: Equatable {
    /// The range the axis shows (the data range widened to whole steps when `pad` was asked).
    public var low: Double
    public var high: Double
    public var values: [Double]
    public var step: Double

    /// About `count` ticks over [low, high]. With `extend`, the range grows to the ticks around it.
    public init(_ low: Double, _ high: Double, count: Int = 5, extend: Bool = true) {
        var (lo, hi) = (Swift.min(low, high), Swift.max(low, high))
        if !lo.isFinite || !hi.isFinite { (lo, hi) = (0, 1) }
        // A constant: ±10 % around it (±1 around 0).
        if hi - lo < 1e-12 * Swift.max(1, abs(hi)) {
            let half = lo == 0 ? 1 : 0.1 * abs(lo)
            (lo, hi) = (lo - half, hi + half)
        }
        let raw = (hi - lo) / Double(Swift.max(1, count))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if extend {
            lo = floor(lo / step) * step
            hi = ceil(hi / step) * step
        }
        var values = [Double]()
        var v = ceil(lo / step - 1e-9) * step
        while v <= hi + step * 1e-9 {
            values.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        self.low = lo
        self.high = hi
        self.values = values
        self.step = step
    }

    /// The label of tick `v`: as many decimals as the step needs, or scientific for huge and tiny values.
    public func label(_ v: Double) -> String {
        let biggest = Swift.max(abs(low), abs(high))
        if biggest >= 1e5 || (biggest < 1e-3 && biggest > 0) { return String(format: "%.2g", v) }
        let decimals = Swift.max(0, Int(-floor(log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", v)
    }
}
