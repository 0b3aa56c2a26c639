import Foundation

/// FastICA, the parallel (symmetric) fixed-point algorithm of Hyvärinen (IEEE TNN 10(3), 1999),
/// on data that is already white.
///
/// The input X is k × n: k whitened signals (rows, unit covariance) observed at n samples. The
/// result is the k × k orthogonal unmixing matrix W such that the rows of W·X are as
/// non-Gaussian (independent) as the contrast can make them. One iteration is
///
///     W⁺ = (G(WX)·Xᵀ)/n − diag(mean G′(WX)) · W,    W ← (W⁺W⁺ᵀ)^(−1/2) W⁺,
///
/// where G is the derivative of the contrast (tanh for logcosh), and it stops when
/// `max |abs(diag(W⁺Wᵀ)) − 1| < tolerance`, the rule scikit-learn uses.
///
/// Design notes. Whitening is left to the caller, since the two pipelines we reproduce whiten
/// differently (HyperSpy's PCA whitening of a few SVD factors; scikit-learn's unit-variance
/// whitening of the data). The products with X go to BLAS; the decorrelation is a k × k
/// eigen-decomposition through LAPACK. Only the parallel algorithm is implemented: the
/// deflation variant estimates components one by one and is what neither reference uses by default.
public struct FastICA: Sendable {
    /// The contrast function's derivative G (scikit-learn's `fun`).
    public enum Contrast: String, CaseIterable, Sendable {
        /// G(u) = tanh(u), G′(u) = 1 − tanh²(u) (alpha = 1): robust, the general-purpose default.
        case logcosh
        /// G(u) = u·exp(−u²/2), G′(u) = (1 − u²)·exp(−u²/2): for super-Gaussian sources.
        case exp
        /// G(u) = u³, G′(u) = 3u²: kurtosis.
        case cube
    }

    public var contrast: Contrast
    public var maxIterations: Int
    public var tolerance: Double

    public init(contrast: Contrast = .logcosh, maxIterations: Int = 200, tolerance: Double = 1e-4) {
        self.contrast = contrast
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    public struct Result: Sendable {
        /// k × k orthogonal unmixing matrix: sources = W · X.
        public var unmixing: Matrix
        /// Iterations run.
        public var iterations: Int
        /// Whether the tolerance was met before `maxIterations`.
        public var converged: Bool
        /// The last value of the convergence criterion.
        public var change: Double
    }

    /// Runs the fixed-point iteration from `initial` (k × k, e.g. standard normal draws, as
    /// scikit-learn's `w_init`). `onIteration(i, change)` is called after each iteration and may
    /// throw to stop (cancellation).
    public func run(whitened x: Matrix, initial: Matrix,
                    onIteration: (Int, Double) throws -> Void = { _, _ in }) throws -> Result {
        let k = x.rows
        precondition(initial.rows == k && initial.cols == k, "FastICA: w_init is \(initial.rows)×\(initial.cols), expected \(k)×\(k)")
        precondition(maxIterations >= 1, "FastICA: maxIterations must be at least 1")
        var w = try FastICA.symmetricDecorrelation(initial)
        var change = Double.infinity
        for iteration in 1...maxIterations {
            let next = try step(w, x)
            change = 0
            for i in 0..<k {
                var d = 0.0
                for j in 0..<k { d += next[i, j] * w[i, j] }
                change = max(change, abs(abs(d) - 1))
            }
            w = next
            try onIteration(iteration, change)
            if change < tolerance {
                return Result(unmixing: w, iterations: iteration, converged: true, change: change)
            }
        }
        return Result(unmixing: w, iterations: maxIterations, converged: false, change: change)
    }

    /// One fixed-point update followed by symmetric decorrelation (the body of the loop of `run`).
    public func step(_ w: Matrix, _ x: Matrix) throws -> Matrix {
        let k = x.rows, n = x.cols
        var g = matmul(w, x)                      // k × n: current source estimates
        var meanDerivative = [Double](repeating: 0, count: k)
        g.storage.withUnsafeMutableBufferPointer { y in
            for i in 0..<k {
                var sum = 0.0
                for t in (i * n)..<((i + 1) * n) {
                    let u = y[t]
                    switch contrast {
                    case .logcosh:
                        let th = tanh(u)
                        y[t] = th
                        sum += 1 - th * th
                    case .exp:
                        let e = Foundation.exp(-u * u / 2)
                        y[t] = u * e
                        sum += (1 - u * u) * e
                    case .cube:
                        y[t] = u * u * u
                        sum += 3 * u * u
                    }
                }
                meanDerivative[i] = sum / Double(n)
            }
        }
        var next = matmul(g, x, transposeB: true, alpha: 1 / Double(n))   // k × k
        for i in 0..<k { for j in 0..<k { next[i, j] -= meanDerivative[i] * w[i, j] } }
        return try FastICA.symmetricDecorrelation(next)
    }

    /// (W Wᵀ)^(−1/2) · W: the nearest orthogonal matrix to W's row space, every row treated alike.
    /// Eigenvalues are clipped at the smallest positive normal double, as scikit-learn does.
    public static func symmetricDecorrelation(_ w: Matrix) throws -> Matrix {
        let k = w.rows
        let eigen = try symmetricEigen(matmul(w, w, transposeB: true), largest: k)
        var scaled = eigen.vectors                  // V · diag(λ^(−1/2))
        for j in 0..<k {
            let f = 1 / max(eigen.values[j], Double.leastNormalMagnitude).squareRoot()
            for i in 0..<k { scaled[i, j] *= f }
        }
        return matmul(matmul(scaled, eigen.vectors, transposeB: true), w)
    }
}
