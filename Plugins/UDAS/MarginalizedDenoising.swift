import UnmixSDK

/// The stacked marginalised denoising autoencoder (mDA, Chen, Xu, Weinberger & Sha, ICML 2012)
/// that gives uDAS its denoising constraint.
///
/// One layer maps spectra x (B values) to h = (1 − p)·W·[x; 1], where W (B × (B + 1)) is the
/// closed-form minimiser of the expected reconstruction error under feature dropout of
/// probability p, with a ridge λ on every weight but the bias:
/// S = X̄ X̄ᵀ for X̄ = [X; 1ᵀ]; q = (1 − p)·1 with q_{B+1} = 1; Q = S ∘ qqᵀ with diag(Q) = q ∘ diag(S);
/// P = S[1…B, :] ∘ 1qᵀ; W = P (Q + λI′)⁻¹. Here the data are rows (P × B), so each layer solves
/// (Q + λI′) Wᵀ = Pᵀ with LAPACK and maps the pixels by one GEMM, [Y 1]·Wᵀ.
struct MarginalizedDenoising {
    /// Dropout probability p of the marginalised corruption.
    var noise: Double
    /// Ridge λ on the weights (not on the bias).
    var ridge: Double

    /// One layer: its map Wᵀ ((B + 1) × B, last row the bias) and its output (P × B).
    func layer(_ y: Matrix) throws -> (wt: Matrix, output: Matrix) {
        let b = y.cols
        let augmented = Self.withOnes(y)
        let s = gram(augmented)                                  // (B + 1) × (B + 1)
        var q = [Double](repeating: 1 - noise, count: b + 1)
        q[b] = 1
        var system = Matrix(rows: b + 1, cols: b + 1)
        var rhs = Matrix(rows: b + 1, cols: b)                   // Pᵀ: row j = S[j, 0..<B]·q_j
        for i in 0...b {
            for j in 0...b {
                system[i, j] = i == j ? q[i] * s[i, i] : s[i, j] * q[i] * q[j]
            }
            if i < b { system[i, i] += ridge }
            for j in 0..<b { rhs[i, j] = s[i, j] * q[i] }
        }
        let wt = try solve(system, rhs)
        return (wt, matmul(augmented, wt, alpha: 1 - noise))
    }

    /// [Y 1]: the rows with a constant 1 appended.
    static func withOnes(_ y: Matrix) -> Matrix {
        var out = Matrix(rows: y.rows, cols: y.cols + 1, repeating: 1)
        for i in 0..<y.rows {
            for j in 0..<y.cols { out.storage[i * (y.cols + 1) + j] = y.storage[i * y.cols + j] }
        }
        return out
    }
}
