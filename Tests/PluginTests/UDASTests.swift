import Foundation
import Testing
import UnmixHost
import _TestSupport

/// uDAS through the real loader on the eels3 preset.
@Suite struct UDASTests {
    let udas: PluginLibrary

    init() throws {
        udas = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_udas.so").path)
    }

    @Test func defaultsAreTheReferenceHyperparameters() {
        let d = Dictionary(uniqueKeysWithValues: udas.descriptor.parameters.map { ($0.id, $0.format($0.defaultValue)) })
        #expect(d["layers"] == "12" && d["noise"] == "1e-05" && d["ridge"] == "1" && d["cascade"] == "composed"
                && d["vca_runs"] == "1" && d["iterations"] == "10" && d["gamma"] == "0.0001"
                && d["sparsity"] == "1e-06" && d["sum_weight"] == "20" && d["reference_gradient"] == "false", "\(d)")
    }

    @Test(arguments: [[String](), ["cascade=last", "reference_gradient=true"], ["vca_runs=3"]])
    func unmixesEels3(settings: [String]) throws {
        var sads = [Double](), nmses = [Double]()
        for seed in UInt64(1)...2 {
            let data = SyntheticDataset.generate(.eels3, seed: seed)
            let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
            let values = try resolveParameters(udas.descriptor, settings: settings)
            let (result, _) = try runPlugin(udas, cube: cube, r: data.r, values: values, seed: seed)
            let truth = GroundTruth(r: data.r, endmembers: data.endmembers, abundances: data.abundances, source: "memory")
            let score = Score(truth: truth, result: result, pixels: cube.pixels, bands: cube.bands)
            sads.append(score.sadMean)
            nmses.append(score.nmseMean)
            print("uDAS \(settings) seed \(seed): SAD \(score.sad) NMSE \(score.nmse)")
        }
        let sad = sads.reduce(0, +) / 2, nmse = nmses.reduce(0, +) / 2
        #expect(sad < 1, "mean SAD \(sad) (\(sads))")
        #expect(nmse < 10, "mean NMSE \(nmse) (\(nmses))")
    }
}
