import UnmixSDK

extension ICA {
    /// HyperSpy's `decomposition()` (SVD, no centring) then `blind_source_separation(R)`.
    /// Returns the BSS factors (B × R) and loadings (P × R), sorted, not yet sign-flipped.
    static func hyperspyPipeline(_ cube: Cube, r: Int, diffOrder: Int, derivative: Derivative,
                                 ica: FastICA, initial: Matrix,
                                 context: RunContext, onIteration: (Int, Double) throws -> Void) throws
        -> (factors: Matrix, loadings: Matrix) {
        let (p, b) = (cube.pixels, cube.bands)
        // Decomposition: factors F = V (B × R), loadings L = U·S (P × R).
        let svd = try truncatedSVD(cube.data, pixels: p, bands: b, k: r)
        let factors = svd.v
        var loadings = svd.u
        for i in 0..<p { for j in 0..<r { loadings[i, j] *= svd.s[j] } }
        // The signals ICA sees: the derivative of the factors along energy, `diffOrder` times:
        // numpy's `gradient` (HyperSpy 2's `derivative`, B × R) or `diff` (HyperSpy 1, B − 1 rows).
        var signals = factors
        for _ in 0..<diffOrder {
            signals = derivative == .gradient ? gradient(signals) : difference(signals)
        }
        // HyperSpy's PCA whitening: centre the columns, C = YᵀY/n, C = U S Uᵀ, W = S^(−1/2) Uᵀ.
        let n = signals.rows
        let mean = signals.columnMeans
        for i in 0..<n { for j in 0..<r { signals[i, j] -= mean[j] } }
        let eigen = try symmetricEigen(gram(signals, scale: 1 / Double(n)), largest: r)
        var whitening = eigen.vectors.transposed             // R × R, row i scaled below
        for i in 0..<r {
            let f = 1 / (eigen.values[i] + 1e-10).squareRoot()
            for j in 0..<r { whitening[i, j] *= f }
        }
        let white = matmul(whitening, signals, transposeB: true)   // R × n: W Yᵀ
        let result = try ica.run(whitened: white, initial: initial, onIteration: onIteration)
        context.log(.debug, "ICA (hyperspy): \(result.iterations) iterations, converged \(result.converged), last change \(result.change)")
        if !result.converged {
            context.log(.warning, "FastICA did not converge in \(ica.maxIterations) iterations (last change \(result.change), tol \(ica.tolerance))")
        }
        // Unmixing of the factors: w = W_ica · W_whiten; sort by explained variance · |wᵀ|.
        let w = matmul(result.unmixing, whitening)
        let variance = svd.s.map { $0 * $0 }
        let score = (0..<r).map { j in (0..<r).reduce(0.0) { $0 + variance[$1] * abs(w[j, $1]) } }
        let order = (0..<r).sorted { score[$0] > score[$1] }
        let sorted = w.rows(order)
        return (matmul(factors, sorted, transposeB: true), matmul(loadings, try inverse(sorted)))
    }

    /// numpy's `gradient` down the rows of `y` (n × c) at unit spacing: central differences
    /// (y[i+1] − y[i−1]) / 2 inside, one-sided first differences at the two ends; n rows out.
    /// The spacing HyperSpy passes (the energy axis) scales every column alike, which the
    /// whitening that follows removes. Fewer than two rows give zeros.
    static func gradient(_ y: Matrix) -> Matrix {
        let (n, c) = (y.rows, y.cols)
        var d = Matrix(rows: n, cols: c)
        guard n >= 2 else { return d }
        for j in 0..<c {
            d[0, j] = y[1, j] - y[0, j]
            d[n - 1, j] = y[n - 1, j] - y[n - 2, j]
        }
        for i in 1..<(n - 1) { for j in 0..<c { d[i, j] = (y[i + 1, j] - y[i - 1, j]) / 2 } }
        return d
    }

    /// numpy's `diff` down the rows of `y` (n × c): y[i+1] − y[i], n − 1 rows out.
    static func difference(_ y: Matrix) -> Matrix {
        var d = Matrix(rows: max(y.rows - 1, 0), cols: y.cols)
        for i in 0..<d.rows { for j in 0..<y.cols { d[i, j] = y[i + 1, j] - y[i, j] } }
        return d
    }

    /// scikit-learn's `FastICA(n_components=R, whiten='unit-variance').fit_transform(X)` on the
    /// P × B data (pixels are samples): sources S (P × R) are the maps, the mixing matrix (B × R)
    /// holds the spectra.
    static func sklearnPipeline(_ cube: Cube, r: Int, ica: FastICA, initial: Matrix,
                                context: RunContext, onIteration: (Int, Double) throws -> Void) throws
        -> (factors: Matrix, loadings: Matrix) {
        let (p, b) = (cube.pixels, cube.bands)
        // Whitening: the R leading principal directions V of the centred data, with eigenvalues λ
        // of the covariance (1/P); X1 = diag(λ^(−1/2)) Vᵀ (X − 1mᵀ)ᵀ has unit covariance (R × P).
        let mean = columnMeansAndPower(cube.data, pixels: p, bands: b).mean
        let eigen = try leadingScatterEigen(cube.data, pixels: p, bands: b, mean: mean, k: r)
        let v = eigen.vectors
        var projected = project(cube.data, pixels: p, bands: b, onto: v)   // P × R
        let shift = matmul(Matrix(rows: 1, cols: b, storage: mean), v)
        let scale = eigen.values.map { 1 / max($0, Double.leastNormalMagnitude).squareRoot() }
        for i in 0..<p { for j in 0..<r { projected[i, j] = (projected[i, j] - shift[0, j]) * scale[j] } }
        let white = projected.transposed
        let result = try ica.run(whitened: white, initial: initial, onIteration: onIteration)
        context.log(.debug, "ICA (sklearn): \(result.iterations) iterations, converged \(result.converged), last change \(result.change)")
        if !result.converged {
            context.log(.warning, "FastICA did not converge in \(ica.maxIterations) iterations (last change \(result.change), tol \(ica.tolerance))")
        }
        // Sources with unit variance; mixing = pinv(components) = V diag(√λ) Wᵀ diag(σ), where σ
        // are the sources' standard deviations before that rescaling (unit-variance whitening).
        var sources = matmul(white, result.unmixing, transposeA: true, transposeB: true)   // P × R
        var sigma = [Double](repeating: 0, count: r)
        for j in 0..<r {
            var s = 0.0, s2 = 0.0
            for i in 0..<p { s += sources[i, j]; s2 += sources[i, j] * sources[i, j] }
            let m = s / Double(p)
            sigma[j] = max(s2 / Double(p) - m * m, Double.leastNormalMagnitude).squareRoot()
            for i in 0..<p { sources[i, j] /= sigma[j] }
        }
        var vs = v
        for i in 0..<b { for j in 0..<r { vs[i, j] *= eigen.values[j].squareRoot() } }
        var mixing = matmul(vs, result.unmixing, transposeB: true)
        for i in 0..<b { for j in 0..<r { mixing[i, j] *= sigma[j] } }
        return (mixing, sources)
    }

    /// HyperSpy's `_auto_reverse_bss_component` on the factors: a component whose spectrum has
    /// min < 0 and |min| > max is negated, spectrum and map together.
    static func autoReverse(_ factors: inout Matrix, _ loadings: inout Matrix) {
        for j in 0..<factors.cols {
            let column = factors.column(j)
            let low = column.min()!, high = column.max()!
            guard low < 0, -low > high else { continue }
            for i in 0..<factors.rows { factors[i, j] = -factors[i, j] }
            for i in 0..<loadings.rows { loadings[i, j] = -loadings[i, j] }
        }
    }

    /// A 64-bit hash (FNV-1a over the values' bit patterns, and the shape) telling the fitted cube
    /// from any other, so that `abundances` on it returns the fitted loadings.
    static func fingerprint(_ cube: Cube) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for word in [UInt64(cube.pixels), UInt64(cube.bands)] { h = (h ^ word) &* 0x100_0000_01b3 }
        for x in cube.data { h = (h ^ UInt64(x.bitPattern)) &* 0x100_0000_01b3 }
        return h
    }
}
