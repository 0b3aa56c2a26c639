import UnmixSDK

/// uDAS: untied denoising autoencoder with sparsity (Qu & Qi, IEEE TGRS 57(3), 2019), following
/// the method as its paper describes it and the reference MATLAB code (aicip/uDAS) for every
/// setting the paper leaves open. The differences from the reference code are listed in
/// README.md; each has a parameter where a user may want the reference's behaviour.
struct UDAS: StatefulUnmixer {
    enum Cascade: String, CaseIterable {
        /// The paper: the composition of every layer's affine map (applied to the input, it is
        /// the cascade's output).
        case composed
        /// The reference code: only the last layer's map, applied to the input.
        case last
    }

    var layers = 12
    var noise = 1e-5
    var ridge = 1.0
    var cascade = Cascade.composed
    var vcaRuns = 1
    var iterations = 10
    var decoderMaxSteps = 1000
    var tol = 1e-6
    var gamma = 1e-4
    var sparsity = 1e-6
    var sumWeight = 20.0
    var referenceGradient = false

    /// Decoder (R × B, scaled units) and encoder (R × B) after `fit`, and the scale.
    private var decoder: Matrix?
    private var encoder: Matrix?
    private var scale = 1.0

    static let info = PluginInfo(
        id: "udas", name: "uDAS", version: "0.1.0",
        summary: "Untied denoising autoencoder with sparsity (Qu & Qi 2019)",
        description: """
            A cascade of marginalised denoising autoencoders (closed form) denoises the cube; VCA, \
            fully constrained least squares and one projected-gradient NMF step initialise the \
            endmembers; then decoder (projected gradient, endmembers in [0, 1], pulled towards the \
            denoised data) and encoder (one gradient step on an ℓ2,1-regularised reconstruction with \
            a weighted sum-to-one penalty) updates alternate. Abundances are relu(W₁·x). The cube \
            is divided by its global maximum first and the endmembers multiplied back.
            """,
        authors: "unmix developers", license: "MIT", url: "https://doi.org/10.1109/TGRS.2018.2868690",
        capabilities: [.stochastic, .progress, .abundancesNonnegative])

    static let parameters: [Parameter<UDAS>] = [
        .integer("layers", \.layers, min: 1, max: 100, help: "Marginalised denoising layers in the cascade (the reference: 12 passes)."),
        .real("noise", \.noise, min: 0, max: 0.99, logScale: true, help: "Dropout probability of each mDA layer's marginalised corruption."),
        .real("ridge", \.ridge, min: 0, max: 1e6, help: "Ridge on the mDA weights (not the bias)."),
        .choice("cascade", \.cascade, help: "Denoising constraint: composed (the paper: all layers' maps composed) or last (the reference code: the last layer's map only)."),
        .integer("vca_runs", \.vcaRuns, min: 1, max: 1000, help: "VCA runs; with more than one, keep the endmembers spanning the largest simplex volume (the reference keeps the first)."),
        .integer("iterations", \.iterations, min: 0, max: 100_000, help: "Alternations of decoder and encoder updates."),
        .integer("decoder_max_steps", \.decoderMaxSteps, min: 1, max: 100_000, help: "Projected-gradient iterations per decoder (and NMF) subproblem at most."),
        .real("tol", \.tol, min: 0, max: 1, logScale: true, help: "Relative projected-gradient tolerance of the alternation (and NMF) stopping rules."),
        .real("gamma", \.gamma, min: 0, max: 1e6, logScale: true, help: "Weight γ of the denoising constraint on the reconstruction."),
        .real("sparsity", \.sparsity, min: 0, max: 1e6, logScale: true, help: "ℓ2,1 weight factor: λ = sparsity · sqrt(P / 1000) for P pixels."),
        .real("sum_weight", \.sumWeight, min: 0, max: 1e6, help: "Weight of the appended row of ones that pulls abundances towards sum to one."),
        .boolean("reference_gradient", \.referenceGradient, help: "Reproduce the reference code's encoder gradient (ReLU mask always 1, ℓ2,1 gradient without its 0.5)."),
    ]

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        let (p, bands) = (cube.pixels, cube.bands)
        scale = Double(max(cube.data.max() ?? 1, .leastNormalMagnitude))
        var x = cube.matrix()
        for i in 0..<x.storage.count { x.storage[i] /= scale }
        // Progress: cascade 30%, initialisation 10%, alternations 60%.
        let clock = ContinuousClock(), started = clock.now
        func elapsed() -> String { "\(clock.now - started)" }
        // A. The cascade.
        let mda = MarginalizedDenoising(noise: noise, ridge: ridge)
        var denoised = x
        var lastMap = Matrix(rows: 0, cols: 0)
        for k in 0..<layers {
            try context.checkCancelled()
            let (wt, output) = try mda.layer(denoised)
            denoised = output
            lastMap = wt
            context.progress(0.3 * Double(k + 1) / Double(layers), "denoising layer \(k + 1)/\(layers)")
        }
        // The denoising target W_noise·[x; 1]: the composed affine maps applied to the input
        // are the cascade's output; the reference's constraint is the last map on the input.
        let target = cascade == .composed ? denoised : matmul(MarginalizedDenoising.withOnes(x), lastMap)

        context.log(.debug, "uDAS: cascade done after \(elapsed())")
        // B. Initialisation: VCA on the denoised data (best simplex volume of `vcaRuns`).
        var random = context.random()
        let denoisedFloats = denoised.floats
        var start: Matrix?
        var bestVolume = -Double.infinity
        for run in 0..<vcaRuns {
            try context.checkCancelled()
            let result = try denoisedFloats.withUnsafeBufferPointer {
                try VertexComponentAnalysis().run($0, pixels: p, bands: bands, r: r, random: &random,
                                                  checkCancelled: context.checkCancelled)
            }
            let volume = vcaRuns > 1 ? try Self.simplexVolume(result.endmembers) : 0
            if volume > bestVolume { bestVolume = volume; start = result.endmembers }
            context.log(.debug, "uDAS: VCA run \(run + 1), pixels \(result.indices), volume \(volume)")
        }
        var e = start!                                                        // R × B
        var solver = SimplexLeastSquares(endmembers: e)
        var a = try solver.solve(denoised)                                    // P × R
        context.progress(0.35, "VCA and FCLS")
        context.log(.debug, "uDAS: VCA and FCLS done after \(elapsed())")

        // One iteration of Lin's projected-gradient NMF on the denoised data (W step, then the
        // H step with the sum-to-one row appended).
        let s2 = sumWeight * sumWeight
        do {
            let gramA = gram(a), vtA = matmul(a, denoised, transposeA: true)      // AᵀA, AᵀV
            let gramE = matmul(e, e, transposeB: true), eV = matmul(e, denoised, transposeB: true)
            var gradW = matmul(gramA, e)
            for i in 0..<gradW.storage.count { gradW.storage[i] -= vtA.storage[i] }
            var gradH = matmul(gramE, a, transposeB: true)
            for i in 0..<gradH.storage.count { gradH.storage[i] -= eV.storage[i] }
            let initial = (dot(gradW, gradW) + dot(gradH, gradH)).squareRoot()
            let tolerance = max(0.001, tol) * initial
            if initial > 0 {
                e = ProjectedGradient(gram: gramA, product: vtA, upper: nil)
                    .solve(from: e, tol: tolerance, maxIterations: decoderMaxSteps).x
                var g = matmul(e, e, transposeB: true)
                var c = matmul(e, denoised, transposeB: true)                   // R × P
                for i in 0..<g.storage.count { g.storage[i] += s2 }
                for i in 0..<c.storage.count { c.storage[i] += s2 }
                a = ProjectedGradient(gram: g, product: c, upper: nil)
                    .solve(from: a.transposed, tol: tolerance, maxIterations: decoderMaxSteps).x.transposed
            }
        }
        // The decoder lives in the [0, 1] box from here on.
        for i in 0..<e.storage.count { e.storage[i] = min(max(e.storage[i], 0), 1) }
        // Encoder start: W₁ = Aᵀ pinv(Xᵀ), i.e. W₁ᵀ = pinv(X) A = pinv(XᵀX) Xᵀ A.
        // The first decoder step starts from the NMF abundances, later ones from relu(W₁X).
        var w1 = matmul(try pseudoInverse(gram(x)), matmul(x, a, transposeA: true)).transposed   // R × B
        context.progress(0.4, "initialised")
        context.log(.debug, "uDAS: initialised after \(elapsed())")

        // C. Alternations.
        let lambda = sparsity * (Double(p) / 1000).squareRoot()
        func decoderProblem(_ a: Matrix) -> ProjectedGradient {
            var g = gram(a)
            for i in 0..<g.storage.count { g.storage[i] *= 1 + gamma }
            var c = matmul(a, denoised, transposeA: true)
            if gamma != 0 {
                let t = matmul(a, target, transposeA: true)
                for i in 0..<c.storage.count { c.storage[i] += gamma * t.storage[i] }
            }
            return ProjectedGradient(gram: g, product: c, upper: 1)
        }
        var gradW = decoderProblem(a).gradient(at: e)
        let initialGradient = frobenius(gradW)
        var tolW = max(0.001, tol) * initialGradient
        var done = 0
        for iteration in 0..<iterations {
            try context.checkCancelled()
            let projected = ProjectedGradient.projectedNorm(gradW, e, upper: 1)
            if projected < tol * initialGradient { break }
            let step = decoderProblem(a).solve(from: e, tol: tolW, maxIterations: decoderMaxSteps)
            e = step.x
            gradW = step.gradient
            if step.iterations == 1 { tolW *= 0.1 }
            let encoder = Encoder(input: x, target: denoised, decoder: e, sumWeight: sumWeight,
                                  lambda: lambda, referenceGradient: referenceGradient)
            w1 = encoder.step(w1)
            a = Encoder.abundances(x, w1)
            done = iteration + 1
            context.progress(0.4 + 0.6 * Double(iteration + 1) / Double(max(iterations, 1)),
                             "iteration \(iteration + 1)/\(iterations), projected gradient \(projected)")
        }
        context.log(.debug, "uDAS: \(done) alternations, λ = \(lambda), after \(elapsed())")
        context.progress(1, "done")
        decoder = e
        encoder = w1
        return scaled(e)
    }

    /// The endmembers in the cube's units.
    private func scaled(_ e: Matrix) -> Matrix {
        var out = e
        for i in 0..<out.storage.count { out.storage[i] *= scale }
        return out
    }

    /// The (R − 1)-volume of the simplex spanned by the rows of `e`, up to a constant factor:
    /// sqrt(det G) for the Gram matrix G of the edges from the first vertex.
    static func simplexVolume(_ e: Matrix) throws -> Double {
        guard e.rows > 1 else { return 0 }
        var edges = Matrix(rows: e.rows - 1, cols: e.cols)
        for i in 1..<e.rows { for j in 0..<e.cols { edges[i - 1, j] = e[i, j] - e[0, j] } }
        let g = matmul(edges, edges, transposeB: true)
        let values = try symmetricEigen(g, largest: g.rows).values
        return values.reduce(1) { $0 * max($1, 0) }.squareRoot()
    }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        var x = cube.matrix()
        for i in 0..<x.storage.count { x.storage[i] /= scale }
        return Encoder.abundances(x, encoder!)
    }

    func saveState() throws -> [UInt8] {
        let e = decoder!, w1 = encoder!
        return StateCoder.encode([Double(e.rows), Double(e.cols), scale] + e.storage + w1.storage)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "uDAS")
        let (r, b, scale) = (try state.size(), try state.size(), try state.positive())
        let (e, w) = (try state.values(r * b), try state.values(r * b))
        try state.finish()
        self.scale = scale
        decoder = Matrix(rows: r, cols: b, storage: e)
        encoder = Matrix(rows: r, cols: b, storage: w)
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(UDAS.self) }
