import Dispatch
import UnmixSDK

/// The state of BLU's Gibbs sampler and one sweep over it (σ², then abundances, then endmembers).
///
/// Sizes: P pixels, B bands, R endmembers, L = R − 1 subspace dimensions. Per sweep, the work
/// that touches the B bands is a handful of GEMMs (Y Mᵀ, Yᵀ A, M Mᵀ, M U); the per-pixel
/// abundance draws are O(L²) per inner step and run in parallel over fixed chunks of pixels, each
/// pixel with its own stream `pixelStreams.split(sweep · P + p)`, so the draws do not depend on
/// the scheduling. The parallel loop makes no BLAS call (its products are L × L loops), so
/// OpenBLAS's thread count needs no change around it.
struct GibbsSampler {
    let p: Int, b: Int, r: Int, l: Int
    /// The data, P × B.
    let y: Matrix
    /// ΣY², for the residual norm.
    let power: Double
    /// ȳ (B) and the orthonormal basis U of the principal subspace (B × L).
    let mean: [Double]
    let u: Matrix
    /// UᵀU (L × L; the identity up to rounding) and Uᵀȳ (L).
    let utu: Matrix
    let utMean: [Double]
    /// Prior means e_r (R × L) and variance s².
    let prior: Matrix
    let priorVariance: Double
    /// Current draws: endmembers M (R × B), their coordinates T (R × L), abundances A (P × R), σ².
    var m: Matrix
    var t: Matrix
    var a: Matrix
    var sigma2 = 1.0
    /// Endmember coordinate draws skipped because their bounds contradicted each other.
    var infeasible = 0

    private var random: RandomStream
    private let pixelStreams: RandomStream
    private let sigma2Floor: Double
    private let context: RunContext

    /// Pixels per parallel task: fixed, so the split of work never depends on the thread count.
    static let chunk = 256
    /// Inner Gibbs sweeps of the abundance draw (the reference's `dtrandnmult`).
    static let innerSweeps = 5

    init(cube: Cube, r: Int, priorVariance: Double, context: RunContext) throws {
        p = cube.pixels; b = cube.bands; self.r = r; l = r - 1
        self.context = context
        self.priorVariance = priorVariance
        random = context.random()
        pixelStreams = context.random(stream: 1)
        y = cube.matrix()
        power = y.storage.reduce(0) { $0 + $1 * $1 }
        sigma2Floor = 1e-12 * max(power / Double(p * b), .leastNormalMagnitude)
        let (ybar, _) = columnMeansAndPower(cube.data, pixels: p, bands: b)
        mean = ybar

        // Principal subspace of the centred scatter matrix (no whitening: D = I in the reference).
        if l > 0 {
            u = try leadingScatterEigen(cube.data, pixels: p, bands: b, mean: ybar, k: l).vectors
        } else {
            u = Matrix(rows: b, cols: 0)
        }
        utu = l > 0 ? gram(u) : Matrix(rows: 0, cols: 0)
        utMean = l > 0 ? matmul(Matrix(rows: 1, cols: b, storage: ybar), u).storage : []

        // Start: |VCA| endmembers, their coordinates as prior means, FCLS abundances.
        var vcaStream = context.random(stream: 2)
        let vca = try VertexComponentAnalysis().run(cube.data, pixels: p, bands: b, r: r, random: &vcaStream,
                                                    checkCancelled: context.checkCancelled)
        m = vca.endmembers
        for i in m.storage.indices { m.storage[i] = abs(m.storage[i]) }
        t = l > 0 ? Self.coordinates(of: m, mean: ybar, basis: u) : Matrix(rows: r, cols: 0)
        prior = t
        var fcls = SimplexLeastSquares(endmembers: m)
        a = try fcls.solve(cube.data, pixels: p, bands: b)
    }

    /// T = (M − 1ȳᵀ) U.
    static func coordinates(of m: Matrix, mean: [Double], basis u: Matrix) -> Matrix {
        var centred = m
        for i in 0..<m.rows { for j in 0..<m.cols { centred[i, j] -= mean[j] } }
        return matmul(centred, u)
    }

    /// M = T Uᵀ + 1ȳᵀ, clamped at 0 (an average of non-negative draws is non-negative; only a
    /// coordinate stuck at an infeasible start can leave a negative).
    func endmembers(coordinates tt: Matrix) -> Matrix {
        var out = l > 0 ? matmul(tt, u, transposeB: true) : Matrix(rows: r, cols: b)
        for i in 0..<r { for j in 0..<b { out[i, j] = max(0, out[i, j] + mean[j]) } }
        return out
    }

    mutating func sweep(_ index: Int) throws {
        let g = matmul(y, m, transposeB: true)          // P × R: row p = M y_p
        let k = matmul(m, m, transposeB: true)          // R × R
        sampleSigma2(g: g, k: k)
        guard l > 0 else { return }
        try sampleAbundances(sweep: index, g: g, k: k)
        try sampleEndmembers()
    }

    // MARK: - σ² | Y, M, A: inverse gamma with shape PB/2 and scale ½Σ‖y_p − M a_p‖²

    private mutating func sampleSigma2(g: Matrix, k: Matrix) {
        // ‖y − M a‖² = ‖y‖² − 2 aᵀ(M y) + aᵀ(M Mᵀ) a, summed over pixels.
        var cross = 0.0, quad = 0.0
        for pix in 0..<p {
            for i in 0..<r {
                let ai = a[pix, i]
                cross += ai * g[pix, i]
                var s = 0.0
                for j in 0..<r { s += k[i, j] * a[pix, j] }
                quad += ai * s
            }
        }
        let residual = max(0, power - 2 * cross + quad)
        let draw = random.gamma(shape: Double(p * b) / 2)
        sigma2 = max(sigma2Floor, 0.5 * residual / draw)
    }

    // MARK: - A | Y, M, σ²: per pixel, an L-dimensional truncated normal on the simplex

    private mutating func sampleAbundances(sweep: Int, g: Matrix, k: Matrix) throws {
        let order = random.permutation(r)
        let dep = order[r - 1], c = Array(order[0..<l])
        // D = M_c − 1 m_depᵀ (rows); DDᵀ from M Mᵀ without touching the bands.
        var dd = Matrix(rows: l, cols: l)
        for i in 0..<l { for j in 0..<l {
            dd[i, j] = k[c[i], c[j]] - k[c[i], dep] - k[dep, c[j]] + k[dep, dep]
        } }
        let ddInverse: Matrix
        do { ddInverse = try inverse(dd) } catch {
            throw PluginError.numerical("BLU: two endmembers coincide (singular DDᵀ in the abundance step)")
        }
        // Conditional of coordinate i given the others: mean μ_i − Σ_j w_ij (x_j − μ_j), sd_i.
        var w = [Double](repeating: 0, count: l * l), sd = [Double](repeating: 0, count: l)
        for i in 0..<l {
            sd[i] = (sigma2 / dd[i, i]).squareRoot()
            for j in 0..<l where j != i { w[i * l + j] = dd[i, j] / dd[i, i] }
        }
        let offset = (0..<l).map { k[c[$0], dep] - k[dep, dep] }   // D m_dep
        let (l, r, p) = (self.l, self.r, self.p)
        let streams = pixelStreams, base = UInt64(sweep) &* UInt64(p)
        let chunks = (p + Self.chunk - 1) / Self.chunk
        a.storage.withUnsafeMutableBufferPointer { ap in
            let ap = ap
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                var x = [Double](repeating: 0, count: l), mu = [Double](repeating: 0, count: l)
                var visit = Array(0..<l), rhs = [Double](repeating: 0, count: l)
                for pix in (chunk * Self.chunk)..<min(p, (chunk + 1) * Self.chunk) {
                    var stream = streams.split(base &+ UInt64(pix))
                    // μ = (DDᵀ)⁻¹ D (y_p − m_dep).
                    for i in 0..<l { rhs[i] = g[pix, c[i]] - g[pix, dep] - offset[i] }
                    for i in 0..<l {
                        var s = 0.0
                        for j in 0..<l { s += ddInverse[i, j] * rhs[j] }
                        mu[i] = s
                        x[i] = ap[pix * r + c[i]]
                    }
                    for _ in 0..<Self.innerSweeps {
                        if l > 1 {
                            for i in stride(from: l - 1, to: 0, by: -1) { visit.swapAt(i, stream.index(below: i + 1)) }
                        }
                        for i in visit {
                            var mean = mu[i], others = 0.0
                            for j in 0..<l where j != i {
                                mean -= w[i * l + j] * (x[j] - mu[j])
                                others += x[j]
                            }
                            let upper = max(0, 1 - others)
                            x[i] = stream.truncatedNormal(mean: mean, sd: sd[i], lower: 0, upper: upper)
                        }
                    }
                    var total = 0.0
                    for i in 0..<l { ap[pix * r + c[i]] = x[i]; total += x[i] }
                    ap[pix * r + dep] = max(0, 1 - total)
                }
            }
        }
    }

    // MARK: - T, M | Y, A, σ²: each endmember's coordinates, truncated to m_r ≥ 0

    private mutating func sampleEndmembers() throws {
        let ya = matmul(y, a, transposeA: true)          // B × R: column r = Σ_p y_p a_rp
        let uya = matmul(u, ya, transposeA: true)        // L × R
        let aa = gram(a)                                 // R × R
        let invS = 1 / priorVariance
        var q = Matrix(rows: l, cols: l)
        var mr = [Double](repeating: 0, count: b)
        for rr in random.permutation(r) {
            let utm = matmul(m, u)                       // R × L: Uᵀ m_j (current M)
            // Precision Q = (Σ a_r²/σ²) UᵀU + I/s²; linear term Uᵀ Σ_p Δ_p a_rp/σ² + e_r/s².
            var h = [Double](repeating: 0, count: l)
            for i in 0..<l {
                for j in 0..<l { q[i, j] = aa[rr, rr] / sigma2 * utu[i, j] + (i == j ? invS : 0) }
                var s = uya[i, rr] - utMean[i] * aa[rr, rr]
                for j in 0..<r where j != rr { s -= utm[j, i] * aa[j, rr] }
                h[i] = s / sigma2 + prior[rr, i] * invS
            }
            let mu: [Double]
            do { mu = try solve(q, Matrix(rows: l, cols: 1, storage: h)).storage } catch {
                throw PluginError.numerical("BLU: singular posterior precision in the endmember step")
            }
            // m_r = U t_r + ȳ, kept up to date as coordinates change.
            for band in 0..<b {
                var s = mean[band]
                for i in 0..<l { s += u[band, i] * t[rr, i] }
                mr[band] = s
            }
            for kk in random.permutation(l) {
                var cmean = mu[kk]
                for j in 0..<l where j != kk { cmean -= q[kk, j] / q[kk, kk] * (t[rr, j] - mu[j]) }
                let csd = (1 / q[kk, kk]).squareRoot()
                // U[l,k] t_k ≥ −(m_r(l) − U[l,k] t_k) for every band l.
                let old = t[rr, kk]
                var lower = -Double.infinity, upper = Double.infinity
                for band in 0..<b {
                    let ulk = u[band, kk]
                    if ulk == 0 { continue }
                    let bound = -(mr[band] - ulk * old) / ulk
                    if ulk > 0 { lower = max(lower, bound) } else { upper = min(upper, bound) }
                }
                guard lower <= upper else { infeasible += 1; continue }
                let new = random.truncatedNormal(mean: cmean, sd: csd, lower: lower, upper: upper)
                t[rr, kk] = new
                for band in 0..<b { mr[band] += u[band, kk] * (new - old) }
            }
            for band in 0..<b { m[rr, band] = mr[band] }
        }
    }
}
