import CLapack
import Foundation

/// Non-negative matrix factorisation X ≈ W·H of single-precision data X (P pixels × B bands),
/// minimising 0.5‖X − WH‖²_F with W (P × R) ≥ 0 and H (R × B) ≥ 0, as scikit-learn's `NMF`
/// (frobenius loss, no regularisation) which HyperSpy runs for `decomposition(algorithm="NMF")`.
///
/// Solvers: `cd`, cyclic coordinate descent (Hsieh & Dhillon, KDD 2011), one sweep over W then
/// one over H per iteration, each sweep built on the Gram matrix of the fixed factor and the
/// product of the data with it; it stops when the summed |projected gradient| of an iteration
/// relative to the first iteration's is ≤ `tol`. `mu`, multiplicative updates (Lee & Seung,
/// NIPS 2000), stopping when the decrease of ‖X − WH‖_F over the last 10 iterations, relative to
/// the initial error, falls below `tol` (checked every 10 iterations).
///
/// Initialisations (Boutsidis & Gallopoulos, Pattern Recognition 41(4), 2008): `nndsvd` from the
/// leading R singular triplets, splitting each singular pair into its positive and negative parts
/// and keeping the part of larger norm product; values below 1e-6 are set to zero. `nndsvda`
/// fills those zeros with the data mean, `nndsvdar` with |mean · N(0,1)| / 100; `random` draws
/// H then W as sqrt(mean / R) · |N(0,1)|.
///
/// Design notes. Data products (X·Hᵀ, Xᵀ·W) are single-precision GEMMs on the cube as given
/// (no double copy of the data, half the memory traffic of the reference's float64); factors,
/// Gram matrices and coordinate updates are double. The W sweep visits pixels in the outer loop
/// and components in the inner one, the transpose of the reference's loop order: a coordinate
/// of row i depends only on row i, so the iterates are identical and memory access is contiguous.
/// H is kept transposed (B × R) so the H sweep is the same kernel.
public struct NonnegativeMatrixFactorization: Sendable {
    public enum Solver: String, CaseIterable, Sendable {
        /// Cyclic coordinate descent (scikit-learn's default).
        case cd
        /// Multiplicative updates, frobenius loss.
        case mu
    }

    public enum Initialization: String, CaseIterable, Sendable {
        /// NNDSVD, zeros kept (scikit-learn ≤ 1.0's default).
        case nndsvd
        /// NNDSVD, zeros filled with the data mean (scikit-learn ≥ 1.1's default).
        case nndsvda
        /// NNDSVD, zeros filled with small random values.
        case nndsvdar
        /// Scaled absolute normal values.
        case random
    }

    public var solver: Solver
    public var tol: Double
    public var maxIterations: Int

    public init(solver: Solver = .cd, tol: Double = 1e-4, maxIterations: Int = 200) {
        self.solver = solver
        self.tol = tol
        self.maxIterations = maxIterations
    }

    /// Factors, both row-major: `w` is P × R, `ht` is Hᵀ (B × R).
    public struct Factors: Sendable {
        public var w: [Double]
        public var ht: [Double]
        public init(w: [Double], ht: [Double]) {
            self.w = w
            self.ht = ht
        }

        /// H (R × B), row = component.
        public func h(r: Int) -> Matrix {
            Matrix(rows: ht.count / max(r, 1), cols: r, storage: ht).transposed
        }
    }

    /// Initial factors for `r` components.
    public static func initialize(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, r: Int,
                                  method: Initialization, random: inout RandomStream) throws -> Factors {
        precondition(data.count == pixels * bands && r >= 1, "NMF initialize: \(data.count) values for \(pixels)×\(bands), r = \(r)")
        let stats = columnMeansAndPower(data, pixels: pixels, bands: bands)
        let mean = stats.mean.reduce(0, +) / Double(max(bands, 1))
        if method == .random {
            let scale = (mean / Double(r)).squareRoot()
            var ht = [Double](repeating: 0, count: bands * r)
            for k in 0..<r { for b in 0..<bands { ht[b * r + k] = abs(scale * random.normal()) } }  // H first, row by row
            var w = [Double](repeating: 0, count: pixels * r)
            for i in 0..<(pixels * r) { w[i] = abs(scale * random.normal()) }
            return Factors(w: w, ht: ht)
        }
        var f = try nndsvd(data, pixels: pixels, bands: bands, r: r)
        switch method {
        case .nndsvda:
            for i in f.w.indices where f.w[i] == 0 { f.w[i] = mean }
            for i in f.ht.indices where f.ht[i] == 0 { f.ht[i] = mean }
        case .nndsvdar:
            // W first then H, each in row-major order of W (P × R) and H (R × B).
            for i in f.w.indices where f.w[i] == 0 { f.w[i] = abs(mean * random.normal() / 100) }
            for k in 0..<r { for b in 0..<bands where f.ht[b * r + k] == 0 { f.ht[b * r + k] = abs(mean * random.normal() / 100) } }
        default:
            break
        }
        return f
    }

    /// Plain NNDSVD (zeros kept) from `truncatedSVD`. Invariant to the signs of the singular
    /// pairs: the first pair enters through absolute values, the others through the larger of
    /// the positive and negative parts, which a sign flip swaps (ties excepted).
    public static func nndsvd(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, r: Int) throws -> Factors {
        let svd = try truncatedSVD(data, pixels: pixels, bands: bands, k: r)
        var w = [Double](repeating: 0, count: pixels * r)
        var ht = [Double](repeating: 0, count: bands * r)
        func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        for j in 0..<r {
            let x = svd.u.column(j), y = svd.v.column(j)
            var u: [Double], v: [Double], weight: Double
            if j == 0 {
                u = x.map(abs); v = y.map(abs); weight = svd.s[0]
            } else {
                let xp = x.map { max($0, 0) }, yp = y.map { max($0, 0) }
                let xn = x.map { max(-$0, 0) }, yn = y.map { max(-$0, 0) }
                let (xpn, ypn, xnn, ynn) = (norm(xp), norm(yp), norm(xn), norm(yn))
                let mp = xpn * ypn, mn = xnn * ynn
                if mp > mn {
                    u = xp.map { $0 / xpn }; v = yp.map { $0 / ypn }; weight = svd.s[j] * mp
                } else if mn > 0 {
                    u = xn.map { $0 / xnn }; v = yn.map { $0 / ynn }; weight = svd.s[j] * mn
                } else {
                    continue  // a zero singular pair: the component stays zero
                }
            }
            let scale = weight.squareRoot()
            for i in 0..<pixels { let value = scale * u[i]; w[i * r + j] = value < 1e-6 ? 0 : value }
            for b in 0..<bands { let value = scale * v[b]; ht[b * r + j] = value < 1e-6 ? 0 : value }
        }
        return Factors(w: w, ht: ht)
    }

    /// What a run did.
    public struct Report: Sendable {
        public var iterations: Int
        /// cd: the last violation over the first; mu: the last relative error ‖X − WH‖/‖X‖.
        public var criterion: Double
    }

    /// Runs the solver from `factors` (updated in place). With `updateH` false only W moves
    /// (non-negative least squares of every pixel on fixed H, as scikit-learn's `transform`).
    /// `progress(iteration, criterion)` is called after every iteration and may throw to stop.
    public func solve(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, r: Int,
                      factors: inout Factors, updateH: Bool = true,
                      progress: (Int, Double) throws -> Void) rethrows -> Report {
        precondition(factors.w.count == pixels * r && factors.ht.count == bands * r, "NMF solve: factor shapes")
        switch solver {
        case .cd:
            return try coordinateDescent(data, pixels, bands, r, &factors, updateH, progress)
        case .mu:
            return try multiplicative(data, pixels, bands, r, &factors, updateH, progress)
        }
    }

    private func coordinateDescent(_ x: UnsafeBufferPointer<Float>, _ p: Int, _ b: Int, _ r: Int,
                                   _ f: inout Factors, _ updateH: Bool,
                                   _ progress: (Int, Double) throws -> Void) rethrows -> Report {
        var xtw = [Double](repeating: 0, count: b * r)
        var gram = [Double](repeating: 0, count: r * r)
        var initial = 0.0, ratio = 1.0
        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            gramMatrix(f.ht, rows: b, r, into: &gram)
            let hh = gram
            var violation = dataPass(x, p, b, r, ht: f.ht, w: &f.w, xtw: &xtw, accumulate: updateH) { w, product, rows, _ in
                Self.coordinateSweep(w, rows: rows, r: r, gram: hh, product: product)
            }
            if updateH {
                gramMatrix(f.w, rows: p, r, into: &gram)
                violation += Self.coordinateSweep(&f.ht, rows: b, r: r, gram: gram, product: xtw)
            }
            if iteration == 1 { initial = violation }
            if initial == 0 { ratio = 0; try progress(iteration, 0); break }
            ratio = violation / initial
            try progress(iteration, ratio)
            if ratio <= tol { break }
        }
        return Report(iterations: iteration, criterion: ratio)
    }

    /// One cyclic coordinate-descent sweep over every entry of `w` (rows × r, row-major) for
    /// min 0.5‖X − W·F‖² with W ≥ 0, given the Gram matrix G = F·Fᵀ (r × r) and the product
    /// P = X·Fᵀ (rows × r): for each row i and component t in order, gradient
    /// g = (W·G)[i,t] − P[i,t] with the current W, then W[i,t] ← max(0, W[i,t] − g / G[t,t])
    /// (skipped when G[t,t] = 0). Returns the violation: the sum over entries of |g|, or of
    /// |min(g, 0)| where W[i,t] was 0 before its update.
    public static func coordinateSweep(_ w: inout [Double], rows: Int, r: Int, gram: [Double], product: [Double]) -> Double {
        precondition(w.count >= rows * r && gram.count >= r * r && product.count >= rows * r, "coordinateSweep: shapes")
        return w.withUnsafeMutableBufferPointer { pw in
            product.withUnsafeBufferPointer { pp in
                coordinateSweep(pw.baseAddress!, rows: rows, r: r, gram: gram, product: pp.baseAddress!)
            }
        }
    }

    /// `coordinateSweep` on raw row-major storage (the hot loop).
    static func coordinateSweep(_ w: UnsafeMutablePointer<Double>, rows: Int, r: Int, gram: [Double],
                                product: UnsafePointer<Double>) -> Double {
        var violation = 0.0
        gram.withUnsafeBufferPointer { pg in
            let g = pg.baseAddress!
            for i in 0..<rows {
                let wi = w + i * r, pi = product + i * r
                for t in 0..<r {
                    let gt = g + t * r
                    var gradient = -pi[t]
                    for k in 0..<r { gradient += gt[k] * wi[k] }
                    violation += abs(wi[t] == 0 ? min(gradient, 0) : gradient)
                    let hessian = gt[t]
                    if hessian != 0 { wi[t] = max(wi[t] - gradient / hessian, 0) }
                }
            }
        }
        return violation
    }

    private func multiplicative(_ x: UnsafeBufferPointer<Float>, _ p: Int, _ b: Int, _ r: Int,
                                _ f: inout Factors, _ updateH: Bool,
                                _ progress: (Int, Double) throws -> Void) rethrows -> Report {
        let epsilon = Double(Float.ulpOfOne)  // the reference's denominator floor (float32 eps)
        let squaredNorm = columnMeansAndPower(x, pixels: p, bands: b).power * Double(p)
        let dataNorm = max(squaredNorm.squareRoot(), .leastNormalMagnitude)
        var xtw = [Double](repeating: 0, count: b * r)     // Xᵀ·W
        var hh = [Double](repeating: 0, count: r * r)      // H·Hᵀ
        var ww = [Double](repeating: 0, count: r * r)      // Wᵀ·W
        var denominatorW = [Double](repeating: 0, count: p * r)
        var denominatorH = [Double](repeating: 0, count: b * r)
        gramMatrix(f.ht, rows: b, r, into: &hh)
        // ‖X − WH‖_F directly (not by the trace identity, whose cancellation in single-precision
        // products would blur small differences between checks).
        let initialError = residualNorm(x, p, b, r, w: f.w, ht: f.ht)
        var previous = initialError
        var iteration = 0
        var relative = initialError / dataNorm
        while iteration < maxIterations {
            iteration += 1
            let fixedH = hh
            // W ← W ∘ (X·Hᵀ) / (W·HHᵀ), block by block.
            _ = denominatorW.withUnsafeMutableBufferPointer { pd in
                dataPass(x, p, b, r, ht: f.ht, w: &f.w, xtw: &xtw, accumulate: updateH) { w, product, rows, first in
                    let d = pd.baseAddress! + first * r
                    timesSmall(UnsafePointer(w), rows: rows, r, fixedH, into: d)
                    for i in 0..<(rows * r) {
                        let den = d[i]
                        w[i] *= product[i] / (den == 0 ? epsilon : den)
                    }
                    return 0
                }
            }
            gramMatrix(f.w, rows: p, r, into: &ww)
            if updateH {
                f.ht.withUnsafeBufferPointer { ph in
                    timesSmall(ph.baseAddress!, rows: b, r, ww, into: &denominatorH)
                }
                for i in f.ht.indices {
                    let d = denominatorH[i]
                    f.ht[i] *= xtw[i] / (d == 0 ? epsilon : d)
                }
                gramMatrix(f.ht, rows: b, r, into: &hh)
            }
            try progress(iteration, relative)
            if tol > 0 && iteration % 10 == 0 {
                let e = residualNorm(x, p, b, r, w: f.w, ht: f.ht)
                relative = e / dataNorm
                if initialError == 0 || (previous - e) / initialError < tol { break }
                previous = e
            }
        }
        return Report(iterations: iteration, criterion: relative)
    }
}

/// One pass over the data X (P × B, single precision) in blocks of rows small enough to stay in
/// cache: for each block, the product X_blk·Hᵀ (from `ht`, B × r, fixed for the pass) is formed,
/// `update(w, product, rows, firstRow)` updates that block of W in place (rows are independent
/// given H, so this is exact) and, when `accumulate`, X_blkᵀ·W_blk with the updated block is
/// summed into `xtw` (B × r, overwritten). The data are read from memory once for both products.
/// Returns the sum of what `update` returned.
///
/// The pixels are split into two fixed halves run on two threads (BLAS single-threaded meanwhile,
/// so the two cores are not oversubscribed); the halves' sums are added in a fixed order, so the
/// result does not depend on scheduling.
private func dataPass(_ x: UnsafeBufferPointer<Float>, _ p: Int, _ b: Int, _ r: Int, ht: [Double],
                      w: inout [Double], xtw: inout [Double], accumulate: Bool,
                      update: (UnsafeMutablePointer<Double>, UnsafePointer<Double>, Int, Int) -> Double) -> Double {
    let block = max(8, min(p, 65_536 / max(b, 1)))
    let blocks = (p + block - 1) / block
    let chunks = blocks >= 2 ? 2 : 1
    let htf = ht.map(Float.init)
    var totals = [Double](repeating: 0, count: chunks)
    var partials = [[Double]](repeating: [], count: chunks)
    w.withUnsafeMutableBufferPointer { pw in
        let base = pw.baseAddress!
        totals.withUnsafeMutableBufferPointer { pt in
            partials.withUnsafeMutableBufferPointer { pp in
                let threads = blasThreads()
                if chunks > 1 { setBLASThreads(1) }
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let first = chunk * ((blocks + chunks - 1) / chunks) * block
                    let last = chunk == chunks - 1 ? p : min(p, first + ((blocks + chunks - 1) / chunks) * block)
                    var productF = [Float](repeating: 0, count: block * r)
                    var product = [Double](repeating: 0, count: block * r)
                    var wf = [Float](repeating: 0, count: block * r)
                    var partial = [Float](repeating: 0, count: b * r)
                    var sum = [Double](repeating: 0, count: accumulate ? b * r : 0)
                    var total = 0.0
                    var start = first
                    while start < last {
                        let rows = min(block, last - start)
                        let xb = x.baseAddress! + start * b
                        let wb = base + start * r
                        multiplyBlock(xb, rows, b, htf, r, transpose: false, into: &productF)
                        for i in 0..<(rows * r) { product[i] = Double(productF[i]) }
                        total += product.withUnsafeBufferPointer { update(wb, $0.baseAddress!, rows, start) }
                        if accumulate {
                            for i in 0..<(rows * r) { wf[i] = Float(wb[i]) }
                            multiplyBlock(xb, rows, b, wf, r, transpose: true, into: &partial)
                            for i in 0..<(b * r) { sum[i] += Double(partial[i]) }
                        }
                        start += rows
                    }
                    pt[chunk] = total
                    pp[chunk] = sum
                }
                if chunks > 1 { setBLASThreads(threads) }
            }
        }
    }
    if accumulate {
        for i in 0..<(b * r) { xtw[i] = 0 }
        for part in partials { for i in 0..<(b * r) { xtw[i] += part[i] } }
    }
    return totals.reduce(0, +)
}

// MARK: - BLAS shims

/// ‖X − W·H‖_F for W (P × r) and Hᵀ (B × r), block by block (W·H in single precision, the
/// squared differences summed in double).
private func residualNorm(_ x: UnsafeBufferPointer<Float>, _ p: Int, _ b: Int, _ r: Int, w: [Double], ht: [Double]) -> Double {
    let block = max(8, min(p, 65_536 / max(b, 1)))
    var hf = [Float](repeating: 0, count: r * b)
    for k in 0..<r { for j in 0..<b { hf[k * b + j] = Float(ht[j * r + k]) } }
    var wf = [Float](repeating: 0, count: block * r)
    var model = [Float](repeating: 0, count: block * b)
    var sum = 0.0
    var start = 0
    while start < p {
        let rows = min(block, p - start)
        for i in 0..<(rows * r) { wf[i] = Float(w[start * r + i]) }
        hf.withUnsafeBufferPointer { ph in
            wf.withUnsafeBufferPointer { pw in
                model.withUnsafeMutableBufferPointer { pm in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(b), blasint(r), 1,
                                pw.baseAddress, blasint(r), ph.baseAddress, blasint(b), 0, pm.baseAddress, blasint(b))
                }
            }
        }
        let xb = start * b
        for i in 0..<(rows * b) { let d = Double(x[xb + i]) - Double(model[i]); sum += d * d }
        start += rows
    }
    return sum.squareRoot()
}

/// out (rows × r) = X_blk · F (F: B × r) or, with `transpose`, out (B × r) = X_blkᵀ · F
/// (F: rows × r), for a block X_blk (rows × B, single precision, row-major).
///
/// The corresponding C function is `cblas_sgemm`.
private func multiplyBlock(_ x: UnsafePointer<Float>, _ rows: Int, _ b: Int, _ f: [Float], _ r: Int,
                           transpose: Bool, into out: inout [Float]) {
    f.withUnsafeBufferPointer { pf in
        out.withUnsafeMutableBufferPointer { po in
            if transpose {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(b), blasint(r), blasint(rows), 1,
                            x, blasint(b), pf.baseAddress, blasint(r), 0, po.baseAddress, blasint(r))
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(r), blasint(b), 1,
                            x, blasint(b), pf.baseAddress, blasint(r), 0, po.baseAddress, blasint(r))
            }
        }
    }
}

/// out (r × r) = Fᵀ·F for F (rows × r), both triangles.
///
/// The corresponding C function is `cblas_dgemm`.
private func gramMatrix(_ f: [Double], rows: Int, _ r: Int, into out: inout [Double]) {
    f.withUnsafeBufferPointer { pf in
        out.withUnsafeMutableBufferPointer { po in
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(r), blasint(r), blasint(rows), 1,
                        pf.baseAddress, blasint(r), pf.baseAddress, blasint(r), 0, po.baseAddress, blasint(r))
        }
    }
}

/// out (rows × r) = F (rows × r) · S (r × r).
///
/// The corresponding C function is `cblas_dgemm`.
private func timesSmall(_ f: UnsafePointer<Double>, rows: Int, _ r: Int, _ s: [Double], into out: UnsafeMutablePointer<Double>) {
    s.withUnsafeBufferPointer { ps in
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(r), blasint(r), 1,
                    f, blasint(r), ps.baseAddress, blasint(r), 0, out, blasint(r))
    }
}
