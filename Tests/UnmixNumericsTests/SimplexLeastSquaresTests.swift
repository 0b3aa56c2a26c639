import Foundation
import Testing
import UnmixNumerics
import _TestSupport

@Suite struct SimplexLeastSquaresTests {
    /// With E = I the problem is the Euclidean projection onto the probability simplex, whose
    /// answers are computed by hand (sort, threshold τ = (Σ_{i≤ρ} u_i − 1)/ρ, a = max(v − τ, 0)).
    static let projections: [(y: [Double], expected: [Double])] = [
        ([2, 0, 0], [1, 0, 0]),
        ([0.5, 0.5, 0.5], [1.0 / 3, 1.0 / 3, 1.0 / 3]),
        ([1, 0.5, -1], [0.75, 0.25, 0]),        // ρ = 2, τ = 0.25
        ([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]),     // already on the simplex
        ([-1, -2, -3], [1, 0, 0]),              // ρ = 1, τ = −2
    ]

    @Test(arguments: projections)
    func projectionOntoSimplex(y: [Double], expected: [Double]) throws {
        var solver = SimplexLeastSquares(endmembers: .identity(3))
        let a = try solver.solve(Matrix(rows: 1, cols: 3, storage: y))
        for k in 0..<3 { expectClose(a[0, k], expected[k], tolerance: 1e-12, "a[\(k)] for y = \(y)") }
    }

    /// Against brute force: the optimum over every face of the simplex (each subset of free
    /// endmembers, solved as an equality-constrained least-squares problem), on random problems.
    @Test func matchesBruteForceOverFaces() throws {
        var random = RandomStream(seed: 42)
        for trial in 0..<200 {
            let r = 2 + trial % 4, b = 8
            let e = Matrix(rows: r, cols: b, storage: (0..<(r * b)).map { _ in random.uniform() })
            let y = (0..<b).map { _ in random.uniform() * 1.5 - 0.2 }
            var solver = SimplexLeastSquares(endmembers: e)
            let a = try solver.solve(Matrix(rows: 1, cols: b, storage: y)).row(0)
            let best = try bruteForce(e, y)
            #expect(a.allSatisfy { $0 >= 0 }, "trial \(trial): negative abundance \(a)")
            expectClose(a.reduce(0, +), 1, tolerance: 1e-12, "trial \(trial): sum")
            expectClose(residual(e, y, a), best, tolerance: 1e-9 * max(1, best), "trial \(trial): objective")
        }
    }

    @Test func recoversExactMixtures() throws {
        var random = RandomStream(seed: 3)
        let e = Matrix(rows: 4, cols: 30, storage: (0..<120).map { _ in random.uniform() * 100 })
        let truth = Matrix(rows: 50, cols: 4, storage: (0..<50).flatMap { _ -> [Double] in
            let w = (0..<4).map { _ in -log(random.uniformPositive()) }
            let s = w.reduce(0, +)
            return w.map { $0 / s }
        })
        let y = matmul(truth, e)
        var solver = SimplexLeastSquares(endmembers: e)
        let a = try solver.solve(y)
        for (x, t) in zip(a.storage, truth.storage) { expectClose(x, t, tolerance: 1e-9, "abundance") }
    }

    private func residual(_ e: Matrix, _ y: [Double], _ a: [Double]) -> Double {
        let fit = matmul(Matrix(rows: 1, cols: a.count, storage: a), e)
        return zip(fit.storage, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }

    private func bruteForce(_ e: Matrix, _ y: [Double]) throws -> Double {
        let r = e.rows
        var best = Double.infinity
        for mask in 1..<(1 << r) {
            let idx = (0..<r).filter { mask & (1 << $0) != 0 }
            // Minimise ‖y − Σ a_i e_i‖² with Σa = 1 on this face: KKT system.
            let n = idx.count
            var kkt = Matrix(rows: n + 1, cols: n + 1)
            var rhs = Matrix(rows: n + 1, cols: 1)
            for (i, gi) in idx.enumerated() {
                for (j, gj) in idx.enumerated() { kkt[i, j] = (0..<e.cols).reduce(0) { $0 + e[gi, $1] * e[gj, $1] } }
                kkt[i, n] = 1; kkt[n, i] = 1
                rhs[i, 0] = (0..<e.cols).reduce(0) { $0 + e[gi, $1] * y[$1] }
            }
            rhs[n, 0] = 1
            guard let sol = try? solve(kkt, rhs) else { continue }
            var a = [Double](repeating: 0, count: r)
            for (i, gi) in idx.enumerated() { a[gi] = sol[i, 0] }
            if a.allSatisfy({ $0 >= -1e-12 }) { best = min(best, residual(e, y, a.map { max($0, 0) })) }
        }
        return best
    }
}
