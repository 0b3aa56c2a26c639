import UnmixSDK

/// The ICA plugin: FastICA (`FastICA` in the SDK) in one of two pipelines.
///
/// - `hyperspy` (default) reproduces what an EELS user gets from HyperSpy's `decomposition()`
///   followed by `blind_source_separation(R)`: an uncentred SVD of the P × B data, FastICA on the
///   first derivative along energy (central differences, as HyperSpy 2 takes it) of the R leading
///   factors after HyperSpy's own PCA whitening, components sorted by explained variance and
///   sign-flipped so that each spectrum's largest excursion is positive. Endmembers are the BSS factors, abundances the BSS loadings.
/// - `sklearn` runs scikit-learn's `FastICA(n_components=R, whiten='unit-variance')` directly on
///   the P × B data with pixels as samples and bands as features: the independent sources are
///   then the R abundance maps (P × R, unit variance, zero mean) and the columns of the mixing
///   matrix (B × R) are the spectra. This orientation is the one that yields spectra with their
///   baseline (the mixing columns are not centred) and maps as the sources; the transposed one
///   would make the spectra zero-mean sources. Components keep FastICA's order; each is
///   sign-flipped by the same rule as in the HyperSpy pipeline (scikit-learn itself leaves signs
///   arbitrary, which SAD would punish).
///
/// Abundances of the fitted cube are the fitted loadings (maps) exactly. For any other cube they
/// are the least-squares coefficients of each pixel on the fitted endmembers, X · pinv(E): the
/// same linear unmixing, and on the fitted cube in the `hyperspy` mode it gives the BSS loadings
/// again up to rounding (the loadings are U·S = X·V, and the BSS factors span V).
struct ICA: StatefulUnmixer {
    enum Mode: String, CaseIterable, Sendable {
        case hyperspy
        case sklearn
    }

    /// How the hyperspy mode differentiates the SVD factors: HyperSpy 2's `derivative`
    /// (numpy's `gradient`, central differences, B rows kept) or HyperSpy 1's `diff` (first
    /// differences, B − 1 rows).
    enum Derivative: String, CaseIterable, Sendable {
        case gradient
        case difference
    }

    var mode = Mode.hyperspy
    var maxIterations = 200
    var tolerance = 0.0
    var contrast = FastICA.Contrast.logcosh
    var diffOrder = 1
    var derivative = Derivative.gradient

    /// The fitted endmembers, R × B.
    private var endmembers: Matrix?
    /// The fitted loadings (maps), P × R, and the fingerprint of the cube they belong to.
    private var loadings: Matrix?
    private var fingerprint: UInt64 = 0

    static let info = PluginInfo(
        id: "ica", name: "ICA", version: "1.1.0",
        summary: "FastICA blind source separation, as HyperSpy's blind_source_separation or scikit-learn's FastICA",
        description: """
            FastICA (Hyvärinen, 1999; parallel algorithm, logcosh contrast) separates R independent \
            components. The default mode reproduces HyperSpy's decomposition() + \
            blind_source_separation(R): SVD of the data, ICA of the derivative of the R leading \
            factors after PCA whitening, components sorted by explained variance and sign-flipped; \
            endmembers are the BSS factors, abundances the BSS loadings. The sklearn mode runs \
            FastICA on the data itself (pixels as samples): the sources are the abundance maps and \
            the mixing matrix holds the spectra. Abundances are neither non-negative nor summing to \
            one: that is the method. Random start (w_init) from the seed.
            """,
        authors: "unmix developers", license: "MIT",
        url: "https://doi.org/10.1109/72.761722",
        capabilities: [.stochastic, .progress])

    static let parameters: [Parameter<ICA>] = [
        .choice("mode", \.mode,
                help: "hyperspy: HyperSpy's SVD + BSS pipeline (ICA on the derivative of the SVD factors); sklearn: FastICA directly on the data."),
        .integer("max_iter", \.maxIterations, min: 1, max: 100_000,
                 help: "Maximum number of FastICA iterations."),
        .real("tol", \.tolerance, min: 0, max: 1, logScale: true,
              help: "Convergence tolerance on max |abs(diag(W_new Wᵀ)) − 1|; 0 uses the mode's default (1e-10 for hyperspy, 1e-4 for sklearn)."),
        .choice("fun", \.contrast,
                help: "Contrast function: logcosh (alpha = 1), exp or cube, as scikit-learn's fun."),
        .integer("diff_order", \.diffOrder, min: 0, max: 2,
                 help: "hyperspy mode: how many times the SVD factors are differentiated along energy before ICA (HyperSpy's diff_order)."),
        .choice("derivative", \.derivative,
                help: "hyperspy mode: gradient: central differences, as HyperSpy 2 (numpy.gradient); difference: first differences, as HyperSpy 1 (numpy.diff)."),
    ]

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        var random = context.random()
        let ica = FastICA(contrast: contrast, maxIterations: maxIterations,
                          tolerance: tolerance > 0 ? tolerance : (mode == .hyperspy ? 1e-10 : 1e-4))
        // w_init: an R × R standard normal draw, as scikit-learn's.
        var initial = Matrix(rows: r, cols: r)
        for i in 0..<(r * r) { initial.storage[i] = random.normal() }
        let onIteration: (Int, Double) throws -> Void = { iteration, _ in
            try context.checkCancelled()
            context.progress(Double(iteration) / Double(ica.maxIterations))
        }
        let fitted: (factors: Matrix, loadings: Matrix)   // B × R spectra, P × R maps
        switch mode {
        case .hyperspy:
            fitted = try Self.hyperspyPipeline(cube, r: r, diffOrder: diffOrder, derivative: derivative, ica: ica, initial: initial,
                                               context: context, onIteration: onIteration)
        case .sklearn:
            fitted = try Self.sklearnPipeline(cube, r: r, ica: ica, initial: initial,
                                              context: context, onIteration: onIteration)
        }
        var factors = fitted.factors, maps = fitted.loadings
        Self.autoReverse(&factors, &maps)
        endmembers = factors.transposed
        loadings = maps
        fingerprint = Self.fingerprint(cube)
        context.progress(1)
        return factors.transposed
    }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        if let loadings, cube.pixels == loadings.rows, Self.fingerprint(cube) == fingerprint {
            return loadings
        }
        let e = endmembers!
        return project(cube.data, pixels: cube.pixels, bands: cube.bands, onto: try pseudoInverse(e))
    }

    func saveState() throws -> [UInt8] {
        let e = endmembers!, a = loadings!
        let header = [Double(e.rows), Double(e.cols), Double(a.rows),
                      Double(fingerprint >> 32), Double(fingerprint & 0xFFFF_FFFF)]
        return StateCoder.encode(header + e.storage + a.storage)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "ICA")
        let (r, b, p) = (try state.size(), try state.size(), try state.size())
        let half = 0...Int(UInt32.max)
        let (high, low) = (try state.integer(in: half), try state.integer(in: half))
        let (e, a) = (try state.values(r * b), try state.values(p * r))
        try state.finish()
        fingerprint = UInt64(high) << 32 | UInt64(low)
        endmembers = Matrix(rows: r, cols: b, storage: e)
        loadings = Matrix(rows: p, cols: r, storage: a)
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(ICA.self) }
