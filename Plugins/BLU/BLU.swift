import Dispatch
import UnmixSDK

/// The BLU plugin: Bayesian linear unmixing by Gibbs sampling (Dobigeon, Moussaoui, Coulon,
/// Tourneret & Hero, IEEE TSP 57(11), 2009).
///
/// Model: y_p = M a_p + n_p with n_p ~ N(0, σ² I); a_p uniform on the simplex; each endmember
/// m_r = U t_r + ȳ in the (R − 1)-dimensional principal subspace of the data, with the prior
/// t_r ~ N(e_r, s² I) truncated to m_r ≥ 0 (e_r: the VCA endmember's coordinates); Jeffreys
/// prior on σ². Each sweep draws σ², then every pixel's abundances, then every endmember's
/// coordinates, from their conditionals; the estimates are the means of the draws after burn-in.
///
/// Choices where the reference code is ambiguous or departs from the model:
/// - Abundances start at the fully constrained least-squares solution for the VCA endmembers
///   (the reference's 3-D GUI; its 2-D GUI uses a clipped, renormalised pseudo-inverse).
/// - `iterations` sweeps exactly (the reference's `while m < Nmc` runs Nmc − 1), averaged over
///   sweeps burn_in + 1 … iterations.
/// - The conditionals of single coordinates use the exact Gaussian conditional, written with the
///   precision matrix Q = Σ⁻¹: mean μ_k − Σ_{j≠k} Q_kj (x_j − μ_j)/Q_kk, variance 1/Q_kk (the
///   same numbers as the reference's Σ_{k,−k}Σ_{−k}⁻¹ form, without inverting submatrices). For the
///   endmember coordinates the reference centres the other coordinates on the prior mean e_r
///   instead of the posterior mean μ; we use μ, as the model says. (With orthonormal U, as here,
///   Σ_r is a multiple of I and the two coincide; the exact form stays correct for any U.)
/// - Truncated normals are drawn exactly (`RandomStream.truncatedNormal`), so the reference's
///   "keep the old value when the draw falls outside" fallback never triggers. When the bounds of
///   an endmember coordinate are contradictory (the VCA start may lie slightly outside the
///   positive cone in the subspace), that coordinate keeps its value for the sweep.
/// - σ² is floored at 10⁻¹² of the mean power, so noiseless data do not divide by zero.
struct BLU: Unmixer {
    var iterations = 100
    var burnIn = -1
    var priorVariance = 10.0

    /// The fitted endmembers (R × B) and MMSE abundances (P × R) of the cube they came from.
    private var endmembers: Matrix?
    private var fittedAbundances: Matrix?
    private var fittedCube: CubeFingerprint?

    static let info = PluginInfo(
        id: "blu", name: "BLU", version: "1.0.0",
        summary: "Bayesian linear unmixing: Gibbs sampling of endmembers, abundances and noise variance",
        description: """
            Bayesian linear unmixing (Dobigeon, Moussaoui, Coulon, Tourneret & Hero, 2009). Endmembers \
            live in the (R−1)-dimensional principal subspace of the data with a Gaussian prior around the \
            VCA endmembers, truncated to non-negative spectra; abundances are uniform on the simplex; the \
            noise is white Gaussian with a Jeffreys prior on its variance. A Gibbs sampler draws, each \
            sweep, the noise variance, every pixel's abundances (an (R−1)-dimensional truncated normal \
            drawn by 5 inner Gibbs sweeps of exact univariate truncated normals) and every endmember's \
            coordinates; the results are the means of the draws after burn-in. Starts from VCA endmembers \
            and fully constrained least-squares abundances. Unlike the reference code, the conditional \
            mean of an endmember coordinate is centred on the posterior mean, as the model says, not on \
            the prior mean. Runs exactly `iterations` sweeps. Pixels are sampled in parallel, each from \
            its own random stream, so results depend only on the seed.
            """,
        authors: "unmix developers", license: "MIT",
        url: "https://doi.org/10.1109/TSP.2009.2025797",
        capabilities: [.stochastic, .progress, .abundancesNonnegative, .abundancesSumToOne])

    static let parameters: [Parameter<BLU>] = [
        .integer("iterations", \.iterations, min: 2, max: 100_000,
                 help: "Gibbs sweeps (the reference's Nmc)."),
        .integer("burn_in", \.burnIn, min: -1, max: 100_000,
                 help: "Sweeps discarded before averaging; −1 means iterations/3 (rounded down). Must be below iterations."),
        .real("prior_variance", \.priorVariance, min: 1e-6, max: 1e6, logScale: true,
              help: "Variance s² of the Gaussian prior of the endmember coordinates around the VCA start (the reference's Tsigma2r)."),
    ]

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        let burn = burnIn < 0 ? iterations / 3 : burnIn
        guard burn < iterations else {
            throw PluginError.invalidArgument("burn_in (\(burn)) must be below iterations (\(iterations)): no sample would be kept")
        }
        guard r <= SimplexLeastSquares.maximumEndmembers else {
            throw PluginError.invalidArgument("BLU starts from fully constrained least squares, which handles at most \(SimplexLeastSquares.maximumEndmembers) endmembers (R = \(r))")
        }
        var sampler = try GibbsSampler(cube: cube, r: r, priorVariance: priorVariance, context: context)
        let kept = Double(iterations - burn)
        var sumA = Matrix(rows: cube.pixels, cols: r), sumT = Matrix(rows: r, cols: max(r - 1, 0))
        for sweep in 1...iterations {
            try context.checkCancelled()
            try sampler.sweep(sweep)
            if sweep > burn {
                for i in sumA.storage.indices { sumA.storage[i] += sampler.a.storage[i] }
                for i in sumT.storage.indices { sumT.storage[i] += sampler.t.storage[i] }
            }
            context.progress(Double(sweep) / Double(iterations), "sweep \(sweep) of \(iterations), σ² = \(sampler.sigma2)")
        }
        if sampler.infeasible > 0 {
            context.log(.debug, "BLU: \(sampler.infeasible) endmember coordinate draws skipped (contradictory bounds)")
        }
        for i in sumA.storage.indices { sumA.storage[i] /= kept }
        for i in sumT.storage.indices { sumT.storage[i] /= kept }
        let m = sampler.endmembers(coordinates: sumT)
        endmembers = m
        fittedAbundances = sumA
        fittedCube = CubeFingerprint(cube)
        return m
    }

    /// The MMSE abundances for the cube that was fitted; fully constrained least squares under
    /// the fitted endmembers for any other cube.
    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        if let fittedAbundances, fittedCube == CubeFingerprint(cube) { return fittedAbundances }
        var solver = SimplexLeastSquares(endmembers: endmembers!)
        return try solver.solve(cube.data, pixels: cube.pixels, bands: cube.bands)
    }
}

/// Identifies a cube by its shape and a hash of its values, so that `abundances` can tell the
/// fitted cube (whose abundances the sampler estimated) from another one.
struct CubeFingerprint: Equatable {
    var pixels: Int, bands: Int, hash: UInt64

    init(_ cube: Cube) {
        pixels = cube.pixels
        bands = cube.bands
        var h: UInt64 = 0xCBF2_9CE4_8422_2325                                // FNV-1a over the bit patterns
        for v in cube.data { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        hash = h
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(BLU.self) }
