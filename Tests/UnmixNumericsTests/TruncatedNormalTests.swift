import Testing
import UnmixNumerics
import _TestSupport

/// One truncated-normal case with its mean and variance from scipy.stats.truncnorm, computed once:
///
///     from scipy.stats import truncnorm
///     for (m, s, lo, hi) in cases:
///         a, b = (lo - m) / s, (hi - m) / s
///         print(truncnorm.mean(a, b, loc=m, scale=s), truncnorm.var(a, b, loc=m, scale=s))
struct TruncatedCase: CustomTestStringConvertible, Sendable {
    var mean: Double, sd: Double, lower: Double, upper: Double
    var expectedMean: Double, expectedVariance: Double
    var testDescription: String { "N(\(mean), \(sd)²) on [\(lower), \(upper)]" }
}

@Suite struct TruncatedNormalTests {
    static let cases: [TruncatedCase] = [
        .init(mean: 0, sd: 1, lower: 5, upper: .infinity, expectedMean: 5.1865039671258515, expectedVariance: 0.03269643461706184),
        .init(mean: 0, sd: 1, lower: -1, upper: 1, expectedMean: 0, expectedVariance: 0.291125094772793),
        .init(mean: 0, sd: 1, lower: 2, upper: 2.1, expectedMean: 2.0482934302550966, expectedVariance: 0.0008313091254859017),
        .init(mean: 0, sd: 1, lower: -10, upper: -9, expectedMean: -9.108456288012421, expectedVariance: 0.011448805821517971),
        .init(mean: 1.5, sd: 2, lower: 0, upper: .infinity, expectedMean: 2.278764113471854, expectedVariance: 2.225380285360616),
        .init(mean: -3, sd: 0.5, lower: 0, upper: .infinity, expectedMean: 0.07924130227230908, expectedVariance: 0.005996909197261313),
        .init(mean: 0.2, sd: 0.1, lower: 0, upper: 0.25, expectedMean: 0.15542562217274852, expectedVariance: 0.0037659383613683588),
        .init(mean: 0, sd: 1, lower: -.infinity, upper: .infinity, expectedMean: 0, expectedVariance: 1),
    ]

    /// 40000 draws: the sample mean is within 5 standard errors (√(var/n)); the sample variance
    /// within 5 σ²·√(8/n), the standard error of a variance for kurtosis up to 9 (an exponential's,
    /// the heaviest shape a truncated normal approaches in a far tail).
    @Test(arguments: cases)
    func momentsMatchClosedForm(_ c: TruncatedCase) {
        let n = 40_000
        var stream = RandomStream(seed: 2024)
        let xs = (0..<n).map { _ in stream.truncatedNormal(mean: c.mean, sd: c.sd, lower: c.lower, upper: c.upper) }
        #expect(xs.allSatisfy { $0 >= c.lower && $0 <= c.upper }, "a draw fell outside [\(c.lower), \(c.upper)]")
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        expectClose(mean, c.expectedMean, tolerance: 5 * (c.expectedVariance / Double(n)).squareRoot(), "mean")
        expectClose(variance, c.expectedVariance, tolerance: 5 * c.expectedVariance * (8.0 / Double(n)).squareRoot(), "variance")
    }

    /// The positive normal is the [0, ∞) case: N⁺(1.5, 2²) above.
    @Test func positiveNormalIsTheOneSidedCase() {
        var stream = RandomStream(seed: 5)
        let n = 40_000
        let xs = (0..<n).map { _ in stream.positiveNormal(mean: 1.5, sd: 2) }
        #expect(xs.allSatisfy { $0 >= 0 })
        let mean = xs.reduce(0, +) / Double(n)
        expectClose(mean, 2.278764113471854, tolerance: 5 * (2.225380285360616 / Double(n)).squareRoot(), "N⁺ mean")
    }

    /// Degenerate inputs: zero spread or a point interval give the clamped mean.
    @Test func degenerateIntervals() {
        var stream = RandomStream(seed: 1)
        #expect(stream.truncatedNormal(mean: 3, sd: 0, lower: 0, upper: 1) == 1)
        #expect(stream.truncatedNormal(mean: 0.5, sd: 1, lower: 2, upper: 2) == 2)
    }

    /// Gamma(k, 1) has mean k and variance k (by hand); k = 0.5, 3 and 1e6 (the σ² step's size).
    @Test(arguments: [0.5, 3.0, 1e6])
    func gammaMoments(shape: Double) {
        let n = 40_000
        var stream = RandomStream(seed: 9)
        let xs = (0..<n).map { _ in stream.gamma(shape: shape) }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        expectClose(mean, shape, tolerance: 5 * (shape / Double(n)).squareRoot(), "gamma mean")
        // Var of the sample variance ≈ (μ4 − σ⁴)/n with μ4 = 3k² + 6k.
        expectClose(variance, shape, tolerance: 5 * ((2 * shape * shape + 6 * shape) / Double(n)).squareRoot(), "gamma variance")
    }
}
