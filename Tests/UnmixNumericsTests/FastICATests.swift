import Foundation
import Testing
import UnmixNumerics
import _TestSupport

@Suite struct FastICATests {
    /// Fixed data for the golden-value tests: 3 signals × 8 samples, and a fixed W.
    static let x = Matrix([[0.5, -1.2, 0.3, 1.8, -0.7, 0.9, -1.5, 0.1],
                           [1.1, 0.4, -0.9, -0.2, 1.6, -1.3, 0.2, -0.8],
                           [-0.3, 0.8, 1.4, -1.1, 0.0, 0.6, -0.5, -1.7]])
    static let w = Matrix([[0.9, 0.2, -0.4], [0.1, -0.8, 0.5], [0.3, 0.4, 0.7]])

    /// Expected values computed once with numpy 2.4 (independently of this code):
    ///
    ///     X = np.array(<x above>); W = np.array(<w above>)
    ///     def sym(W):
    ///         s, u = np.linalg.eigh(W @ W.T)
    ///         return (u / np.sqrt(s)) @ u.T @ W
    ///     sym(W)                                                  # symmetricDecorrelation
    ///     wx = W @ X
    ///     gx = np.tanh(wx); g_x = (1 - gx**2).mean(axis=1)        # logcosh
    ///     gx = wx**3;       g_x = (3 * wx**2).mean(axis=1)        # cube
    ///     sym(gx @ X.T / X.shape[1] - g_x[:, None] * W)           # one fixed-point step
    static let expected: [String: [[Double]]] = [
        "decorrelation": [[0.926178710729373, 0.05862880376779, -0.372499206925914],
                          [0.233964462972415, -0.864050958689807, 0.44573150085366],
                          [0.295725592158857, 0.499978603698183, 0.813982659512049]],
        "logcosh": [[0.427899668951058, -0.581449388836261, -0.691967110153014],
                    [0.472851159772295, -0.508450535028882, 0.719645630939871],
                    [-0.770268559668361, -0.635133577801381, 0.057373202243274]],
        "cube": [[0.078755461066276, -0.912645973015593, -0.401092140649329],
                 [0.355872164204077, 0.401570448924216, -0.843857912977955],
                 [-0.931210277057199, 0.07627910912712, -0.356411163424812]],
    ]

    @Test func symmetricDecorrelationMatchesNumpy() throws {
        let d = try FastICA.symmetricDecorrelation(Self.w)
        let e = Matrix(Self.expected["decorrelation"]!)
        for i in 0..<3 { for j in 0..<3 { expectClose(d[i, j], e[i, j], tolerance: 1e-12, "(WWᵀ)^(−1/2)W [\(i),\(j)]") } }
        let identity = matmul(d, d, transposeB: true)
        for i in 0..<3 { for j in 0..<3 { expectClose(identity[i, j], i == j ? 1 : 0, tolerance: 1e-12, "WWᵀ [\(i),\(j)]") } }
    }

    @Test(arguments: [FastICA.Contrast.logcosh, .cube])
    func fixedPointStepMatchesNumpy(contrast: FastICA.Contrast) throws {
        let next = try FastICA(contrast: contrast).step(Self.w, Self.x)
        let e = Matrix(Self.expected[contrast.rawValue]!)
        for i in 0..<3 { for j in 0..<3 { expectClose(next[i, j], e[i, j], tolerance: 1e-12, "\(contrast) step [\(i),\(j)]") } }
    }

    /// A sine and a square wave mixed by a known 2 × 2 matrix: FastICA on the whitened mixture
    /// recovers both (|r| > 0.99) and the mixing matrix up to order, sign and scale.
    @Test(arguments: FastICA.Contrast.allCases)
    func separatesSineAndSquare(contrast: FastICA.Contrast) throws {
        let n = 2000
        let t = (0..<n).map { Double($0) / Double(n) * 8 }
        let sources = [t.map { sin(2 * t.first! + 3 * $0) }, t.map { sin(5 * $0) >= 0 ? 1.0 : -1.0 }]
        let mixing = Matrix([[1.0, 0.6], [0.4, 1.0]])   // observed = A · sources
        var observed = matmul(mixing, Matrix(sources))   // 2 × n
        // Whitening by hand: centre, covariance C = E Λ Eᵀ, K = Λ^(−1/2) Eᵀ.
        for i in 0..<2 {
            let m = observed.row(i).reduce(0, +) / Double(n)
            for j in 0..<n { observed[i, j] -= m }
        }
        let eigen = try symmetricEigen(gram(observed.transposed, scale: 1 / Double(n)), largest: 2)
        var k = eigen.vectors.transposed
        for i in 0..<2 { for j in 0..<2 { k[i, j] /= eigen.values[i].squareRoot() } }
        let white = matmul(k, observed)

        var random = RandomStream(seed: 7)
        let initial = Matrix(rows: 2, cols: 2, storage: (0..<4).map { _ in random.normal() })
        var calls = 0
        let result = try FastICA(contrast: contrast, maxIterations: 200, tolerance: 1e-8)
            .run(whitened: white, initial: initial) { _, _ in calls += 1 }
        #expect(result.converged, "\(contrast): no convergence in 200 iterations (last change \(result.change))")
        #expect(calls == result.iterations)
        let recovered = matmul(result.unmixing, white)
        // Each true source correlates with exactly one recovered source at |r| > 0.99.
        func correlation(_ a: [Double], _ b: [Double]) -> Double {
            let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
            var sab = 0.0, saa = 0.0, sbb = 0.0
            for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
            return sab / (saa * sbb).squareRoot()
        }
        let r = (0..<2).map { i in (0..<2).map { j in abs(correlation(sources[i], recovered.row(j))) } }
        let straight = r[0][0] + r[1][1] >= r[0][1] + r[1][0]
        let pairs = straight ? [(0, 0), (1, 1)] : [(0, 1), (1, 0)]
        for (i, j) in pairs {
            #expect(r[i][j] > 0.99, "\(contrast): |r| of source \(i) with recovered \(j) is \(r[i][j]), expected > 0.99")
        }
        // Estimated mixing = (W K)⁻¹: each column parallel (|cos| > 0.999) to the true column.
        let estimate = try inverse(matmul(result.unmixing, k))
        for (i, j) in pairs {
            let a = mixing.column(i), b = estimate.column(j)
            var ab = 0.0, aa = 0.0, bb = 0.0
            for (x, y) in zip(a, b) { ab += x * y; aa += x * x; bb += y * y }
            let cos = abs(ab) / (aa * bb).squareRoot()
            #expect(cos > 0.999, "\(contrast): mixing column \(i) vs estimate \(j): |cos| = \(cos), expected > 0.999")
        }
    }

    @Test func stopsAtMaxIterationsAndWhenAsked() throws {
        var random = RandomStream(seed: 3)
        let data = Matrix(rows: 3, cols: 200, storage: (0..<600).map { _ in random.normal() })
        let result = try FastICA(maxIterations: 2, tolerance: 0).run(whitened: data, initial: Self.w)
        #expect(result.iterations == 2 && !result.converged)
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            _ = try FastICA().run(whitened: data, initial: Self.w) { i, _ in if i == 1 { throw Stop() } }
        }
    }
}
