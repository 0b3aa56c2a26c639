import Foundation
import UnmixSDK

/// The classic EELS quantification step for one edge, for every pixel of a cube: fit a power
/// law A·E^−r on the pre-edge window, extrapolate it under the edge, and integrate what lies
/// above it over the integration window.
///
/// The fit is weighted least squares of log I on log E, in closed form: with weights w = I
/// (for Poisson counts Var(log I) ≈ 1/I), channels with no counts drop out by themselves. One
/// pass over the pixels accumulates the five sums of the 2 × 2 normal equations per pixel; the
/// logarithms of the axis are computed once.
struct EdgeIntegration {
    let pre: [Int]
    let integration: [Int]
    /// log E of each pre-edge channel.
    private let logPre: [Double]
    /// log E and channel width of each integration channel.
    private let logIntegration: [Double]
    private let widths: [Double]

    init(pre: [Int], integration: [Int], axis: ChannelAxis) {
        precondition(pre.allSatisfy { axis.values[$0] > 0 } && integration.allSatisfy { axis.values[$0] > 0 },
                     "EdgeIntegration: windows on non-positive axis values")
        self.pre = pre
        self.integration = integration
        logPre = pre.map { log(axis.values[$0]) }
        logIntegration = integration.map { log(axis.values[$0]) }
        let all = axis.widths
        widths = integration.map { all[$0] }
    }

    /// The background power law of one spectrum: log A and −r, or a flat background (the
    /// weighted mean of the window) when the fit is degenerate (fewer than two channels with
    /// counts); nil when the window holds no counts at all.
    func background(_ spectrum: UnsafeBufferPointer<Float>) -> (logA: Double, slope: Double)? {
        var s = 0.0, sx = 0.0, sxx = 0.0, sy = 0.0, sxy = 0.0, used = 0
        for (j, b) in pre.enumerated() {
            let i = Double(spectrum[b])
            guard i > 0 else { continue }
            let x = logPre[j], y = log(i)
            s += i
            sx += i * x
            sxx += i * x * x
            sy += i * y
            sxy += i * x * y
            used += 1
        }
        guard s > 0 else { return nil }
        let determinant = s * sxx - sx * sx
        // Fewer than two channels, or all at one energy: no slope to fit.
        guard used >= 2, determinant > 1e-12 * s * sxx else { return (sy / s, 0) }
        let slope = (s * sxy - sx * sy) / determinant
        return ((sy - slope * sx) / s, slope)
    }

    /// The background-subtracted integral of one spectrum over the integration window, in
    /// counts × axis units (may be negative where noise or a poor fit leaves the background
    /// above the data).
    func integral(_ spectrum: UnsafeBufferPointer<Float>) -> Double {
        let fit = background(spectrum)
        var total = 0.0
        for (j, b) in integration.enumerated() {
            var bg = 0.0
            if let fit { bg = exp(min(700, fit.logA + fit.slope * logIntegration[j])) }
            total += (Double(spectrum[b]) - bg) * widths[j]
        }
        return total
    }

    /// The integral of every pixel of `cube` (pixel-major, `bands` per pixel).
    func integrals(_ cube: UnsafeBufferPointer<Float>, pixels: Int, bands: Int) -> [Double] {
        var result = [Double](repeating: 0, count: pixels)
        let base = cube.baseAddress!
        for p in 0..<pixels {
            result[p] = integral(UnsafeBufferPointer(start: base + p * bands, count: bands))
        }
        return result
    }
}
