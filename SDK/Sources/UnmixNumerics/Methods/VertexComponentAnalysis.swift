import Foundation

/// Vertex Component Analysis (Nascimento & Bioucas-Dias, IEEE TGRS 43(4), 2005): R endmembers
/// as the extreme pixels of the data projected on its signal subspace. Shared by the VCA plugin
/// and by every method that starts from VCA (BLU, uDAS).
///
/// As the reference implementations (MATLAB vca.m v2.1, its Python port): the SNR is estimated
/// from the data unless given; below 15 + 10·log10(R) dB the data are projected on the R − 1
/// leading principal directions of the centred data and lifted by a constant coordinate,
/// otherwise on the R leading directions of the uncentred data and scaled projectively. Then R
/// times: a random direction orthogonal to the endmembers found so far; the pixel with the
/// largest |projection| on it becomes the next endmember. Endmembers are rows of the projected
/// (denoised) data at those pixels.
///
/// Differences from the references, for speed and determinism, none changing the method: the
/// leading eigenvectors of the scatter matrix come from randomised subspace iteration on the
/// single-precision cube (`leadingScatterEigen`) instead of a full SVD of a B × B matrix; the SNR
/// power terms are read from its eigenvalues; the random directions come from a seeded stream.
///
/// Memory: the cube is read where it lies, never copied nor widened to doubles; beyond it a run
/// holds O(P·ℓ + B·ℓ) values, ℓ = R + 10 (the subspace block and the projected pixels), and the
/// products with the cube go to BLAS in bounded blocks of pixels (`multiplyPixelBlocks`).
public struct VertexComponentAnalysis: Sendable {
    public enum Projection: String, CaseIterable, Sendable {
        /// Choose by the SNR rule, as the reference does.
        case auto
        /// The high-SNR branch: projective projection on R dimensions.
        case projective
        /// The low-SNR branch: orthogonal projection on R − 1 dimensions.
        case subspace
    }

    /// The SNR in dB; 0 estimates it from the data (the reference's default).
    public var snr: Double
    public var projection: Projection

    public init(snr: Double = 0, projection: Projection = .auto) {
        self.snr = snr
        self.projection = projection
    }

    /// What one run found.
    public struct Result: Sendable {
        /// R × B endmembers.
        public var endmembers: Matrix
        /// The pixel index of each endmember.
        public var indices: [Int]
        /// The SNR (dB) estimated or given.
        public var snr: Double
        /// The branch taken.
        public var branch: Projection
    }

    /// Finds `r` endmembers of the P × B single-precision `data` (pixel-major).
    /// `checkCancelled` is called between vertex searches.
    public func run(_ data: UnsafeBufferPointer<Float>, pixels p: Int, bands: Int, r: Int,
                    random: inout RandomStream, checkCancelled: () throws -> Void = {}) throws -> Result {
        precondition(r >= 1 && r < bands && r <= p, "VCA: R = \(r) for \(p) pixels × \(bands) bands")
        let (mean, py) = columnMeansAndPower(data, pixels: p, bands: bands)   // ȳ and ΣY²/P
        let signal = try leadingScatterEigen(data, pixels: p, bands: bands, mean: mean, k: r)
        let estimated: Double
        if snr == 0 {
            let px = signal.values.reduce(0, +) + mean.reduce(0) { $0 + $1 * $1 }   // Σx_p²/P + ȳᵀȳ
            estimated = 10 * log10((px - Double(r) / Double(bands) * py) / (py - px))
        } else {
            estimated = snr
        }
        let threshold = 15 + 10 * log10(Double(r))
        let branch = projection != .auto ? projection : (estimated < threshold ? .subspace : .projective)

        // y: the projected pixels (P × R) the vertex search runs on; basis · coords + offset
        // rebuilds the (denoised) spectra.
        let basis: Matrix
        var coords: Matrix
        var y: Matrix
        var offset = [Double](repeating: 0, count: bands)
        if branch == .subspace {
            basis = signal.vectors.leadingColumns(r - 1)                                  // B × (R−1)
            coords = project(data, pixels: p, bands: bands, onto: basis)                 // P × (R−1)
            let shift = matmul(Matrix(rows: 1, cols: bands, storage: mean), basis)        // ȳᵀ basis
            var c = 0.0
            for i in 0..<p {
                var norm = 0.0
                for j in 0..<(r - 1) {
                    coords[i, j] -= shift.storage[j]
                    norm += coords[i, j] * coords[i, j]
                }
                c = max(c, norm)
            }
            c = c.squareRoot()
            y = Matrix(rows: p, cols: r)
            for i in 0..<p {
                for j in 0..<(r - 1) { y[i, j] = coords[i, j] }
                y[i, r - 1] = c
            }
            offset = mean
        } else {
            basis = try leadingScatterEigen(data, pixels: p, bands: bands, mean: nil, k: r).vectors   // B × R
            coords = project(data, pixels: p, bands: bands, onto: basis)                           // P × R
            let u = coords.columnMeans
            y = coords
            for i in 0..<p {
                var d = 0.0
                for j in 0..<r { d += u[j] * coords[i, j] }
                for j in 0..<r { y[i, j] = coords[i, j] / d }
            }
        }

        // The vertex search.
        var a = Matrix(rows: r, cols: r)
        a[r - 1, 0] = 1
        var indices = [Int]()
        for i in 0..<r {
            try checkCancelled()
            let w = Matrix(rows: r, cols: 1, storage: (0..<r).map { _ in random.uniform() })
            // f = w − A·pinv(A)·w: the part of w orthogonal to the endmembers found so far.
            var f = w
            let projected = matmul(a, matmul(try pseudoInverse(a), w))
            for k in 0..<r { f.storage[k] -= projected.storage[k] }
            let norm = f.storage.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for k in 0..<r { f.storage[k] /= norm } }
            let v = matmul(y, f)                                                          // P × 1
            var best = 0
            for k in 1..<v.rows where abs(v.storage[k]) > abs(v.storage[best]) { best = k }
            indices.append(best)
            for k in 0..<r { a[k, i] = y[best, k] }
        }
        var e = matmul(coords.rows(indices), basis, transposeB: true)                     // R × B
        for i in 0..<r { for j in 0..<bands { e[i, j] += offset[j] } }
        return Result(endmembers: e, indices: indices, snr: estimated, branch: branch)
    }
}
