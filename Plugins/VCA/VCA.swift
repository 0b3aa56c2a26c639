import Foundation
import UnmixSDK

/// Vertex Component Analysis (Nascimento & Bioucas-Dias, IEEE TGRS 43(4), 2005) for the
/// endmembers, fully constrained least squares for the abundances.
///
/// As the reference implementations (MATLAB vca.m v2.1, its Python port): the SNR is estimated
/// from the data unless given; below 15 + 10·log10(R) dB the data are projected on the R − 1
/// leading principal directions of the centred data and lifted by a constant coordinate,
/// otherwise on the R leading directions of the uncentred data and scaled projectively. Then R
/// times: a random direction orthogonal to the endmembers found so far, the pixel with the
/// largest |projection| on it becomes the next endmember. Endmembers are rows of the projected
/// (denoised) data at those pixels.
///
/// Differences from the references, all for speed or determinism, none changing the method:
/// the leading eigenvectors of the scatter matrix come from randomised subspace iteration on the
/// single-precision cube (`leadingScatterEigen`) instead of a full SVD of a B × B matrix; the SNR
/// power terms are read from its eigenvalues; the random directions come from the seeded stream.
struct VCA: StatefulUnmixer {
    enum Projection: String, CaseIterable {
        /// Choose by the SNR rule, as the reference does.
        case auto
        /// The high-SNR branch: projective projection on R dimensions.
        case projective
        /// The low-SNR branch: orthogonal projection on R − 1 dimensions.
        case subspace
    }

    var snr = 0.0
    var projection = Projection.auto

    /// The fitted endmembers, R × B.
    private var endmembers: Matrix?
    /// The SNR (dB) estimated or given in the last fit, and the branch taken (for logging and tests).
    private(set) var lastSNR = 0.0
    private(set) var lastBranch = Projection.auto

    static let info = PluginInfo(
        id: "vca", name: "VCA", version: "1.0.0",
        summary: "Vertex Component Analysis endmembers, fully constrained least-squares abundances",
        description: """
            Vertex Component Analysis (Nascimento & Bioucas-Dias, 2005) finds R endmembers as the \
            extreme pixels of the data after projection on its signal subspace: at each step a random \
            direction orthogonal to the endmembers found so far, and the pixel that projects furthest \
            on it. Abundances are fully constrained least squares (non-negative, summing to one), \
            solved exactly by an active-set method. Deterministic for a given seed.
            """,
        authors: "unmix developers", license: "MIT",
        url: "https://doi.org/10.1109/TGRS.2005.844293",
        capabilities: [.stochastic])

    static let parameters: [Parameter<VCA>] = [
        .real("snr", \.snr, min: 0, max: 200, unit: "dB",
              help: "Signal-to-noise ratio of the data; 0 estimates it from the data (the reference's default)."),
        .choice("projection", \.projection,
                help: "auto picks the branch by the SNR rule (SNR < 15 + 10 log10 R: subspace); projective or subspace force one."),
    ]

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        let (p, bands) = (cube.pixels, cube.bands)
        let (mean, py) = columnMeansAndPower(cube.data, pixels: p, bands: bands)   // ȳ and ΣY²/P
        let signal = try leadingScatterEigen(cube.data, pixels: p, bands: bands, mean: mean, k: r)
        if snr == 0 {
            let px = signal.values.reduce(0, +) + mean.reduce(0) { $0 + $1 * $1 }   // Σx_p²/P + ȳᵀȳ
            lastSNR = 10 * log10((px - Double(r) / Double(bands) * py) / (py - px))
        } else {
            lastSNR = snr
        }
        let threshold = 15 + 10 * log10(Double(r))
        lastBranch = projection != .auto ? projection : (lastSNR < threshold ? .subspace : .projective)
        context.log(.debug, "VCA: SNR \(lastSNR) dB, threshold \(threshold) dB, \(lastBranch.rawValue) projection")

        // y: the projected pixels (P × R) the vertex search runs on; basis · coords + offset
        // rebuilds the (denoised) spectra.
        let basis: Matrix
        var coords: Matrix
        var y: Matrix
        var offset = [Double](repeating: 0, count: bands)
        if lastBranch == .subspace {
            basis = signal.vectors.leadingColumns(r - 1)                                  // B × (R−1)
            coords = project(cube.data, pixels: p, bands: bands, onto: basis)            // P × (R−1)
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
            basis = try leadingScatterEigen(cube.data, pixels: p, bands: bands, mean: nil, k: r).vectors   // B × R
            coords = project(cube.data, pixels: p, bands: bands, onto: basis)            // P × R
            let u = coords.columnMeans
            y = coords
            for i in 0..<p {
                var d = 0.0
                for j in 0..<r { d += u[j] * coords[i, j] }
                for j in 0..<r { y[i, j] = coords[i, j] / d }
            }
        }
        try fitVertices(y: y, coords: coords, basis: basis, offset: offset, r: r, context: context)
        return endmembers!
    }

    /// The vertex search on the projected pixels `y` (P × R); stores the endmembers as the
    /// projected spectra basis · coords[index] + offset of the selected pixels.
    private mutating func fitVertices(y: Matrix, coords: Matrix, basis: Matrix, offset: [Double],
                                      r: Int, context: RunContext) throws {
        var random = context.random()
        var a = Matrix(rows: r, cols: r)
        a[r - 1, 0] = 1
        var indices = [Int]()
        for i in 0..<r {
            try context.checkCancelled()
            let w = Matrix(rows: r, cols: 1, storage: (0..<r).map { _ in random.uniform() })
            // f = w − A·pinv(A)·w: the part of w orthogonal to the endmembers found so far.
            var f = w
            let projected = matmul(a, matmul(try pseudoInverse(a), w))
            for k in 0..<r { f.storage[k] -= projected.storage[k] }
            let norm = f.storage.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for k in 0..<r { f.storage[k] /= norm } }
            let v = matmul(y, f)                                               // P × 1
            var best = 0
            for k in 1..<v.rows where abs(v.storage[k]) > abs(v.storage[best]) { best = k }
            indices.append(best)
            for k in 0..<r { a[k, i] = y[best, k] }
        }
        var e = matmul(coords.rows(indices), basis, transposeB: true)          // R × B
        for i in 0..<r { for j in 0..<e.cols { e[i, j] += offset[j] } }
        endmembers = e
    }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        var solver = SimplexLeastSquares(endmembers: endmembers!)
        return try solver.solve(cube.data, pixels: cube.pixels, bands: cube.bands)
    }

    func saveState() throws -> [UInt8] {
        let e = endmembers!
        return StateCoder.encode([Double(e.rows), Double(e.cols)] + e.storage)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        let v = try StateCoder.decode(bytes)
        guard v.count >= 2, Int(v[0]) * Int(v[1]) == v.count - 2 else {
            throw PluginError.invalidArgument("VCA state: bad size")
        }
        endmembers = Matrix(rows: Int(v[0]), cols: Int(v[1]), storage: Array(v[2...]))
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(VCA.self) }
