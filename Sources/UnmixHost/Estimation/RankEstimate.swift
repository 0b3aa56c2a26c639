import Foundation
import UnmixNumerics

/// How many endmembers a cube holds, estimated two ways: HySime's signal subspace and the elbow
/// of the SVD's explained-variance (scree) curve. What `unmix estimate` prints and writes as
/// estimate.json (snake_case keys through `encodeJSON`), and what `-r auto` uses.
public struct RankEstimate: Codable, Sendable {
    /// The noise HySime assumes.
    public enum NoiseModel: String, Codable, Sendable, CaseIterable {
        /// Additive noise, uncorrelated between bands.
        case additive
        /// Poisson counts: the regression runs on √Y and the noise is mapped back.
        case poisson
    }

    /// The noise model asked for: one of the two, or chosen from the data.
    public enum NoiseChoice: String, Sendable, CaseIterable {
        case auto, additive, poisson

        public init(parsing text: String) throws {
            guard let choice = NoiseChoice(rawValue: text.lowercased()) else {
                throw UnmixError.usage("--noise expects poisson, additive or auto, got '\(text)'")
            }
            self = choice
        }
    }

    public struct HySimeResult: Codable, Sendable {
        /// The number of eigenvectors of Rx with −Py + 2 Pn < 0.
        public var r: Int
        /// Py[i] = eᵢᵀ Ry eᵢ, per eigenvector of Rx (decreasing eigenvalue).
        public var signalPower: [Double]
        /// Pn[i] = eᵢᵀ Rn eᵢ, same order.
        public var noisePower: [Double]
        /// The eigenvalues of Rx, decreasing.
        public var eigenvalues: [Double]
        /// The estimated noise standard deviation of each band.
        public var bandNoiseStd: [Double]
        /// How Y Yᵀ and Rn were regularised, in words.
        public var regularisation: String
    }

    public struct Scree: Codable, Sendable {
        /// The SVD's explained-variance ratios (squared singular values over their sum; the
        /// data uncentred, as HyperSpy's default decomposition).
        public var explainedVarianceRatio: [Double]
        /// HyperSpy's `estimate_elbow_position` on the ratios (log scale, the first
        /// `max_points` + 1 values).
        public var elbowIndex: Int
        public var maxPoints: Int
        /// elbow_index + 1.
        public var r: Int
    }

    /// What run.json and compare.json record when `-r auto` chose R.
    public struct Summary: Codable, Sendable {
        public var method: String
        public var r: Int
        public var noiseModel: NoiseModel
        /// The scree elbow's R, for comparison.
        public var elbowR: Int
    }

    public var pixels: Int
    public var bands: Int
    public var noiseModel: NoiseModel
    /// Why this noise model: asked for, or chosen from the values.
    public var noiseModelReason: String
    public var hysime: HySimeResult
    public var scree: Scree
    public var seconds: Double

    /// HySime's R, the estimate `-r auto` uses.
    public var r: Int { hysime.r }

    public var summary: Summary { Summary(method: "hysime", r: hysime.r, noiseModel: noiseModel, elbowR: scree.r) }

    /// The JSON text (pretty, sorted keys).
    public var json: String { encodeJSON(self) }

    /// Both estimates on `cube`. `.auto` takes the Poisson model when every value is a
    /// non-negative whole number (counts), the additive one otherwise.
    public static func estimate(_ cube: CubeData, noise: NoiseChoice = .auto) throws -> RankEstimate {
        let start = DispatchTime.now().uptimeNanoseconds
        let (pixels, bands) = (cube.pixels, cube.bands)
        guard pixels >= 2, bands >= 2 else {
            throw UnmixError("estimating R needs at least 2 pixels and 2 bands (the cube has \(pixels) and \(bands))")
        }
        // Each band's regression on the others is exact when there are no more pixels than
        // bands: the noise would come out zero and every direction signal.
        guard pixels > bands else {
            throw UnmixError("estimating R needs more pixels than channels (the cube has \(pixels) pixels and \(bands) channels): select fewer channels with --range, or give R with -r")
        }
        return try cube.withUnsafeValues { data in
            let model: NoiseModel, reason: String
            switch noise {
            case .additive: (model, reason) = (.additive, "asked for (--noise additive)")
            case .poisson:
                (model, reason) = (.poisson, "asked for (--noise poisson)" + (data.contains { $0 < 0 } ? "; negative values taken as 0" : ""))
            case .auto:
                (model, reason) = holdsCounts(data)
                    ? (.poisson, "auto: every value is a non-negative whole number (counts)")
                    : (.additive, "auto: the values are not all non-negative whole numbers")
            }
            let outcome = try HySime.estimate(data, pixels: pixels, bands: bands, noise: model)
            // The scree: eigenvalues of Y Yᵀ are the squared singular values of Y.
            let squared = try symmetricEigenvalues(outcome.correlation).map { max(0, $0) }
            let total = squared.reduce(0, +)
            let ratios = squared.map { total > 0 ? $0 / total : 0 }
            let maxPoints = 20
            let elbow = elbowPosition(ratios, maxPoints: maxPoints)
            let regularisation = "(Y Yᵀ + \(HySime.inverseRidge) · tr(Y Yᵀ)/B · I)⁻¹ for the regressions; "
                + "Rn + \(HySime.noiseRidge) · tr(Rx)/B · I (hysime.m's 10⁻¹⁰); "
                + "Rn diagonal (noise uncorrelated between bands)" + (model == .poisson ? "; noise of √Y mapped back as w = 2 √Y ∘ u" : "")
            return RankEstimate(
                pixels: pixels, bands: bands, noiseModel: model, noiseModelReason: reason,
                hysime: HySimeResult(r: outcome.k, signalPower: outcome.signalPower, noisePower: outcome.noisePower,
                                     eigenvalues: outcome.eigenvalues, bandNoiseStd: outcome.bandNoiseStd,
                                     regularisation: regularisation),
                scree: Scree(explainedVarianceRatio: ratios, elbowIndex: elbow, maxPoints: min(maxPoints, ratios.count - 1), r: elbow + 1),
                seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
    }
}
