import Testing
@testable import UnmixNumerics
import _TestSupport

@Suite struct LinearAlgebraTests {
    @Test func matmulMatchesHandProduct() {
        let a = Matrix([[1, 2, 3], [4, 5, 6]])
        let b = Matrix([[7, 8], [9, 10], [11, 12]])
        // By hand: [1·7+2·9+3·11, 1·8+2·10+3·12; 4·7+5·9+6·11, 4·8+5·10+6·12]
        #expect(matmul(a, b) == Matrix([[58, 64], [139, 154]]))
        #expect(matmul(b, a, transposeA: true, transposeB: true) == Matrix([[58, 139], [64, 154]]))
        #expect(gram(a) == Matrix([[17, 22, 27], [22, 29, 36], [27, 36, 45]]))
    }

    @Test func symmetricEigenOfKnownMatrix() throws {
        // [[2,1],[1,2]] has eigenvalues 3 (vector (1,1)/√2) and 1 (vector (1,−1)/√2).
        let e = try symmetricEigen(Matrix([[2, 1], [1, 2]]), largest: 2)
        expectClose(e.values[0], 3, tolerance: 1e-12, "largest eigenvalue")
        expectClose(e.values[1], 1, tolerance: 1e-12, "smallest eigenvalue")
        expectClose(abs(e.vectors[0, 0] * e.vectors[1, 0]), 0.5, tolerance: 1e-12, "leading vector ∝ (1, 1)")
        #expect(e.vectors[0, 0] * e.vectors[1, 0] > 0)
        let top = try symmetricEigen(Matrix([[4, 0, 0], [0, 1, 0], [0, 0, 9]]), largest: 1)
        expectClose(top.values[0], 9, tolerance: 1e-12, "top of a diagonal matrix")
        expectClose(abs(top.vectors[2, 0]), 1, tolerance: 1e-12, "its vector is e3")
    }

    @Test func svdAndPseudoInverse() throws {
        let a = Matrix([[3, 0], [4, 5], [0, 0]])
        let (u, s, vt) = try svd(a)
        // AᵀA = [[25, 20], [20, 25]]: eigenvalues 45 and 5, so singular values √45 and √5.
        expectClose(s[0], 45.0.squareRoot(), tolerance: 1e-12, "σ1")
        expectClose(s[1], 5.0.squareRoot(), tolerance: 1e-12, "σ2")
        var us = u
        for i in 0..<us.rows { for j in 0..<2 { us[i, j] *= s[j] } }
        let back = matmul(us, vt)
        for (x, y) in zip(back.storage, a.storage) { expectClose(x, y, tolerance: 1e-12, "U S Vᵀ") }
        // Penrose conditions on a rank-deficient matrix.
        let d = Matrix([[1, 2], [2, 4], [3, 6]])
        let p = try pseudoInverse(d)
        let dpd = matmul(matmul(d, p), d)
        for (x, y) in zip(dpd.storage, d.storage) { expectClose(x, y, tolerance: 1e-12, "A A⁺ A = A") }
        let pdp = matmul(matmul(p, d), p)
        for (x, y) in zip(pdp.storage, p.storage) { expectClose(x, y, tolerance: 1e-12, "A⁺ A A⁺ = A⁺") }
        // By hand: A = u vᵀ with u = (1,2,3), v = (1,2): A⁺ = v uᵀ / (|u|²|v|²) = v uᵀ / 70.
        expectClose(p[1, 2], 6.0 / 70, tolerance: 1e-14, "A⁺[1,2]")
    }

    @Test func solveAndSingularity() throws {
        let x = try solve(Matrix([[2, 1], [1, 3]]), Matrix([[3], [5]]))
        // By hand: 2x + y = 3, x + 3y = 5 → x = 4/5, y = 7/5.
        expectClose(x[0, 0], 0.8, tolerance: 1e-14, "x")
        expectClose(x[1, 0], 1.4, tolerance: 1e-14, "y")
        #expect(throws: NumericsError.self) { try solve(Matrix([[1, 2], [2, 4]]), Matrix([[1], [1]])) }
    }

    /// `project` multiplies in blocks of `pixelBlockRows` pixels: on two full blocks and a partial
    /// one, every row (those at the block edges included) matches the product computed in double
    /// from the same single-precision inputs.
    @Test func projectAcrossPixelBlocks() {
        let (p, b, k) = (2 * pixelBlockRows + 301, 37, 5)
        var random = RandomStream(seed: 3)
        let data = (0..<(p * b)).map { _ in Float(random.uniform()) }
        let w = Matrix(rows: b, cols: k, storage: (0..<(b * k)).map { _ in Double(Float(2 * random.uniform() - 1)) })
        let fast = data.withUnsafeBufferPointer { project($0, pixels: p, bands: b, onto: w) }
        let exact = matmul(Matrix(rows: p, cols: b, storage: data.map(Double.init)), w)
        #expect(fast.rows == p && fast.cols == k, "shape \(fast.rows)×\(fast.cols)")
        // |x| ≤ 1, |w| ≤ 1: each entry sums 37 products below 1 in float, whose rounding is at most
        // about 37 · 2⁻²⁴ · 37 ≈ 8e-5; a row read from the wrong block would be off by O(1).
        var worst = 0.0, worstIndex = 0
        for i in 0..<exact.storage.count where abs(fast.storage[i] - exact.storage[i]) > worst {
            worst = abs(fast.storage[i] - exact.storage[i])
            worstIndex = i
        }
        #expect(worst <= 1e-4, "project: worst error \(worst) at pixel \(worstIndex / k), column \(worstIndex % k)")
    }

    /// The randomised leading subspace agrees with the exact eigen-decomposition of the scatter
    /// matrix on a low-rank-plus-noise cube, centred and uncentred, within one block of pixels
    /// and across several (`pixelBlockRows`).
    @Test(arguments: [true, false], [500, 2 * pixelBlockRows + 301])
    func leadingScatterEigenMatchesExact(centred: Bool, p: Int) throws {
        let (b, k) = (60, 3)
        var random = RandomStream(seed: 7)
        let sources = Matrix(rows: k, cols: b, storage: (0..<(k * b)).map { _ in random.uniform() * 10 })
        let weights = Matrix(rows: p, cols: k, storage: (0..<(p * k)).map { _ in random.uniform() })
        var x = matmul(weights, sources)
        for i in 0..<x.storage.count { x.storage[i] += 0.05 * random.normal() }
        let floats = x.floats
        let (mean, _) = floats.withUnsafeBufferPointer { columnMeansAndPower($0, pixels: p, bands: b) }
        let fast = try floats.withUnsafeBufferPointer {
            try leadingScatterEigen($0, pixels: p, bands: b, mean: centred ? mean : nil, k: k)
        }
        var xc = Matrix(rows: p, cols: b, storage: floats.map(Double.init))
        if centred { for i in 0..<p { for j in 0..<b { xc[i, j] -= mean[j] } } }
        let exact = try symmetricEigen(gram(xc, scale: 1 / Double(p)), largest: k)
        for j in 0..<k {
            expectClose(fast.values[j] / exact.values[j], 1, tolerance: 1e-4, "eigenvalue \(j) ratio")
            let dot = (0..<b).reduce(0.0) { $0 + fast.vectors[$1, j] * exact.vectors[$1, j] }
            expectClose(abs(dot), 1, tolerance: 1e-4, "|cos| between eigenvectors \(j)")
        }
    }
}

@Suite struct TruncatedSVDTests {
    /// Against LAPACK's full SVD (dgesdd) of the same matrix: singular values, and vectors up to sign.
    @Test func matchesFullSVD() throws {
        let (p, b, k) = (300, 40, 3)
        var random = RandomStream(seed: 11)
        let left = Matrix(rows: p, cols: k, storage: (0..<(p * k)).map { _ in random.uniform() })
        let right = Matrix(rows: k, cols: b, storage: (0..<(k * b)).map { _ in random.uniform() * 5 })
        var x = matmul(left, right)
        for i in 0..<x.storage.count { x.storage[i] += 0.01 * random.normal() }
        let floats = x.floats
        let fast = try floats.withUnsafeBufferPointer { try truncatedSVD($0, pixels: p, bands: b, k: k) }
        let exact = try svd(Matrix(rows: p, cols: b, storage: floats.map(Double.init)))
        for j in 0..<k {
            expectClose(fast.s[j] / exact.s[j], 1, tolerance: 1e-5, "σ\(j) ratio")
            let cosV = (0..<b).reduce(0.0) { $0 + fast.v[$1, j] * exact.vt[j, $1] }
            let cosU = (0..<p).reduce(0.0) { $0 + fast.u[$1, j] * exact.u[$1, j] }
            expectClose(abs(cosV), 1, tolerance: 1e-5, "|cos| of right vectors \(j)")
            expectClose(cosU * cosV, 1, tolerance: 1e-5, "U and V signs agree for \(j)")
        }
    }
}
