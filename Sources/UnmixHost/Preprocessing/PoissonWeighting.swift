import Foundation
import UnmixNumerics

/// Poisson weighting (Keenan & Kotula 2004; HyperSpy's `normalize_poissonian_noise`): the
/// plugin unmixes Y = X / (w_p ⊗ w_b), where X is the cube after the background step, and
/// w_p² ∝ the counts of pixel p, w_b² ∝ the counts of band b, both taken from the raw counts (the
/// noise's variance comes from the counts recorded, whatever was subtracted afterwards). Each
/// is divided by its mean, so that Y keeps the scale of X. See README.md here for the mapping back.
public struct PoissonWeights: Sendable, Equatable {
    /// w_p, one per pixel; w_b, one per band.
    public var pixel: [Float]
    public var band: [Float]
    /// The most negative raw value, when there is one (the caller warns: Poisson weighting
    /// assumes counts).
    public var negativeMinimum: Float?

    public init(pixel: [Float], band: [Float]) {
        self.pixel = pixel
        self.band = band
    }

    /// The weights of `raw` (the counts, after the selection), from its pixel and band totals.
    /// A pixel or band whose total is not positive gets the smallest positive weight of its kind.
    /// HyperSpy refuses any negative value; recorded EELS data often hold small negative values
    /// (dark-reference subtraction), so only the totals are required to be positive somewhere,
    /// and `negativeMinimum` tells the caller to warn.
    ///
    /// - Parameter band: the band weights of a fit, when applying a model (`apply`): the plugin
    ///   must see the new cube weighted as the one it was trained on.
    public static func of(_ raw: CubeData, path: String, band fixedBand: [Float]? = nil) throws -> PoissonWeights {
        let (pixels, bands) = (raw.pixels, raw.bands)
        var pixelSums = [Double](repeating: 0, count: pixels)
        var bandSums = [Double](repeating: 0, count: bands)
        var minimum = Float.infinity
        raw.withUnsafeValues { v in
            for p in 0..<pixels {
                var sum = 0.0
                for b in 0..<bands {
                    let x = v[p * bands + b]
                    minimum = min(minimum, x)
                    sum += Double(x)
                    bandSums[b] += Double(x)
                }
                pixelSums[p] = sum
            }
        }
        func weights(_ sums: [Double]) -> [Float] {
            let floor = sums.filter { $0 > 0 }.min() ?? 1
            let clamped = sums.map { max($0, floor) }
            let mean = clamped.reduce(0, +) / Double(max(1, clamped.count))
            return clamped.map { Float(($0 / mean).squareRoot()) }
        }
        guard pixelSums.contains(where: { $0 > 0 }), bandSums.contains(where: { $0 > 0 }) else {
            throw UnmixError("\(path): --poisson needs counts, and no pixel of the data holds a positive total")
        }
        var result = PoissonWeights(pixel: weights(pixelSums), band: fixedBand ?? weights(bandSums))
        result.negativeMinimum = minimum < 0 ? minimum : nil
        return result
    }

    /// Y = X / (w_p ⊗ w_b), the cube the plugin sees.
    public func weigh(_ cube: CubeData) -> CubeData {
        let (pixels, bands) = (cube.pixels, cube.bands)
        precondition(pixel.count == pixels && band.count == bands, "PoissonWeights.weigh: shapes")
        let inverseBand = band.map { 1 / $0 }
        let storage = cube.withUnsafeValues { v in
            SampleStorage(count: pixels * bands) { out in
                concurrentChunks(pixels) { range in
                    for p in range {
                        let s = 1 / pixel[p]
                        for b in 0..<bands { out[p * bands + b] = v[p * bands + b] * s * inverseBand[b] }
                    }
                }
            }
        }
        return CubeData(rows: cube.rows, cols: cube.cols, bands: bands, storage: storage)
    }

    /// The per-endmember scales u that map a fit on Y back to counts:
    ///
    ///     E_k = Ẽ_k ∘ w_b / u_k,   A_pk = w_p Ã_pk u_k,
    ///
    /// which leaves every pixel's reconstruction unchanged (w_p (ÃẼ)_pb w_b). u is chosen by least
    /// squares so that Σ_k A_pk = 1 as nearly as possible over the pixels. It is exact when the
    /// plugin's factorisation is: if X = A E with rows of A summing to one, then
    /// Y_p = Σ_k (A_pk / w_p) (E_k / w_b), any plugin answer Ã_pk = t_k A_pk / w_p, Ẽ_k = E_k / (t_k w_b)
    /// gives M_pk = w_p Ã_pk = t_k A_pk, and u_k = 1 / t_k solves M u = 1 exactly.
    /// A scale that comes out non-positive or non-finite (results far from that model) is
    /// replaced by the mean of the others, or 1.
    public func scales(abundances: [Float], r: Int) -> [Double] {
        let pixels = pixel.count
        var m = Matrix(rows: pixels, cols: r)
        for p in 0..<pixels { for k in 0..<r { m[p, k] = Double(pixel[p]) * Double(abundances[p * r + k]) } }
        let normal = gram(m)
        var rhs = Matrix(rows: r, cols: 1)
        for p in 0..<pixels { for k in 0..<r { rhs[k, 0] += m[p, k] } }
        var u = (try? solve(normal, rhs)).map { $0.storage } ?? [Double](repeating: .nan, count: r)
        let good = u.filter { $0.isFinite && $0 > 0 }
        let fallback = good.isEmpty ? 1 : good.reduce(0, +) / Double(good.count)
        u = u.map { $0.isFinite && $0 > 0 ? $0 : fallback }
        return u
    }

    /// The endmembers in counts: E_k = Ẽ_k ∘ w_b / u_k.
    public func endmembers(_ weighted: [Float], r: Int, scales u: [Double]) -> [Float] {
        let bands = band.count
        return (0..<(r * bands)).map { i in Float(Double(weighted[i]) * Double(band[i % bands]) / u[i / bands]) }
    }

    /// The abundances in counts' terms: A_pk = w_p Ã_pk u_k, each pixel re-normalised to sum to
    /// one when `sumToOne` (the plugin's did).
    public func abundances(_ weighted: [Float], r: Int, scales u: [Double], sumToOne: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: weighted.count)
        for p in 0..<(weighted.count / max(1, r)) {
            var sum = 0.0
            var row = [Double](repeating: 0, count: r)
            for k in 0..<r {
                row[k] = Double(pixel[p]) * Double(weighted[p * r + k]) * u[k]
                sum += row[k]
            }
            let s = sumToOne && sum > 0 ? 1 / sum : 1
            for k in 0..<r { out[p * r + k] = Float(row[k] * s) }
        }
        return out
    }

    /// True when every pixel's abundances sum to one within 1e-3 (the plugin's own promise,
    /// which the mapping back keeps).
    public static func sumsToOne(_ abundances: [Float], r: Int) -> Bool {
        r > 0 && !abundances.isEmpty && firstPixelNotSummingToOne(abundances, r: r) == nil
    }
}
