/// Fully constrained least squares (FCLS): for each pixel y, the abundances a minimising
/// ‖y − Eᵀa‖² subject to a ≥ 0 and Σa = 1.
///
/// Design notes. The problem is solved in its Gram form, ½aᵀGa − bᵀa with G = EEᵀ (R × R) and
/// b = Ey, so the per-pixel work is O(R²) whatever the number of bands: all the b's come from
/// one GEMM. Each pixel runs a primal active-set method (Nocedal & Wright, Algorithm 16.3):
/// start at the best vertex, solve the equality-constrained problem on the free set through its
/// KKT system [G_FF 1; 1ᵀ 0], step to the nearest blocking bound, and free the bound with the
/// most negative multiplier until all multipliers are non-negative. The KKT systems depend only
/// on the free set, never on the pixel, so each one is inverted once (LAPACK) and cached by
/// bit mask: with R ≤ 16 endmembers there are at most 2^R of them, and in practice a handful.
/// The method is exact (it stops at a KKT point of a convex problem) and needs no step size
/// or augmentation weight, unlike the common "δ-augmented NNLS" formulation of FCLS.
public struct SimplexLeastSquares {
    /// R × B endmembers.
    public let endmembers: Matrix
    private let g: Matrix
    private var kktInverses: [Int: Matrix] = [:]

    public static let maximumEndmembers = 24

    public init(endmembers: Matrix) {
        precondition(endmembers.rows >= 1 && endmembers.rows <= Self.maximumEndmembers,
                     "SimplexLeastSquares: R = \(endmembers.rows) outside 1...\(Self.maximumEndmembers)")
        self.endmembers = endmembers
        self.g = matmul(endmembers, endmembers, transposeB: true)
    }

    /// Abundances (P × R) of the P × B pixels.
    public mutating func solve(_ pixels: Matrix) throws -> Matrix {
        precondition(pixels.cols == endmembers.cols, "SimplexLeastSquares: \(pixels.cols) bands, endmembers have \(endmembers.cols)")
        return try solve(products: matmul(pixels, endmembers, transposeB: true))
    }

    /// Abundances (P × R) of single-precision pixels (P × B, row-major).
    public mutating func solve(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int) throws -> Matrix {
        precondition(bands == endmembers.cols, "SimplexLeastSquares: \(bands) bands, endmembers have \(endmembers.cols)")
        return try solve(products: project(data, pixels: pixels, bands: bands, onto: endmembers.transposed))
    }

    /// Abundances (P × R) given the products b (P × R, row p = E y_p).
    public mutating func solve(products b: Matrix) throws -> Matrix {
        let r = endmembers.rows
        precondition(b.cols == r, "SimplexLeastSquares: products have \(b.cols) columns for \(r) endmembers")
        var out = Matrix(rows: b.rows, cols: r)
        var bp = [Double](repeating: 0, count: r)
        for p in 0..<b.rows {
            for k in 0..<r { bp[k] = b[p, k] }
            let a = try solvePixel(bp)
            for k in 0..<r { out[p, k] = a[k] }
        }
        return out
    }

    /// Abundances for one pixel given b = E y.
    public mutating func solvePixel(_ b: [Double]) throws -> [Double] {
        let r = b.count
        if r == 1 { return [1] }
        // Start at the vertex with the lowest objective ½G_kk − b_k.
        var start = 0
        for k in 1..<r where 0.5 * g[k, k] - b[k] < 0.5 * g[start, start] - b[start] { start = k }
        var a = [Double](repeating: 0, count: r)
        a[start] = 1
        var free = 1 << start
        let tolerance = 1e-12 * max(1, (0..<r).map { g[$0, $0] }.max()!)
        for _ in 0..<(20 * r + 50) {
            let (target, nu) = try equalityOptimum(free: free, b: b)
            var step = [Double](repeating: 0, count: r)
            var stepNorm = 0.0
            for k in 0..<r where free & (1 << k) != 0 {
                step[k] = target[k] - a[k]
                stepNorm = max(stepNorm, abs(step[k]))
            }
            if stepNorm <= 1e-14 {
                // At the optimum of this face: check the multipliers of the bounds held at zero.
                var worst = -1, worstValue = -tolerance
                for j in 0..<r where free & (1 << j) == 0 {
                    var gradient = -b[j]
                    for k in 0..<r { gradient += g[j, k] * a[k] }
                    let mu = gradient + nu
                    if mu < worstValue { worstValue = mu; worst = j }
                }
                if worst < 0 { return a }
                free |= 1 << worst
                continue
            }
            // Largest feasible step along `step`.
            var alpha = 1.0, blocking = -1
            for k in 0..<r where step[k] < 0 {
                let limit = -a[k] / step[k]
                if limit < alpha { alpha = limit; blocking = k }
            }
            for k in 0..<r { a[k] += alpha * step[k] }
            if blocking >= 0 {
                a[blocking] = 0
                free &= ~(1 << blocking)
            }
        }
        return a // iteration guard: the last feasible iterate (never reached in tests)
    }

    /// The minimiser of the objective on the face { a_k = 0 for k ∉ free, Σa = 1 } and the
    /// multiplier of the sum-to-one constraint.
    private mutating func equalityOptimum(free: Int, b: [Double]) throws -> ([Double], Double) {
        let r = b.count
        let index = (0..<r).filter { free & (1 << $0) != 0 }
        let inv = try kktInverse(free: free, index: index)
        let n = index.count
        var rhs = index.map { b[$0] }
        rhs.append(1)
        var out = [Double](repeating: 0, count: r)
        var nu = 0.0
        for i in 0...n {
            var s = 0.0
            for j in 0...n { s += inv[i, j] * rhs[j] }
            if i < n { out[index[i]] = s } else { nu = s }
        }
        return (out, nu)
    }

    private mutating func kktInverse(free: Int, index: [Int]) throws -> Matrix {
        if let cached = kktInverses[free] { return cached }
        let n = index.count
        var kkt = Matrix(rows: n + 1, cols: n + 1)
        for (i, gi) in index.enumerated() {
            for (j, gj) in index.enumerated() { kkt[i, j] = g[gi, gj] }
            kkt[i, n] = 1
            kkt[n, i] = 1
        }
        let inv: Matrix
        do {
            inv = try inverse(kkt)
        } catch {
            // Collinear endmembers make G_FF singular: a tiny ridge picks the minimum-norm split.
            let ridge = 1e-10 * max(1e-300, (0..<n).map { kkt[$0, $0] }.reduce(0, +) / Double(n))
            for i in 0..<n { kkt[i, i] += ridge }
            inv = try inverse(kkt)
        }
        kktInverses[free] = inv
        return inv
    }
}
