/// A perceptually uniform colour map: viridis (dark blue → green → yellow), sampled at 9 stops
/// of matplotlib's table and interpolated linearly between them.
public enum Colormap {
    static let stops: [(Double, Double, Double)] = [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ]

    /// The colour of `t` in [0, 1] (clamped; NaN is drawn in grey).
    public static func viridis(_ t: Double) -> (UInt8, UInt8, UInt8) {
        guard t.isFinite else { return (128, 128, 128) }
        let x = Swift.min(1, Swift.max(0, t)) * Double(stops.count - 1)
        let i = Swift.min(stops.count - 2, Int(x))
        let f = x - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func mix(_ u: Double, _ v: Double) -> UInt8 { UInt8((u + (v - u) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// The CSS colour of `t`.
    public static func css(_ t: Double) -> String {
        let (r, g, b) = viridis(t)
        return "rgb(\(r),\(g),\(b))"
    }
}
