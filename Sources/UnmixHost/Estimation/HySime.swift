import UnmixNumerics

/// HySime, hyperspectral signal subspace identification (Bioucas-Dias & Nascimento, IEEE TGRS
/// 46(8), 2008): the number of endmembers as the dimension of the signal subspace.
///
/// With Y the bands × pixels data:
/// 1. the noise of each band is what a least-squares regression on all the other bands leaves
///    (all B regressions through one B × B inverse of Y Yᵀ);
/// 2. the signal X = Y − W has correlation Rx, whose eigenvectors E (decreasing eigenvalue)
///    are the candidate directions;
/// 3. direction i belongs to the signal subspace when keeping it lowers the mean squared error
///    of projection plus noise: −Py[i] + 2 Pn[i] < 0, Py = diag(Eᵀ Ry E), Pn = diag(Eᵀ Rn E).
///
/// For counts the regression runs on √Y (whose Poisson noise has variance ¼ whatever the
/// level), and the noise u of √Y is mapped back to counts as w = 2 √Y ∘ u (the derivative of
/// the square).
enum HySime {
    struct Outcome {
        var k: Int
        var signalPower: [Double]
        var noisePower: [Double]
        var eigenvalues: [Double]
        var bandNoiseStd: [Double]
        /// Y Yᵀ (bands × bands), for the scree.
        var correlation: Matrix
    }

    /// The ridge added to Y Yᵀ before its inverse, relative to its mean diagonal (the original
    /// adds 10⁻⁶ I, absolute, to data scaled to reflectances; a relative one keeps the estimate
    /// independent of the data's scale).
    static let inverseRidge = 1e-10
    /// The ridge added to Rn's diagonal, relative to tr(Rx) / B, as `hysime.m` does (pysptools: 10⁻⁵).
    static let noiseRidge = 1e-10

    /// The regression of every band on the others, from the correlation products R = Y Yᵀ:
    /// returns A = I − βᵀ, so that the noise of the data is W = A · Y (bands × pixels) and the
    /// signal X = Y − W = βᵀ · Y.
    ///
    /// For band i, with Ri = (R + δI)⁻¹ and M = Ri R, the coefficients on the other bands are
    /// β[:, i] = M[:, i] − Ri[:, i] · M[i, i] / Ri[i, i] with β[i, i] = 0 (the recipe of
    /// `estNoise.m`, all columns at once).
    static func noiseOperator(_ r: Matrix) throws -> Matrix {
        let b = r.rows
        var trace = 0.0
        for i in 0..<b { trace += r[i, i] }
        guard trace > 0 else { throw UnmixError("every value of the cube is zero: there is no subspace to estimate") }
        var regularised = r
        let delta = inverseRidge * trace / Double(b)
        for i in 0..<b { regularised[i, i] += delta }
        let ri = try inverse(regularised)
        let m = matmul(ri, r)
        var a = Matrix(rows: b, cols: b)
        // a = I − βᵀ: a[i, j] = δij − β[j, i].
        for i in 0..<b {
            let scale = m[i, i] / ri[i, i]
            for j in 0..<b where j != i {
                a[i, j] = -(m[j, i] - ri[j, i] * scale)
            }
            a[i, i] = 1
        }
        return a
    }

    /// Runs HySime on the cube (pixels × bands, pixel-major).
    static func estimate(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, noise: RankEstimate.NoiseModel) throws -> Outcome {
        let n = Double(pixels)
        let products = correlationProducts(data, pixels: pixels, bands: bands, squareRoot: noise == .poisson)
        let sumY = products.y
        var ry = sumY
        for i in ry.storage.indices { ry.storage[i] /= n }
        // Rn is kept diagonal in both models: the noise is taken uncorrelated between bands, as
        // `estNoise.m`'s additive model returns it and as Poisson counts are. (Its Poisson
        // branch returns the full w wᵀ / N, whose off-diagonal part, an artefact of the
        // regressions, made the estimate too high on generated counts: see README.md.)
        var rn = [Double](repeating: 0, count: bands)
        var rx: Matrix
        switch noise {
        case .additive:
            // W = A Y, X = Y − W = βᵀ Y: both follow from Y Yᵀ without touching the pixels again.
            let a = try noiseOperator(sumY)
            let ar = matmul(a, sumY)
            for i in 0..<bands {
                var s = 0.0
                for j in 0..<bands { s += ar[i, j] * a[i, j] }
                rn[i] = s / n
            }
            var beta = a
            for i in beta.storage.indices { beta.storage[i] = -beta.storage[i] }
            for i in 0..<bands { beta[i, i] += 1 }   // βᵀ = I − A
            rx = matmul(beta, matmul(sumY, beta, transposeB: true), alpha: 1 / n)
        case .poisson:
            let a = try noiseOperator(products.sqrtY!)
            let (sumW, sumX) = poissonNoiseProducts(data, pixels: pixels, bands: bands, residual: a)
            rx = sumX
            for i in rx.storage.indices { rx.storage[i] /= n }
            rn = sumW.map { $0 / n }
        }
        symmetrize(&rx)
        let bandNoiseStd = rn.map { max(0, $0).squareRoot() }
        var traceX = 0.0
        for i in 0..<bands { traceX += rx[i, i] }
        let ridge = noiseRidge * traceX / Double(bands)
        for i in 0..<bands { rn[i] += ridge }
        let eigen = try symmetricEigen(rx, largest: bands)
        let e = eigen.vectors
        let ryE = matmul(ry, e)
        var py = [Double](repeating: 0, count: bands), pn = [Double](repeating: 0, count: bands)
        for i in 0..<bands {
            for j in 0..<bands {
                py[j] += e[i, j] * ryE[i, j]
                pn[j] += e[i, j] * e[i, j] * rn[i]
            }
        }
        let k = (0..<bands).filter { -py[$0] + 2 * pn[$0] < 0 }.count
        return Outcome(k: k, signalPower: py, noisePower: pn, eigenvalues: eigen.values, bandNoiseStd: bandNoiseStd,
                       correlation: sumY)
    }

    static func symmetrize(_ m: inout Matrix) {
        let b = m.rows
        for i in 0..<b {
            for j in 0..<i {
                let v = 0.5 * (m[i, j] + m[j, i])
                m[i, j] = v
                m[j, i] = v
            }
        }
    }
}
