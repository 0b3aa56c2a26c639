import Foundation
import Testing
import UnmixNumerics
import _TestSupport

@Suite struct NonnegativeMatrixFactorizationTests {
    typealias NMF = NonnegativeMatrixFactorization

    /// A fixed 6 × 5 non-negative matrix (rows = samples).
    static let x: [[Double]] = [[1, 2, 0, 3, 1], [0, 1, 4, 1, 2], [3, 0, 1, 2, 0],
                                [2, 2, 2, 0, 1], [1, 0, 3, 1, 4], [0, 3, 1, 2, 2]]

    /// NNDSVD against scikit-learn 1.9.1, computed once with
    ///
    ///     from sklearn.decomposition._nmf import _initialize_nmf
    ///     W, H = _initialize_nmf(X, 2, init='nndsvd')      # X = the matrix above, float64
    ///
    /// scikit-learn's SVD fixes signs with its own convention (`svd_flip`), ours flips each right
    /// singular vector to a positive largest entry. NNDSVD does not depend on them: the first
    /// pair enters through absolute values, the second through whichever of its positive and
    /// negative parts has the larger norm product, which a sign flip of (u, v) swaps. So every
    /// entry is comparable, including the exact zeros. Our SVD works on single-precision data
    /// (exact here, small integers) with double results from a randomised range finder; the
    /// tolerance allows for its single-precision products.
    @Test func nndsvdMatchesScikitLearn() throws {
        let expectedW: [[Double]] = [[0.9337371071976629, 1.2699404781813348], [1.4334940476968812, 0],
                                     [0.7514234206226422, 0.7930279572322506], [1.0239743989791343, 0.09998215711883356],
                                     [1.578072378224634, 0], [1.2166440682310165, 0.6378900552793715]]
        let expectedH: [[Double]] = [[0.8006645525470677, 1.0573861808986054, 1.7019290616702085, 1.1455204205745653, 1.5945398365894576],
                                     [0.6912248828749634, 0.9078102284593321, 0, 1.1647450638834909, 0]]
        let data = Self.x.flatMap { $0.map(Float.init) }
        let f = try data.withUnsafeBufferPointer { try NMF.nndsvd($0, pixels: 6, bands: 5, r: 2) }
        for i in 0..<6 { for k in 0..<2 { expectClose(f.w[i * 2 + k], expectedW[i][k], tolerance: 1e-5, "W[\(i),\(k)]") } }
        for k in 0..<2 { for b in 0..<5 { expectClose(f.ht[b * 2 + k], expectedH[k][b], tolerance: 1e-5, "H[\(k),\(b)]") } }
    }

    /// One coordinate-descent sweep of W against an independent numpy transcription of the
    /// update in scikit-learn's loop order (components outer, samples inner; ours is the
    /// transpose, equivalent because a row's coordinates depend only on that row):
    ///
    ///     W = W0.copy(); G = H0 @ H0.T; P = X @ H0.T; v = 0.0
    ///     for t in range(2):
    ///         for i in range(6):
    ///             g = W[i] @ G[t] - P[i, t]
    ///             v += abs(min(g, 0) if W[i, t] == 0 else g)
    ///             W[i, t] = max(W[i, t] - g / G[t, t], 0)
    @Test func oneCoordinateSweepMatchesNumpy() {
        let w0: [Double] = [0.5, 1.0, 1.0, 0.2, 0.3, 0.7, 0.0, 1.1, 0.9, 0.4, 0.6, 0.0]
        let h0 = Matrix([[1.0, 0.5, 0.2, 0.8, 0.3], [0.4, 0.9, 1.2, 0.1, 0.7]])
        let x = Matrix(Self.x)
        let gram = matmul(h0, h0, transposeB: true).storage
        let product = matmul(x, h0, transposeB: true).storage
        var w = w0
        let violation = NMF.coordinateSweep(&w, rows: 6, r: 2, gram: gram, product: product)
        let expected: [Double] = [1.6435643564356435, 0.3202340852641967, 1.2, 1.9051546391752578,
                                  1.8980198019801984, 0, 1.08019801980198, 1.4465040318464837,
                                  1.5089108910891091, 1.6555680310299068, 1.9306930693069306, 0.9744479602599436]
        for i in 0..<12 { expectClose(w[i], expected[i], tolerance: 1e-12, "W[\(i / 2),\(i % 2)]") }
        expectClose(violation, 28.53605940594059, tolerance: 1e-10, "violation")
    }

    /// An exact rank-3 non-negative 30 × 12 matrix (three pure rows), every value exact in Float.
    static func trueW() -> Matrix {
        var w = Matrix(rows: 30, cols: 3)
        for i in 0..<30 { for k in 0..<3 { w[i, k] = i < 3 ? (i == k ? 1 : 0) : Double((i + 2 * k) % 5) / 4 } }
        return w
    }

    static func trueH() -> Matrix {
        var h = Matrix(rows: 3, cols: 12)
        for k in 0..<3 { for b in 0..<12 { h[k, b] = Double((3 * k + 5 * b) % 7 + 1) } }
        return h
    }

    static func lowRank() -> [Float] { matmul(trueW(), trueH()).storage.map(Float.init) }

    static func relativeError(_ x: [Float], _ f: NMF.Factors, pixels: Int, bands: Int, r: Int) -> Double {
        let wh = matmul(Matrix(rows: pixels, cols: r, storage: f.w), f.h(r: r))
        var e = 0.0, n = 0.0
        for i in 0..<(pixels * bands) { e += pow(Double(x[i]) - wh.storage[i], 2); n += pow(Double(x[i]), 2) }
        return (e / n).squareRoot()
    }

    /// The full solvers on the exact low-rank matrix. scikit-learn 1.9.1 on the same input
    /// (`NMF(3, solver=s, init=i, tol=t, max_iter=m).fit_transform(X)`, relative Frobenius error):
    /// cd/nndsvd/1e-10/2000 → 2.5e-9; cd/nndsvd/1e-4/200 → 0.002427; mu/nndsvda/1e-10/2000 → 9.3e-4.
    /// Ours must reach < 1e-3 with cd (single-precision data products floor the error well below
    /// that), match scikit-learn's 200-iteration cd error within 5 %, and mu must be < 2e-3.
    @Test(arguments: [(NMF.Solver.cd, NMF.Initialization.nndsvd, 1e-10, 2000, 0.0, 1e-3),
                      (.cd, .nndsvd, 1e-4, 200, 0.002427397479110042, 0.05),
                      (.mu, .nndsvda, 1e-10, 2000, 0.0, 2e-3)])
    func solverReachesLowError(solver: NMF.Solver, initialization: NMF.Initialization, tol: Double,
                               iterations: Int, reference: Double, bound: Double) throws {
        let x = Self.lowRank()
        var random = RandomStream(seed: 1)
        var f = try x.withUnsafeBufferPointer {
            try NMF.initialize($0, pixels: 30, bands: 12, r: 3, method: initialization, random: &random)
        }
        let method = NMF(solver: solver, tol: tol, maxIterations: iterations)
        _ = x.withUnsafeBufferPointer { method.solve($0, pixels: 30, bands: 12, r: 3, factors: &f) { _, _ in } }
        #expect(f.w.allSatisfy { $0 >= 0 } && f.ht.allSatisfy { $0 >= 0 }, "negative factor")
        let error = Self.relativeError(x, f, pixels: 30, bands: 12, r: 3)
        if reference > 0 {
            #expect(abs(error - reference) <= bound * reference, "\(solver) relative error \(error), scikit-learn \(reference)")
        } else {
            #expect(error < bound, "\(solver)/\(initialization): relative error \(error) ≥ \(bound)")
        }
    }

    /// With H fixed at the truth, the W-only solve (scikit-learn's transform: from W = 0)
    /// recovers the exact W of the low-rank matrix.
    @Test func transformRecoversW() {
        let x = Self.lowRank()
        var f = NMF.Factors(w: [Double](repeating: 0, count: 90), ht: Self.trueH().transposed.storage)
        let method = NMF(solver: .cd, tol: 1e-12, maxIterations: 1000)
        _ = x.withUnsafeBufferPointer { method.solve($0, pixels: 30, bands: 12, r: 3, factors: &f, updateH: false) { _, _ in } }
        let w = Self.trueW()
        for i in 0..<30 { for k in 0..<3 { expectClose(f.w[i * 3 + k], w[i, k], tolerance: 1e-5, "W[\(i),\(k)]") } }
    }
}
