import Testing
import UnmixNumerics
import _TestSupport

/// Sample mean and unbiased variance.
private func moments(_ xs: [Double]) -> (mean: Double, variance: Double) {
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
    return (mean, variance)
}

@Suite struct RandomStreamTests {
    @Test func sameSeedSameSequence() {
        var a = RandomStream(seed: 42), b = RandomStream(seed: 42)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        var c = RandomStream(seed: 43)
        let other = (0..<100).map { _ in c.next() }
        #expect(zip(first, other).filter { $0 == $1 }.count == 0, "seeds 42 and 43 share values")
    }

    @Test func splitStreamsDifferFromEachOtherAndTheParent() {
        let parent = RandomStream(seed: 7)
        var p = parent, s0 = parent.split(0), s1 = parent.split(1), again = parent.split(1)
        let parentValues = (0..<50).map { _ in p.next() }
        let v0 = (0..<50).map { _ in s0.next() }, v1 = (0..<50).map { _ in s1.next() }
        #expect(v0 != v1 && v0 != parentValues && v1 != parentValues)
        #expect(v1 == (0..<50).map { _ in again.next() }, "split(1) is not reproducible")
    }

    /// Uniform(0, 1): mean 1/2, variance 1/12; 20000 draws give standard errors of 0.002 and 0.0006.
    @Test func uniformMoments() {
        var stream = RandomStream(seed: 1)
        let xs = (0..<20_000).map { _ in stream.uniform() }
        #expect(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        let (mean, variance) = moments(xs)
        expectClose(mean, 0.5, tolerance: 5 * (1.0 / 12 / 20_000).squareRoot(), "uniform mean")
        expectClose(variance, 1.0 / 12, tolerance: 5 * (1.0 / 180 / 20_000).squareRoot(), "uniform variance")
    }

    /// Standard normal: standard errors 1/√n for the mean and √(2/n) for the variance.
    @Test func normalMoments() {
        var stream = RandomStream(seed: 2)
        let xs = (0..<20_000).map { _ in stream.normal() }
        let (mean, variance) = moments(xs)
        expectClose(mean, 0, tolerance: 5 / 20_000.0.squareRoot(), "normal mean")
        expectClose(variance, 1, tolerance: 5 * (2 / 20_000.0).squareRoot(), "normal variance")
    }

    /// Poisson(λ): mean and variance both λ. Standard errors: √(λ/n) for the mean and
    /// √((2λ² + λ)/n) for the variance (the fourth central moment is 3λ² + λ); tolerance 5 of them.
    @Test(arguments: [0.5, 5, 50, 1000])
    func poissonMoments(lambda: Double) {
        var stream = RandomStream(seed: UInt64(lambda * 10))
        let n = 20_000.0
        let xs = (0..<Int(n)).map { _ in stream.poisson(lambda) }
        #expect(xs.allSatisfy { $0 >= 0 && $0 == $0.rounded() }, "Poisson draws must be non-negative integers")
        let (mean, variance) = moments(xs)
        expectClose(mean, lambda, tolerance: 5 * (lambda / n).squareRoot(), "Poisson(\(lambda)) mean")
        expectClose(variance, lambda, tolerance: 5 * ((2 * lambda * lambda + lambda) / n).squareRoot(),
                    "Poisson(\(lambda)) variance")
    }

    @Test func poissonOfZeroIsZero() {
        var stream = RandomStream(seed: 3)
        #expect((0..<100).allSatisfy { _ in stream.poisson(0) == 0 })
    }

    @Test func permutationIsAPermutation() {
        var stream = RandomStream(seed: 4)
        for n in [0, 1, 2, 10, 257] {
            let p = stream.permutation(n)
            #expect(p.sorted() == Array(0..<n))
        }
    }
}
