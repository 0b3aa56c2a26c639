import Foundation
import Testing
import UnmixHost
import _TestSupport

/// VCA through the real loader, on the paper's synthetic presets.
@Suite struct VCATests {
    let vca: PluginLibrary

    init() throws {
        vca = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_vca.so").path)
    }

    /// The bound: mean SAD ≤ 0.10 rad over 5 seeds at default counts, for each branch
    /// (auto picks the projective one on these data). Measured: ~0.015 on eels3, ~0.007 on eels4.
    @Test(arguments: [SyntheticPreset.eels3, .eels4], ["auto", "subspace"])
    func qualityOnPresets(preset: SyntheticPreset, projection: String) throws {
        var sads = [Double]()
        for seed in UInt64(1)...5 {
            let data = SyntheticDataset.generate(preset, seed: seed)
            let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
            let values = try resolveParameters(vca.descriptor, settings: ["projection=\(projection)"])
            let (result, _) = try runPlugin(vca, cube: cube, r: data.r, values: values, seed: seed)
            let truth = GroundTruth(r: data.r, endmembers: data.endmembers, abundances: data.abundances, source: "memory")
            let score = Score(truth: truth, result: result, pixels: cube.pixels, bands: cube.bands)
            sads.append(score.sadMean)
            // FCLS abundances: non-negative, summing to one.
            for p in 0..<cube.pixels {
                let a = result.abundances[(p * data.r)..<((p + 1) * data.r)]
                #expect(a.allSatisfy { $0 >= 0 }, "negative abundance at pixel \(p)")
                #expect(abs(a.reduce(0, +) - 1) < 1e-4, "abundances at pixel \(p) sum to \(a.reduce(0, +))")
            }
        }
        let mean = sads.reduce(0, +) / Double(sads.count)
        #expect(mean <= 0.10, "\(preset) \(projection): mean SAD \(mean) rad over 5 seeds (\(sads)) exceeds 0.10")
    }

    /// Noise-free mixtures with pure pixels: VCA must find the endmembers exactly.
    @Test func exactOnNoiselessPurePixels() throws {
        let data = SyntheticDataset.generate(.eels3, seed: 11)
        let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.noiselessCube)
        let (result, _) = try runPlugin(vca, cube: cube, r: 3, values: vca.descriptor.parameters.map(\.defaultValue), seed: 0)
        let match = matchEndmembers(truth: data.endmembers, estimate: result.endmembers, r: 3, bands: data.bands)
        #expect(match.sad.allSatisfy { $0 < 1e-3 }, "SAD on noiseless data: \(match.sad)")
    }
}
