import Foundation

/// Truncated normal variates: N(μ, σ²) restricted to [lo, hi], exact (accept–reject, no
/// Metropolis step), robust far in the tails.
///
/// Design notes. Standardise to z = (x − μ)/σ on [a, b], mirror so that the interval never lies
/// wholly left of 0, then pick one of three proposals by the interval's position (Robert,
/// Statistics and Computing 5, 1995; the same split as Chopin, Statistics and Computing 21, 2011):
/// - the interval contains 0 and is wide (b − a ≥ √(2π)): plain normal draws, kept when inside;
/// - the interval contains 0 and is narrow: uniform proposals, accepted with exp(−z²/2);
/// - the interval lies right of 0 (a ≥ 0): a translated exponential of the optimal rate
///   λ = (a + √(a² + 4))/2, accepted with exp(−(z − λ)²/2) (and z ≤ b), unless the interval is so
///   short that uniform proposals accepted with exp((a² − z²)/2) do better (Robert's bound).
/// Every branch accepts with probability bounded away from zero, so [5, ∞), [2, 2.1] and
/// [−10, −9] cost a few uniforms each; no branch evaluates the normal CDF.
extension RandomStream {
    /// A variate of N(`mean`, `sd`²) truncated to [`lower`, `upper`] (either bound may be
    /// infinite). A zero `sd` or an empty-width interval gives the clamped mean.
    public mutating func truncatedNormal(mean: Double, sd: Double, lower: Double, upper: Double) -> Double {
        precondition(lower <= upper, "truncatedNormal: lower \(lower) > upper \(upper)")
        precondition(sd >= 0 && sd.isFinite && mean.isFinite, "truncatedNormal: mean \(mean), sd \(sd)")
        if sd == 0 || lower == upper { return Swift.min(upper, Swift.max(lower, mean)) }
        let a = (lower - mean) / sd, b = (upper - mean) / sd
        let x: Double
        if a >= 0 {
            x = standardTruncatedNormal(a, b)
        } else if b <= 0 {
            x = -standardTruncatedNormal(-b, -a)
        } else {
            x = standardStraddling(a, b)
        }
        // Rounding in mean + sd·x may step just outside the interval.
        return Swift.min(upper, Swift.max(lower, mean + sd * x))
    }

    /// A variate of the positive normal N⁺(`mean`, `sd`²): N(mean, sd²) truncated to [0, ∞)
    /// (the one-sided sampler that Mazet's `randnt` provides in the BLU reference code).
    public mutating func positiveNormal(mean: Double, sd: Double) -> Double {
        truncatedNormal(mean: mean, sd: sd, lower: 0, upper: .infinity)
    }

    /// Standard normal on [a, b] with a < 0 < b.
    private mutating func standardStraddling(_ a: Double, _ b: Double) -> Double {
        if b - a >= (2 * Double.pi).squareRoot() {
            while true {
                let z = normal()
                if z >= a && z <= b { return z }
            }
        }
        while true {
            let z = a + (b - a) * uniform()
            if uniform() <= Foundation.exp(-0.5 * z * z) { return z }
        }
    }

    /// Standard normal on [a, b] with 0 ≤ a < b (b may be +∞).
    private mutating func standardTruncatedNormal(_ a: Double, _ b: Double) -> Double {
        let root = (a * a + 4).squareRoot()
        // Robert (1995): uniform proposals win when b − a is below this bound.
        let uniformBound = 2 * Foundation.exp(0.5 + (a * a - a * root) / 4) / (a + root)
        if b - a < uniformBound {
            while true {
                let z = a + (b - a) * uniform()
                if uniform() <= Foundation.exp(0.5 * (a * a - z * z)) { return z }
            }
        }
        let lambda = (a + root) / 2
        while true {
            let z = a - Foundation.log(uniformPositive()) / lambda
            if z > b { continue }
            let d = z - lambda
            if uniform() <= Foundation.exp(-0.5 * d * d) { return z }
        }
    }

    /// A Gamma(`shape`, 1) variate, `shape` > 0 (Marsaglia & Tsang, ACM TOMS 26(3), 2000; for
    /// shape < 1, the boost Gamma(k) = Gamma(k + 1)·U^{1/k}). Scale it for other rates.
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0 && shape.isFinite, "gamma: shape \(shape)")
        if shape < 1 {
            return gamma(shape: shape + 1) * Foundation.pow(uniformPositive(), 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal()
            let v0 = 1 + c * x
            if v0 <= 0 { continue }
            let v = v0 * v0 * v0
            let u = uniformPositive()
            if Foundation.log(u) < 0.5 * x * x + d - d * v + d * Foundation.log(v) { return d * v }
        }
    }
}
