import CUnmix
import Foundation
import Testing
import UnmixHost
import _TestSupport

/// BLU through the real loader, on small crops so a debug build stays fast.
@Suite struct BLUTests {
    let blu: PluginLibrary

    init() throws {
        blu = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_blu.so").path)
    }

    /// The 16 × 16 crop at (32, 32) of eels3 seed 1 (all three endmembers reach ≥ 0.93 there),
    /// its ground truth, and its cube.
    static func crop() -> (cube: CubeData, truth: GroundTruth) {
        let data = SyntheticDataset.generate(.eels3, seed: 1)
        let size = 16, origin = 32
        var values = [Float](), abundances = [Float]()
        for i in origin..<(origin + size) {
            for j in origin..<(origin + size) {
                let pixel = i * data.cols + j
                values += data.cube[(pixel * data.bands)..<((pixel + 1) * data.bands)]
                abundances += data.abundances[(pixel * data.r)..<((pixel + 1) * data.r)]
            }
        }
        return (CubeData(rows: size, cols: size, bands: data.bands, values: values),
                GroundTruth(r: data.r, endmembers: data.endmembers, abundances: abundances, source: "memory"))
    }

    func values(_ settings: [String]) throws -> [Double] {
        try resolveParameters(blu.descriptor, settings: settings)
    }

    /// 30 sweeps on the crop: endmembers within 0.05 rad of the truth on average (measured 0.022)
    /// and no worse than the VCA start by more than 0.005 rad, abundances on the simplex (the
    /// sampler keeps every draw there, and so does their mean).
    @Test func qualityAndSimplexOnACrop() throws {
        let (cube, truth) = Self.crop()
        let (result, _) = try runPlugin(blu, cube: cube, r: 3, values: values(["iterations=30"]), seed: 1)
        let score = Score(truth: truth, result: result, pixels: cube.pixels, bands: cube.bands)
        #expect(score.sadMean <= 0.05, "mean SAD \(score.sadMean) rad exceeds 0.05")
        let vca = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_vca.so").path)
        let (start, _) = try runPlugin(vca, cube: cube, r: 3, values: vca.descriptor.parameters.map(\.defaultValue), seed: 1)
        let vcaSAD = Score(truth: truth, result: start, pixels: cube.pixels, bands: cube.bands).sadMean
        #expect(score.sadMean <= vcaSAD + 0.005, "BLU mean SAD \(score.sadMean) rad, VCA \(vcaSAD) rad")
        #expect(result.endmembers.allSatisfy { $0.isFinite && $0 >= 0 }, "endmembers must be finite and non-negative")
        for p in 0..<cube.pixels {
            let a = result.abundances[(p * 3)..<((p + 1) * 3)]
            #expect(a.allSatisfy { $0 >= 0 }, "negative abundance at pixel \(p): \(Array(a))")
            #expect(abs(a.reduce(0, +) - 1) < 1e-4, "abundances at pixel \(p) sum to \(a.reduce(0, +))")
        }
    }

    /// Same seed → bit-identical endmembers and abundances, whatever the thread scheduling;
    /// another seed → different draws.
    @Test func deterministicForASeed() throws {
        let (cube, _) = Self.crop()
        let v = try values(["iterations=6"])
        let (first, _) = try runPlugin(blu, cube: cube, r: 3, values: v, seed: 7)
        let (second, _) = try runPlugin(blu, cube: cube, r: 3, values: v, seed: 7)
        let (other, _) = try runPlugin(blu, cube: cube, r: 3, values: v, seed: 8)
        #expect(first.endmembers == second.endmembers, "endmembers differ between two runs with seed 7")
        #expect(first.abundances == second.abundances, "abundances differ between two runs with seed 7")
        #expect(first.abundances != other.abundances, "seeds 7 and 8 gave the same abundances")
    }

    /// burn_in ≥ iterations keeps no sample: refused at fit with a message naming both.
    @Test func burnInNotBelowIterationsIsRefused() throws {
        let (cube, _) = Self.crop()
        let error = #expect(throws: UnmixError.self) {
            _ = try runPlugin(blu, cube: cube, r: 3, values: values(["iterations=5", "burn_in=5"]), seed: 0)
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("burn_in") && text.contains("iterations"), "message: \(text)")
        #expect(text.contains("invalid"), "expected an invalid-argument status, got: \(text)")
    }

    /// A host that asks to stop after a few checks: fit returns UNMIX_ERR_CANCELLED mid-sampling,
    /// having reported progress before.
    @Test func cancelIsHonoured() throws {
        let path = builtProductsDirectory().appendingPathComponent("libunmix_blu.so").path
        let (cube, _) = Self.crop()
        let fit = try fitWithCancellingHost(path: path, values: try values(["iterations=1000"]), cube: cube, r: 3,
                                            allowedChecks: 8)
        #expect(fit.status == unmix_status(UNMIX_ERR_CANCELLED), "fit returned \(fit.status), expected cancelled (\(UNMIX_ERR_CANCELLED))")
        #expect(fit.progressReports >= 1, "no progress reported before the cancel")
    }
}
