import Foundation
import Testing
import UnmixHost
import _TestSupport

/// CNNAEU through the real loader, at reduced training budget (a debug build trains much slower
/// than release; the full-budget figures are in the issue notes, measured with `unmix compare`).
@Suite struct CNNAEUTests {
    let cnnaeu: PluginLibrary

    init() throws {
        cnnaeu = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_cnnaeu.so").path)
    }

    @Test func defaultsAreTheReferenceHyperparameters() {
        let d = Dictionary(uniqueKeysWithValues: cnnaeu.descriptor.parameters.map { ($0.id, $0.format($0.defaultValue)) })
        #expect(d["epochs"] == "320" && d["batch_size"] == "15" && d["learning_rate"] == "0.003"
                && d["patches"] == "-1" && d["patch_size"] == "40" && d["decoder_size"] == "13" && d["filters"] == "48"
                && d["leaky_alpha"] == "0.02" && d["dropout"] == "0.2" && d["softmax_scale"] == "3"
                && d["init_std"] == "0.3" && d["loss"] == "elementwise_arccos", "\(d)")
    }

    /// eels3 on a small budget (["epochs=30", "patches=10", "patch_size=16"]): endmembers within 0.5 rad on average, abundances
    /// a softmax (positive, summing to one), and the same seed giving the same result.
    @Test func learnsEels3() throws {
        let data = SyntheticDataset.generate(.eels3, seed: 2)
        let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
        let values = try resolveParameters(cnnaeu.descriptor, settings: ["epochs=30", "patches=10", "patch_size=16"])
        let (first, _) = try runPlugin(cnnaeu, cube: cube, r: 3, values: values, seed: 4)
        let truth = GroundTruth(r: 3, endmembers: data.endmembers, abundances: data.abundances, source: "memory")
        let score = Score(truth: truth, result: first, pixels: cube.pixels, bands: cube.bands)
        print("CNNAEU test: mean SAD \(score.sadMean) (\(score.sad))")
        #expect(score.sadMean < 0.5, "mean SAD \(score.sadMean) (\(score.sad))")
        for p in 0..<cube.pixels {
            let a = first.abundances[(p * 3)..<((p + 1) * 3)]
            #expect(a.allSatisfy { $0 > 0 } && abs(a.reduce(0, +) - 1) < 1e-5, "pixel \(p): \(Array(a))")
        }
        let (second, _) = try runPlugin(cnnaeu, cube: cube, r: 3, values: values, seed: 4)
        #expect(second.endmembers == first.endmembers && second.abundances == first.abundances)
    }
}
