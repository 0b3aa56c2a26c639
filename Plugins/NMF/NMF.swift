import UnmixSDK

/// The NMF plugin: scikit-learn's `NMF` as HyperSpy runs it on EELS data (pixels as samples,
/// frobenius loss, coordinate descent from NNDSVD by default), through
/// `NonnegativeMatrixFactorization` in the SDK.
///
/// Endmembers are H (R × B). Abundances of the fitted cube are the fitted W, as HyperSpy's
/// `fit_transform` returns them (not rescaled unless `sum_to_one`); the fitted cube is
/// recognised by its shape and a 64-bit FNV-1a hash of its values. Any other cube gets W by
/// coordinate descent on W alone with H fixed, from W = 0 (scikit-learn's `transform` for the
/// cd solver; used for both solvers).
///
/// `sum_to_one`: first the components are rescaled (W·diag(c), diag(1/c)·H, so W·H is unchanged)
/// with c ≥ 0 the non-negative least-squares solution of W·c ≈ 1 (coordinate descent to
/// convergence; a component with c = 0 is instead scaled so that its spectrum's total Σ_b H is the
/// mean total of the other rescaled spectra); then each row of W is divided by its
/// sum, which changes W·H only where the rescaled rows did not already sum to one. A pixel whose
/// row sums to 0 (modelled as the zero spectrum) gets equal shares 1/R, logged as a warning.
struct NMF: StatefulUnmixer {
    var solver = NonnegativeMatrixFactorization.Solver.cd
    var initialization = NonnegativeMatrixFactorization.Initialization.nndsvd
    var tol = 1e-4
    var maxIterations = 200
    var sumToOne = false

    /// H (R × B), after any sum-to-one rescaling.
    private var endmembers: Matrix?
    /// The fitted cube's W (P × R, same scaling as `endmembers`) and how to recognise that cube.
    private var fitted: (w: [Double], pixels: Int, bands: Int, hash: UInt64)?

    static let info = PluginInfo(
        id: "nmf", name: "NMF", version: "1.0.0",
        summary: "Non-negative matrix factorisation (scikit-learn's NMF as HyperSpy runs it)",
        description: """
            Factorises the P × B data as W·H with W ≥ 0 (abundances, P × R) and H ≥ 0 (endmembers, \
            R × B), minimising 0.5‖X − WH‖²_F, as scikit-learn's NMF behind HyperSpy's \
            decomposition(algorithm="NMF"): coordinate descent (Hsieh & Dhillon 2011) or \
            multiplicative updates (Lee & Seung 2000), initialised by NNDSVD (Boutsidis & \
            Gallopoulos 2008), its variants, or random values. Abundances are not normalised \
            unless sum_to_one is set (NMF has a scale ambiguity per component). With the default \
            NNDSVD start the result does not depend on the seed; init=nndsvdar or random draws from it.
            """,
        authors: "unmix developers", license: "MIT",
        url: "https://doi.org/10.1145/2020408.2020577",
        // Not `.stochastic`: with the default start (NNDSVD) the seed changes nothing.
        capabilities: [.progress, .abundancesNonnegative])

    static let parameters: [Parameter<NMF>] = [
        .choice("solver", \.solver,
                help: "cd: coordinate descent (scikit-learn's default); mu: multiplicative updates."),
        .choice("init", \.initialization,
                help: "nndsvd (scikit-learn ≤ 1.0 default, the paper's), nndsvda (zeros filled with the data mean, scikit-learn ≥ 1.1), nndsvdar (zeros filled with small random values), random."),
        .real("tol", \.tol, min: 1e-12, max: 1, logScale: true,
              help: "Stopping tolerance: cd stops when an iteration's violation over the first one's is ≤ tol; mu when the error decrease over 10 iterations, relative to the initial error, is < tol."),
        .integer("max_iter", \.maxIterations, min: 1, max: 100_000, help: "Maximum number of iterations."),
        .boolean("sum_to_one", \.sumToOne,
                 help: "Rescale components, then each pixel's abundances to sum to one (a zero row becomes 1/R each)."),
    ]

    private var method: NonnegativeMatrixFactorization {
        NonnegativeMatrixFactorization(solver: solver, tol: tol, maxIterations: maxIterations)
    }

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        endmembers = nil
        fitted = nil
        var random = context.random()
        var factors = try NonnegativeMatrixFactorization.initialize(
            cube.data, pixels: cube.pixels, bands: cube.bands, r: r, method: initialization, random: &random)
        try context.checkCancelled()
        let limit = Double(maxIterations)
        let report = try method.solve(cube.data, pixels: cube.pixels, bands: cube.bands, r: r, factors: &factors) { i, c in
            context.progress(Double(i) / limit, "iteration \(i), \(solver == .cd ? "violation ratio" : "relative error") \(c)")
            try context.checkCancelled()
        }
        context.log(.debug, "NMF \(solver.rawValue): \(report.iterations) iterations, criterion \(report.criterion)")
        if sumToOne { Self.rescaleComponents(&factors, pixels: cube.pixels, bands: cube.bands, r: r) }
        guard factors.w.allSatisfy(\.isFinite), factors.ht.allSatisfy(\.isFinite) else {
            throw PluginError.numerical("NMF: non-finite factors")
        }
        let h = factors.h(r: r)
        endmembers = h
        fitted = (factors.w, cube.pixels, cube.bands, Self.hash(cube.data))
        return h
    }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        let h = endmembers!
        let r = h.rows
        var w: [Double]
        if let fitted, fitted.pixels == cube.pixels, fitted.bands == cube.bands, fitted.hash == Self.hash(cube.data) {
            w = fitted.w
        } else {
            var factors = NonnegativeMatrixFactorization.Factors(
                w: [Double](repeating: 0, count: cube.pixels * r), ht: h.transposed.storage)
            var cd = method
            cd.solver = .cd
            let limit = Double(maxIterations)
            _ = try cd.solve(cube.data, pixels: cube.pixels, bands: cube.bands, r: r, factors: &factors, updateH: false) { i, _ in
                context.progress(Double(i) / limit)
                try context.checkCancelled()
            }
            w = factors.w
        }
        if sumToOne {
            let zeros = Self.normaliseRows(&w, r: r)
            if zeros > 0 { context.log(.warning, "NMF sum_to_one: \(zeros) pixels with all-zero abundances set to 1/\(r) each") }
        }
        return Matrix(rows: cube.pixels, cols: r, storage: w)
    }

    /// W·diag(c), diag(1/c)·H with c ≥ 0 the least-squares solution of W·c ≈ 1 (c = 0 replaced
    /// as described in the type's documentation).
    static func rescaleComponents(_ f: inout NonnegativeMatrixFactorization.Factors, pixels: Int, bands: Int, r: Int) {
        let w = Matrix(rows: pixels, cols: r, storage: f.w)
        let g = gram(w).storage
        let rhs = matmul(Matrix(rows: 1, cols: pixels, repeating: 1), w).storage  // 1ᵀW
        var c = [Double](repeating: 0, count: r)
        var first = 0.0
        for sweep in 0..<10_000 {
            let v = NonnegativeMatrixFactorization.coordinateSweep(&c, rows: 1, r: r, gram: g, product: rhs)
            if sweep == 0 { first = v }
            if v <= 1e-12 * first || first == 0 { break }
        }
        // A component with c = 0 (it would only worsen the fit of the row sums) is put on the scale
        // of the others instead: its spectrum gets the mean total (Σ_b H) of the rescaled ones.
        var total = [Double](repeating: 0, count: r)
        for b in 0..<bands { for k in 0..<r { total[k] += f.ht[b * r + k] } }
        let kept = (0..<r).filter { c[$0] > 0 && c[$0].isFinite }
        if kept.isEmpty { return }
        let meanTotal = kept.map { total[$0] / c[$0] }.reduce(0, +) / Double(kept.count)
        for k in 0..<r where !(c[k] > 0 && c[k].isFinite) {
            c[k] = total[k] > 0 && meanTotal > 0 ? total[k] / meanTotal : 1
        }
        for k in 0..<r {
            for p in 0..<pixels { f.w[p * r + k] *= c[k] }
            for b in 0..<bands { f.ht[b * r + k] /= c[k] }
        }
    }

    /// Divides each row by its sum; a zero row becomes 1/r each. Returns the number of zero rows.
    static func normaliseRows(_ w: inout [Double], r: Int) -> Int {
        var zeros = 0
        for p in 0..<(w.count / r) {
            var s = 0.0
            for k in 0..<r { s += w[p * r + k] }
            if s > 0 {
                for k in 0..<r { w[p * r + k] /= s }
            } else {
                zeros += 1
                for k in 0..<r { w[p * r + k] = 1 / Double(r) }
            }
        }
        return zeros
    }

    /// 64-bit FNV-1a over the bit patterns of the values.
    static func hash(_ data: UnsafeBufferPointer<Float>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in data {
            h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// The state is H (R × B) and, as ICA's, the fitted cube's W with what recognises that cube,
    /// so that a restored model gives the training cube the abundances `run` gave it (those of
    /// the fit, as `fit_transform`); other cubes are solved as after a fit.
    func saveState() throws -> [UInt8] {
        var values = [Double]()
        values += [Double(endmembers!.rows), Double(endmembers!.cols)] + endmembers!.storage
        if let fitted {
            values += [1, Double(fitted.pixels), Double(fitted.hash >> 32), Double(fitted.hash & 0xFFFF_FFFF)] + fitted.w
        } else {
            values += [0]
        }
        return StateCoder.encode(values)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "NMF")
        let matrix = try state.matrix()
        var restored: (w: [Double], pixels: Int, bands: Int, hash: UInt64)?
        if try state.integer(in: 0...1) == 1 {
            let pixels = try state.size()
            let half = 0...Int(UInt32.max)
            let (high, low) = (try state.integer(in: half), try state.integer(in: half))
            restored = (try state.values(pixels * matrix.rows), pixels, matrix.cols, UInt64(high) << 32 | UInt64(low))
        }
        try state.finish()
        endmembers = matrix
        fitted = restored
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(NMF.self) }
