import Foundation

/// A seeded, reproducible stream of random numbers: xoshiro256** (Blackman & Vigna, 2018),
/// its state expanded from a 64-bit seed with SplitMix64.
///
/// The same seed gives the same sequence on every platform and in every build, which is what
/// `--seed` promises. `split(_:)` derives independent streams for parallel loops, so a result
/// does not depend on how work is spread over threads.
public struct RandomStream: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A stream for sub-task `index`, independent of this one and of other indices.
    public func split(_ index: UInt64) -> RandomStream {
        var copy = self
        let a = copy.next(), b = copy.next()
        return RandomStream(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ (index &* 0xD1B5_4A32_D192_ED03))
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1), 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in (0, 1]: safe under `log`.
    @inline(__always)
    public mutating func uniformPositive() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// Uniform integer in 0..<n.
    public mutating func index(below n: Int) -> Int {
        precondition(n > 0, "index(below:) needs n > 0")
        return Int(next(upperBound: UInt64(n)))
    }

    /// Standard normal, by the Marsaglia polar method (one of the pair is discarded, so each
    /// draw depends only on the stream position, never on cached state).
    public mutating func normal() -> Double {
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * Foundation.log(s) / s).squareRoot() }
        }
    }

    /// A Poisson variate of mean `lambda` (>= 0): inversion by sequential search below 30,
    /// Hörmann's PTRS transformed rejection (1993) above.
    public mutating func poisson(_ lambda: Double) -> Double {
        precondition(lambda >= 0 && lambda.isFinite, "Poisson mean must be finite and >= 0, got \(lambda)")
        if lambda == 0 { return 0 }
        if lambda < 30 {
            var k = 0.0
            var p = Foundation.exp(-lambda), cdf = p
            let u = uniform()
            while u > cdf {
                k += 1
                p *= lambda / k
                cdf += p
                if p == 0 && cdf < u { break } // numerically exhausted tail
            }
            return k
        }
        let slam = lambda.squareRoot(), loglam = Foundation.log(lambda)
        let b = 0.931 + 2.53 * slam
        let a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = uniform() - 0.5
            let v = uniform()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if Foundation.log(v) + Foundation.log(invalpha) - Foundation.log(a / (us * us) + b)
                <= -lambda + k * loglam - Foundation.lgamma(k + 1) {
                return k
            }
        }
    }

    /// A random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                p.swapAt(i, index(below: i + 1))
            }
        }
        return p
    }
}
