import CLapack
import Foundation
import UnmixNumerics

// Scores that compare an unmixing result with the ground truth.
//
// Layouts follow the rest of the host: a cube is pixels × bands, endmembers are R × bands (one
// spectrum per row), abundances are pixels × R; all row-major. Sums are accumulated in Double.

/// The spectral angle between two spectra, in radians: arccos(⟨a, b⟩ / (‖a‖ ‖b‖)), with the
/// cosine clamped to [−1, 1] and everything computed in Double. If either spectrum is the zero
/// vector the angle is π/2 (no direction is shared).
public func spectralAngle<A: Collection, B: Collection>(_ a: A, _ b: B) -> Double
where A.Element == Float, B.Element == Float {
    precondition(a.count == b.count, "spectralAngle: spectra have \(a.count) and \(b.count) channels")
    var dot = 0.0, normA = 0.0, normB = 0.0
    for (x, y) in zip(a, b) {
        let u = Double(x), v = Double(y)
        dot += u * v
        normA += u * u
        normB += v * v
    }
    if normA == 0 || normB == 0 { return Double.pi / 2 }
    let cosine = dot / (normA.squareRoot() * normB.squareRoot())
    return acos(min(1, max(-1, cosine)))
}

/// How estimated endmembers correspond to true ones.
public struct EndmemberMatch: Equatable, Sendable {
    /// For each true endmember k, the index of the estimated endmember matched to it.
    public var permutation: [Int]
    /// For each true endmember k, the spectral angle (radians) to its match.
    public var sad: [Double]

    public init(permutation: [Int], sad: [Double]) {
        self.permutation = permutation
        self.sad = sad
    }
}

/// Matches estimated endmembers to true ones (both R × `bands`, row-major) so that the sum of
/// spectral angles is smallest: the Hungarian method on the R × R matrix of angles
/// (true × estimated).
public func matchEndmembers(truth: [Float], estimate: [Float], r: Int, bands: Int) -> EndmemberMatch {
    precondition(truth.count == r * bands, "matchEndmembers: truth has \(truth.count) values, expected \(r) × \(bands)")
    precondition(estimate.count == r * bands,
                 "matchEndmembers: estimate has \(estimate.count) values, expected \(r) × \(bands)")
    let angles: [[Double]] = (0..<r).map { k in
        let t = truth[(k * bands)..<((k + 1) * bands)]
        return (0..<r).map { j in spectralAngle(t, estimate[(j * bands)..<((j + 1) * bands)]) }
    }
    let permutation = Hungarian.minimumCostAssignment(angles)
    return EndmemberMatch(permutation: permutation, sad: (0..<r).map { angles[$0][permutation[$0]] })
}

/// The normalised mean squared error of each abundance map: for true map k,
/// ‖Z_k − Ẑ_perm[k]‖² / ‖Z_k‖², on the abundances as given (no renormalisation). Both arrays are
/// `pixels` × `r`, row-major. A true map that is all zero scores 0 if its estimate is too, and
/// +∞ otherwise.
public func abundanceNMSE(truth: [Float], estimate: [Float], pixels: Int, r: Int, permutation: [Int]) -> [Double] {
    precondition(truth.count == pixels * r, "abundanceNMSE: truth has \(truth.count) values, expected \(pixels) × \(r)")
    precondition(estimate.count == pixels * r,
                 "abundanceNMSE: estimate has \(estimate.count) values, expected \(pixels) × \(r)")
    precondition(permutation.count == r && permutation.allSatisfy { (0..<r).contains($0) },
                 "abundanceNMSE: permutation \(permutation) is not a map of 0..<\(r)")
    var error = [Double](repeating: 0, count: r)
    var energy = [Double](repeating: 0, count: r)
    for p in 0..<pixels {
        for k in 0..<r {
            let z = Double(truth[p * r + k])
            let d = z - Double(estimate[p * r + permutation[k]])
            error[k] += d * d
            energy[k] += z * z
        }
    }
    return (0..<r).map { k in
        if energy[k] > 0 { return error[k] / energy[k] }
        return error[k] == 0 ? 0 : .infinity
    }
}

/// The root mean squared residual of the linear mixing model,
/// sqrt(mean over pixels × bands of (Y − A·E)²), where Y is the cube (`pixels` × `bands`),
/// A the abundances (`pixels` × `r`) and E the endmembers (`r` × `bands`). A·E is computed with
/// BLAS in blocks of pixels; the residual is accumulated in Double.
public func reconstructionRMSE(cube: CubeData, pixels: Int, bands: Int, endmembers: [Float], abundances: [Float],
                               r: Int) -> Double {
    cube.withUnsafeValues { reconstructionRMSE(cube: $0, pixels: pixels, bands: bands, endmembers: endmembers, abundances: abundances, r: r) }
}

/// The same, on a cube given as its values (pixel-major).
public func reconstructionRMSE<C: RandomAccessCollection>(cube: C, pixels: Int, bands: Int, endmembers: [Float], abundances: [Float],
                               r: Int) -> Double where C.Element == Float, C.Index == Int {
    precondition(cube.count == pixels * bands, "reconstructionRMSE: cube has \(cube.count) values, expected \(pixels) × \(bands)")
    precondition(endmembers.count == r * bands,
                 "reconstructionRMSE: endmembers have \(endmembers.count) values, expected \(r) × \(bands)")
    precondition(abundances.count == pixels * r,
                 "reconstructionRMSE: abundances have \(abundances.count) values, expected \(pixels) × \(r)")
    if pixels == 0 || bands == 0 { return 0 }
    let blockPixels = max(1, min(pixels, (1 << 20) / bands))
    var model = [Float](repeating: 0, count: blockPixels * bands)
    var sum = 0.0
    var start = 0
    while start < pixels {
        let count = min(blockPixels, pixels - start)
        abundances.withUnsafeBufferPointer { a in
            linearMixture(abundances: UnsafeBufferPointer(rebasing: a[(start * r)..<((start + count) * r)]),
                          pixels: count, r: r, endmembers: endmembers, bands: bands, into: &model)
        }
        for i in 0..<(count * bands) {
            let d = Double(cube[cube.startIndex + start * bands + i]) - Double(model[i])
            sum += d * d
        }
        start += count
    }
    return (sum / Double(pixels * bands)).squareRoot()
}

/// Writes A·E (`pixels` × `bands`) into the first `pixels * bands` values of `result`, for
/// abundances A (`pixels` × `r`) and endmembers E (`r` × `bands`), both row-major.
/// The corresponding C function is `cblas_sgemm`.
func linearMixture(abundances: UnsafeBufferPointer<Float>, pixels: Int, r: Int, endmembers: [Float], bands: Int,
                   into result: inout [Float]) {
    precondition(abundances.count == pixels * r && endmembers.count == r * bands && result.count >= pixels * bands,
                 "linearMixture: inconsistent shapes")
    if pixels == 0 || bands == 0 { return }
    if r == 0 {
        for i in 0..<(pixels * bands) { result[i] = 0 }
        return
    }
    endmembers.withUnsafeBufferPointer { e in
        result.withUnsafeMutableBufferPointer { y in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(pixels), Int32(bands), Int32(r),
                        1, abundances.baseAddress, Int32(r), e.baseAddress, Int32(bands), 0, y.baseAddress, Int32(bands))
        }
    }
}
