import Foundation
import UnmixSDK

/// One endmember's two windows in axis units (eV for EELS), as the user set them: the pre-edge
/// window where the power law is fitted, and the integration window over the edge.
struct EdgeWindows: Equatable {
    var preStart: Double
    var preEnd: Double
    var integrationStart: Double
    var integrationEnd: Double

    /// All four values zero: the entry was not set.
    var isUnset: Bool { preStart == 0 && preEnd == 0 && integrationStart == 0 && integrationEnd == 0 }
}

/// What one endmember's map is made of.
enum WindowEntry: Equatable {
    /// A background-subtracted edge integral.
    case edge(EdgeWindows)
    /// No edge: the map is what the other maps leave, 1 − Σ others (clipped at 0), for a
    /// component such as a bare power law.
    case remainder
}

/// An entry resolved against the cube's axis: the channels of each window.
enum ResolvedEntry: Equatable {
    case edge(pre: [Int], integration: [Int])
    case remainder
}

/// The cube's channels as the plugin sees them: the axis values, and how to name them.
struct ChannelAxis {
    /// The value of each channel (axis units).
    var values: [Double]
    /// "eV", "nm"…, or "channel" when the host only numbers the channels.
    var units: String

    /// The host's axis when it knows one; otherwise the channel numbers 0…B−1.
    init(_ axis: SignalAxis?, bands: Int) throws {
        if let axis {
            guard axis.size == bands else {
                throw PluginError.invalidArgument("the host's signal axis has \(axis.size) channels, the cube \(bands)")
            }
            values = (0..<bands).map(axis.value)
            units = axis.units.isEmpty ? "axis units" : axis.units
        } else {
            values = (0..<bands).map(Double.init)
            units = "channel"
        }
    }

    init(values: [Double], units: String) {
        self.values = values
        self.units = units
    }

    var lowest: Double { values.min() ?? 0 }
    var highest: Double { values.max() ?? 0 }

    /// The width of each channel: half the distance to its two neighbours (the step itself on a
    /// uniform axis), so that a sum of values times widths integrates over the axis.
    var widths: [Double] {
        let n = values.count
        guard n > 1 else { return [1] }
        return (0..<n).map { b in
            let left = values[max(0, b - 1)], right = values[min(n - 1, b + 1)]
            return abs(right - left) / Double(min(n - 1, b + 1) - max(0, b - 1))
        }
    }

    /// The channels whose value lies in `low...high` (a relative tolerance of 1e-9 of the step
    /// keeps a bound typed as a channel's own value inside).
    func channels(from low: Double, to high: Double) -> [Int] {
        let slack = 1e-9 * max(1, abs(highest - lowest) / Double(max(1, values.count - 1)))
        return values.indices.filter { values[$0] >= low - slack && values[$0] <= high + slack }
    }

    /// A value as people write it: up to 7 significant digits (691.2, not 691.2000000000001).
    func format(_ v: Double) -> String { String(format: "%.7g", v) }
}

enum WindowError {
    static func entry(_ k: Int, _ text: String) -> PluginError {
        PluginError.invalidArgument("BS entry \(k + 1): \(text)")
    }
}

extension ChannelAxis {
    /// The channels of each entry, every window checked against the axis: inside it, in
    /// order (pre-edge before integration), on positive values (a power law is undefined at
    /// E ≤ 0), with at least two pre-edge channels and one integration channel.
    func resolve(_ entries: [WindowEntry]) throws -> [ResolvedEntry] {
        let range = "\(format(lowest))–\(format(highest)) \(units)"
        return try entries.enumerated().map { k, entry in
            guard case let .edge(w) = entry else { return .remainder }
            let named: [(String, Double, Double)] = [("pre-edge", w.preStart, w.preEnd),
                                                     ("integration", w.integrationStart, w.integrationEnd)]
            for (what, start, end) in named {
                guard start < end else {
                    throw WindowError.entry(k, "the \(what) window \(format(start))–\(format(end)) must start below its end")
                }
                guard start >= lowest - abs(highest - lowest) * 1e-12, end <= highest + abs(highest - lowest) * 1e-12 else {
                    throw WindowError.entry(k, "the \(what) window \(format(start))–\(format(end)) lies outside the axis (\(range))")
                }
                guard start > 0 else {
                    throw WindowError.entry(k, "the \(what) window \(format(start))–\(format(end)) reaches axis values ≤ 0, where a power law E^−r is undefined")
                }
            }
            guard w.preEnd <= w.integrationStart else {
                throw WindowError.entry(k, "the pre-edge window must end (\(format(w.preEnd))) at or before the integration window starts (\(format(w.integrationStart)))")
            }
            let pre = channels(from: w.preStart, to: w.preEnd)
            let integration = channels(from: w.integrationStart, to: w.integrationEnd)
            guard pre.count >= 2 else {
                throw WindowError.entry(k, "the pre-edge window \(format(w.preStart))–\(format(w.preEnd)) holds \(pre.count) channel(s); a power-law fit needs at least 2")
            }
            guard !integration.isEmpty else {
                throw WindowError.entry(k, "the integration window \(format(w.integrationStart))–\(format(w.integrationEnd)) holds no channel")
            }
            return .edge(pre: pre, integration: integration)
        }
    }

    /// Windows for R endmembers when none were set: the channels with positive values split
    /// into R equal consecutive segments, each with its first quarter (at least two channels)
    /// as the pre-edge window and the rest as the integration window. A generic default that
    /// runs on any axis; for EELS, set the windows of each edge.
    func automaticWindows(r: Int) throws -> (entries: [ResolvedEntry], windows: [EdgeWindows]) {
        let positive = values.indices.filter { values[$0] > 0 }
        let length = positive.count / r
        guard length >= 3 else {
            throw PluginError.invalidArgument("no BS windows set, and \(positive.count) channel\(positive.count == 1 ? "" : "s") with positive axis values \(positive.count == 1 ? "is" : "are") too few for \(r) automatic window\(r == 1 ? "" : "s") of 3 channels; set pre_start_1, pre_end_1, int_start_1, int_end_1, … (unmix info bs)")
        }
        var entries = [ResolvedEntry](), windows = [EdgeWindows]()
        for k in 0..<r {
            let segment = Array(positive[(k * length)..<((k + 1) * length)])
            let split = max(2, length / 4)
            let pre = Array(segment[..<split]), integration = Array(segment[split...])
            entries.append(.edge(pre: pre, integration: integration))
            windows.append(EdgeWindows(preStart: values[pre.first!], preEnd: values[pre.last!],
                                       integrationStart: values[integration.first!], integrationEnd: values[integration.last!]))
        }
        return (entries, windows)
    }
}
