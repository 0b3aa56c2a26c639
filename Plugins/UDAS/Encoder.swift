import UnmixSDK

/// The uDAS encoder objective and its one-step update.
///
/// With input X (P × B, the scaled noisy pixels), denoised target V (P × B) and decoder E
/// (R × B, fixed during the update), the encoder W₁ (R × B) gives abundances a = relu(X W₁ᵀ)
/// and is scored by
///
///     J(W₁) = (0.5/P)·(‖aE − V‖²_F + s²·Σ_p (Σ_r a_pr − 1)²) + λ·0.5·Σ_r ‖W₁_r‖₂
///
/// (the decoder and target augmented by a row s·1ᵀ, s = `sumWeight`, for approximate sum to
/// one; an ℓ2,1 penalty over hidden units). Its gradient is (1/P)·(Δ ∘ 1[XW₁ᵀ > 0])ᵀ X +
/// 0.5λ·W₁_r/‖W₁_r‖ with Δ = a EEᵀ − V Eᵀ + s²(a1 − 1)1ᵀ. `referenceGradient` reproduces the
/// reference code instead: the ReLU mask evaluated on relu(z) ≥ 0 (always 1) and the ℓ2,1
/// gradient without its 0.5.
struct Encoder {
    var input: Matrix
    /// V Eᵀ (P × R), E Eᵀ (R × R) and ‖V‖²_F: the only way V enters J, so J costs one GEMM.
    var targetProducts: Matrix
    var decoderGram: Matrix
    var targetPower: Double
    var sumWeight: Double
    var lambda: Double
    var referenceGradient: Bool

    init(input: Matrix, target: Matrix, decoder: Matrix, sumWeight: Double, lambda: Double, referenceGradient: Bool) {
        self.input = input
        targetProducts = matmul(target, decoder, transposeB: true)
        decoderGram = matmul(decoder, decoder, transposeB: true)
        targetPower = dot(target, target)
        self.sumWeight = sumWeight
        self.lambda = lambda
        self.referenceGradient = referenceGradient
    }

    /// relu(X W₁ᵀ): the abundances (P × R).
    static func abundances(_ input: Matrix, _ w1: Matrix) -> Matrix {
        var a = matmul(input, w1, transposeB: true)
        for i in 0..<a.storage.count where !(a.storage[i] > 0) { a.storage[i] = 0 }
        return a
    }

    /// J and its gradient at `w1`.
    func evaluate(_ w1: Matrix) -> (value: Double, gradient: Matrix) {
        let p = input.rows, r = w1.rows
        let z = matmul(input, w1, transposeB: true)
        var a = z
        for i in 0..<a.storage.count where !(a.storage[i] > 0) { a.storage[i] = 0 }
        let aG = matmul(a, decoderGram)                            // a EEᵀ
        let s2 = sumWeight * sumWeight
        // ‖aE − V‖² = ⟨a, a EEᵀ⟩ − 2⟨a, VEᵀ⟩ + ‖V‖².
        var residual = targetPower
        var delta = Matrix(rows: p, cols: r)
        for i in 0..<p {
            var total = 0.0
            for k in 0..<r {
                let v = a[i, k]
                residual += v * aG[i, k] - 2 * v * targetProducts[i, k]
                total += v
            }
            residual += s2 * (total - 1) * (total - 1)
            for k in 0..<r {
                var d = aG[i, k] - targetProducts[i, k] + s2 * (total - 1)
                if !referenceGradient && !(z[i, k] > 0) { d = 0 }
                delta[i, k] = d
            }
        }
        var gradient = matmul(delta, input, transposeA: true, alpha: 1 / Double(p))   // R × B
        var penalty = 0.0
        let factor = referenceGradient ? lambda : 0.5 * lambda
        for k in 0..<r {
            var norm = 0.0
            for j in 0..<w1.cols { norm += w1[k, j] * w1[k, j] }
            norm = norm.squareRoot()
            penalty += norm
            if norm > 0 { for j in 0..<w1.cols { gradient[k, j] += factor * w1[k, j] / norm } }
        }
        return (0.5 / Double(p) * max(residual, 0) + 0.5 * lambda * penalty, gradient)
    }

    /// One descent step from `w1`, as one iteration of a line-search method started cold:
    /// direction −∇J, first trial step min(1, 1/‖∇J‖₁), then a strong-Wolfe line search
    /// (c₁ = 1e-4, c₂ = 0.2) by step doubling and bisection, at most 25 evaluations.
    func step(_ w1: Matrix) -> Matrix {
        let (f0, g0) = evaluate(w1)
        let l1 = g0.storage.reduce(0) { $0 + abs($1) }
        guard l1 > 1e-5 else { return w1 }
        var d = g0
        for i in 0..<d.storage.count { d.storage[i] = -d.storage[i] }
        let slope0 = dot(g0, d)
        let (c1, c2) = (1e-4, 0.2)
        func point(_ t: Double) -> Matrix {
            var x = w1
            for i in 0..<x.storage.count { x.storage[i] += t * d.storage[i] }
            return x
        }
        var t = min(1, 1 / l1)
        var low = 0.0, high = Double.infinity
        var best: (t: Double, f: Double) = (0, f0)
        for _ in 0..<25 {
            let (f, g) = evaluate(point(t))
            let slope = dot(g, d)
            if f < best.f { best = (t, f) }
            if f > f0 + c1 * t * slope0 {
                high = t                                   // too long: bracket and bisect
            } else if abs(slope) <= -c2 * slope0 {
                return point(t)                            // strong Wolfe
            } else if slope > 0 {
                high = t
            } else {
                low = t                                    // still descending: go further
            }
            t = high.isFinite ? 0.5 * (low + high) : 2 * t
        }
        return point(best.t)
    }
}
