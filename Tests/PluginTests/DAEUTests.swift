import Foundation
import Testing
import UnmixHost
import _TestSupport

/// DAEU through the real loader, at reduced training budget (a debug build trains ~20× slower
/// than release; the full-budget figures are in the issue notes, measured with `unmix compare`).
@Suite struct DAEUTests {
    let daeu: PluginLibrary

    init() throws {
        daeu = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_daeu.so").path)
    }

    @Test func defaultsAreTheReferenceHyperparameters() {
        let d = Dictionary(uniqueKeysWithValues: daeu.descriptor.parameters.map { ($0.id, $0.format($0.defaultValue)) })
        #expect(d["epochs"] == "40" && d["batch_size"] == "6" && d["learning_rate"] == "0.001"
                && d["training_spectra"] == "2000" && d["leaky_alpha"] == "0.1" && d["loss"] == "notebook_sad", "\(d)")
    }

    /// eels3 at 10 epochs on 1000 spectra: endmembers within 0.15 rad (the bound for the
    /// full budget), abundances on the simplex, the same seed giving the same result.
    @Test func learnsEels3() throws {
        let data = SyntheticDataset.generate(.eels3, seed: 2)
        let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
        let values = try resolveParameters(daeu.descriptor, settings: ["epochs=10", "training_spectra=1000"])
        let (first, _) = try runPlugin(daeu, cube: cube, r: 3, values: values, seed: 4)
        let truth = GroundTruth(r: 3, endmembers: data.endmembers, abundances: data.abundances, source: "memory")
        let score = Score(truth: truth, result: first, pixels: cube.pixels, bands: cube.bands)
        #expect(score.sadMean < 0.15, "mean SAD \(score.sadMean) (\(score.sad))")
        for p in 0..<cube.pixels {
            let a = first.abundances[(p * 3)..<((p + 1) * 3)]
            #expect(a.allSatisfy { $0 >= 0 } && abs(a.reduce(0, +) - 1) < 1e-4, "pixel \(p): \(Array(a))")
        }
        let (second, _) = try runPlugin(daeu, cube: cube, r: 3, values: values, seed: 4)
        #expect(second.endmembers == first.endmembers && second.abundances == first.abundances)
    }
}
