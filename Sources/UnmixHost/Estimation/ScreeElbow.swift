import Foundation

/// The elbow of a scree curve, as HyperSpy's `estimate_elbow_position` finds it (after the
/// "Kneedle" of Satopää et al., 2011): over the first `maxPoints` = min(maxPoints, n − 1)
/// values (clipped below at 10⁻³⁰ and, with `log`, on a natural-log scale), the index of the
/// point farthest from the straight line through point 0 and point `maxPoints`. The number of
/// components is that index + 1. The first of equal distances wins; an undefined distance
/// counts as 0. With one value or none, 0.
public func elbowPosition(_ curve: [Double], log useLog: Bool = true, maxPoints: Int = 20) -> Int {
    let last = min(maxPoints, curve.count - 1)
    guard last >= 1 else { return 0 }
    func y(_ i: Int) -> Double {
        let v = Swift.max(curve[i], 1e-30)
        return useLog ? Foundation.log(v) : v
    }
    let (x2, y1, y2) = (Double(last), y(0), y(last))
    let denominator = (x2 * x2 + (y2 - y1) * (y2 - y1)).squareRoot()
    var best = 0, bestDistance = -Double.infinity
    for i in 0..<last {
        var d = abs(x2 * (y1 - y(i)) + Double(i) * (y2 - y1)) / denominator
        if d.isNaN { d = 0 }
        if d > bestDistance {
            best = i
            bestDistance = d
        }
    }
    return best
}
