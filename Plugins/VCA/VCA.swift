import UnmixSDK

/// The VCA plugin: `VertexComponentAnalysis` (in the SDK, shared with the methods that start
/// from it) for the endmembers, fully constrained least squares for the abundances.
struct VCA: StatefulUnmixer {
    var snr = 0.0
    var projection = VertexComponentAnalysis.Projection.auto

    /// The fitted endmembers, R × B.
    private var endmembers: Matrix?

    static let info = PluginInfo(
        id: "vca", name: "VCA", version: "1.0.0",
        summary: "Vertex Component Analysis endmembers, fully constrained least-squares abundances",
        description: """
            Vertex Component Analysis (Nascimento & Bioucas-Dias, 2005) finds R endmembers as the \
            extreme pixels of the data after projection on its signal subspace: at each step a random \
            direction orthogonal to the endmembers found so far, and the pixel that projects furthest \
            on it. Abundances are fully constrained least squares (non-negative, summing to one), \
            solved exactly by an active-set method. Deterministic for a given seed.
            """,
        authors: "unmix developers", license: "MIT",
        url: "https://doi.org/10.1109/TGRS.2005.844293",
        capabilities: [.stochastic, .abundancesNonnegative, .abundancesSumToOne])

    static let parameters: [Parameter<VCA>] = [
        .real("snr", \.snr, min: 0, max: 200, unit: "dB",
              help: "Signal-to-noise ratio of the data; 0 estimates it from the data (the reference's default)."),
        .choice("projection", \.projection,
                help: "auto picks the branch by the SNR rule (SNR < 15 + 10 log10 R: subspace); projective or subspace force one."),
    ]

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        var random = context.random()
        let result = try VertexComponentAnalysis(snr: snr, projection: projection)
            .run(cube.data, pixels: cube.pixels, bands: cube.bands, r: r, random: &random,
                 checkCancelled: context.checkCancelled)
        context.log(.debug, "VCA: SNR \(result.snr) dB, \(result.branch.rawValue) projection, pixels \(result.indices)")
        endmembers = result.endmembers
        return result.endmembers
    }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        var solver = SimplexLeastSquares(endmembers: endmembers!)
        return try solver.solve(cube.data, pixels: cube.pixels, bands: cube.bands)
    }

    func saveState() throws -> [UInt8] {
        StateCoder.encode(endmembers!)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "VCA")
        let matrix = try state.matrix()
        try state.finish()
        endmembers = matrix
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(VCA.self) }
