/// Reconstruction losses between a batch of reconstructions ŷ and targets y, both (N, B)
/// (or any shape whose last axis is the spectrum). Each returns a scalar.
public enum Loss: String, CaseIterable, Sendable {
    /// The spectral angle, averaged over spectra: mean_n arccos(⟨ŷ_n, y_n⟩ / (‖ŷ_n‖‖y_n‖)).
    case sad
    /// The Keras notebooks' SAD (hu_autoencoders): both ℓ2-normalised per spectrum, then
    /// arccos of the mean over all N·B elements of ŷ∘y, i.e. arccos(mean_n cos_n / B).
    case notebookSAD = "notebook_sad"
    /// Mean squared error over all elements.
    case mse
    /// Spectral information divergence, averaged over spectra: Σ p log(p/q) + q log(q/p), with
    /// p, q the spectra normalised to unit sum (values clamped to ≥ 1e-7 first).
    case sid

    public func callAsFunction(_ reconstruction: Variable, _ target: Variable) -> Variable {
        switch self {
        case .sad:
            let cosine = sum(l2Normalized(reconstruction) * l2Normalized(target), axis: -1)
            return mean(arccos(cosine))
        case .notebookSAD:
            return arccos(mean(l2Normalized(reconstruction) * l2Normalized(target)))
        case .mse:
            return mean(square(reconstruction - target))
        case .sid:
            let p = clamp(target, min: 1e-7, max: .greatestFiniteMagnitude)
            let q = clamp(reconstruction, min: 1e-7, max: .greatestFiniteMagnitude)
            let pn = p / sum(p, axis: -1, keepDims: true), qn = q / sum(q, axis: -1, keepDims: true)
            let divergence = pn * log(pn / qn) + qn * log(qn / pn)
            return mean(sum(divergence, axis: -1))
        }
    }
}
