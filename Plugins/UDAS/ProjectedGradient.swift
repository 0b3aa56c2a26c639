import UnmixSDK

/// Lin's projected-gradient solver for a bound-constrained least-squares subproblem
/// (C.-J. Lin, "Projected gradient methods for non-negative matrix factorization", Neural
/// Computation 19, 2007; `nlssubprob`): min over X of ½‖V − AX‖²_F with 0 ≤ X ≤ upper, given
/// only G = AᵀA (k × k) and C = AᵀV (k × m).
///
/// Each iteration: gradient GX − C; stop when the norm of its projected part is below `tol`;
/// else a step search from the last accepted α (β = 0.1, at most 20 tries) on the sufficient
/// decrease condition 0.99·⟨g, d⟩ + ½⟨d, G d⟩ < 0 for d = P(X − αg) − X, growing α while the
/// condition holds and the step changes, shrinking it until it holds.
struct ProjectedGradient {
    var gram: Matrix
    var product: Matrix
    /// Upper bound on every entry (nil: non-negativity only).
    var upper: Double?

    /// The solution from `start`, its last gradient and the number of iterations run.
    func solve(from start: Matrix, tol: Double, maxIterations: Int) -> (x: Matrix, gradient: Matrix, iterations: Int) {
        var x = start
        var alpha = 1.0
        let beta = 0.1
        var grad = Matrix(rows: x.rows, cols: x.cols)
        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            grad = gradient(at: x)
            if Self.projectedNorm(grad, x, upper: upper) < tol { break }
            var previous = x
            var decreasing = false
            for inner in 0..<20 {
                var next = x
                for i in 0..<next.storage.count { next.storage[i] = clip(x.storage[i] - alpha * grad.storage[i]) }
                var d = next
                for i in 0..<d.storage.count { d.storage[i] -= x.storage[i] }
                let gd = dot(grad, d)
                let dqd = dot(matmul(gram, d), d)
                let sufficient = 0.99 * gd + 0.5 * dqd < 0
                if inner == 0 { decreasing = !sufficient; previous = x }
                if decreasing {
                    if sufficient { x = next; break }
                    alpha *= beta
                } else {
                    if !sufficient || previous == next { x = previous; break }
                    alpha /= beta
                    previous = next
                }
            }
        }
        return (x, grad, iteration)
    }

    /// GX − C.
    func gradient(at x: Matrix) -> Matrix {
        var g = matmul(gram, x)
        for i in 0..<g.storage.count { g.storage[i] -= product.storage[i] }
        return g
    }

    @inline(__always) private func clip(_ v: Double) -> Double {
        let low = max(v, 0)
        if let upper { return min(low, upper) }
        return low
    }

    /// The norm of the gradient's components that can move the point inside its bounds:
    /// g < 0 below the upper bound, g > 0 above zero (Lin's criterion, extended to the box).
    static func projectedNorm(_ g: Matrix, _ x: Matrix, upper: Double?) -> Double {
        var sum = 0.0
        for i in 0..<g.storage.count {
            let gi = g.storage[i], xi = x.storage[i]
            let belowUpper = upper.map { xi < $0 } ?? true
            if (gi < 0 && belowUpper) || (gi > 0 && xi > 0) { sum += gi * gi }
        }
        return sum.squareRoot()
    }
}

/// ⟨a, b⟩ over all entries.
func dot(_ a: Matrix, _ b: Matrix) -> Double {
    var s = 0.0
    for i in 0..<a.storage.count { s += a.storage[i] * b.storage[i] }
    return s
}

/// The Frobenius norm.
func frobenius(_ a: Matrix) -> Double { dot(a, a).squareRoot() }
