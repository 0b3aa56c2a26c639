import Foundation
import Testing
import UnmixHost
import _TestSupport

/// ICA through the real loader, on the paper's synthetic presets.
@Suite struct ICATests {
    let ica: PluginLibrary

    init() throws {
        ica = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_ica.so").path)
    }

    func score(_ preset: SyntheticPreset, seed: UInt64, mode: String) throws -> (Score, RunResult) {
        let data = SyntheticDataset.generate(preset, seed: seed)
        let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
        let values = try resolveParameters(ica.descriptor, settings: ["mode=\(mode)"])
        let (result, _) = try runPlugin(ica, cube: cube, r: data.r, values: values, seed: seed)
        let truth = GroundTruth(r: data.r, endmembers: data.endmembers, abundances: data.abundances, source: "memory")
        return (Score(truth: truth, result: result, pixels: cube.pixels, bands: cube.bands), result)
    }

    /// eels3, cube seeds 1…5, both modes: finite results and quality no worse than measured.
    /// ICA is not an abundance-constrained method (the paper finds it among the worst, on NMSE
    /// above all), so these bounds do not claim quality: they guard against regressions.
    /// Measured (seeds 1…5): hyperspy SAD 0.484, 0.490, 0.456, 0.510, 0.483 (mean 0.485), NMSE
    /// mean 102 (the loadings are U·S, on the scale of the counts, against fractions in [0, 1]);
    /// sklearn SAD 0.775, 0.852, 0.989, 1.081, 0.799 (mean 0.899), NMSE mean 4.6. The HyperSpy
    /// pipeline re-implemented with numpy + scikit-learn (Benchmarks/python/ica_baseline.py) gives
    /// 0.4839 on seed 1, as here. Bounds: the mean plus ~0.06 (hyperspy, deterministic up to
    /// rounding: the SVD is unique and FastICA on 199 × 3 signals finds the same optimum from any
    /// start) and ~0.2 (sklearn, whose per-seed spread is wider: local optima of a 4096-sample ICA).
    @Test(arguments: [("hyperspy", 0.55), ("sklearn", 1.10)])
    func qualityOnEels3(mode: String, bound: Double) throws {
        var sads = [Double](), nmses = [Double]()
        for seed in UInt64(1)...5 {
            let (score, result) = try score(.eels3, seed: seed, mode: mode)
            #expect(result.endmembers.allSatisfy(\.isFinite) && result.abundances.allSatisfy(\.isFinite),
                    "\(mode) seed \(seed): non-finite output")
            sads.append(score.sadMean)
            nmses.append(score.nmseMean)
        }
        let sad = sads.reduce(0, +) / 5, nmse = nmses.reduce(0, +) / 5
        #expect(sad <= bound, "\(mode): mean SAD \(sad) rad over 5 seeds (\(sads)) exceeds \(bound)")
        #expect(nmse.isFinite, "\(mode): NMSE \(nmses)")
    }

    /// Same seed → same endmembers and abundances, in both modes (and in both, a finite result).
    @Test(arguments: ["hyperspy", "sklearn"])
    func sameSeedSameResult(mode: String) throws {
        let (_, a) = try score(.eels3, seed: 4, mode: mode)
        let (_, b) = try score(.eels3, seed: 4, mode: mode)
        #expect(a.endmembers == b.endmembers, "\(mode): endmembers differ between two runs with seed 4")
        #expect(a.abundances == b.abundances, "\(mode): abundances differ between two runs with seed 4")
    }

    /// On another cube the abundances are the least-squares coefficients on the fitted endmembers.
    /// In the hyperspy mode those reproduce the BSS loadings of the fitted cube (L = X·V, and the
    /// BSS factors span V): perturbing one value of the fitted cube (another cube to the plugin)
    /// must give back the fitted loadings to single-precision accuracy.
    @Test func abundancesOfANewCubeAreLeastSquares() throws {
        let data = SyntheticDataset.generate(.eels3, seed: 2)
        let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
        var values2 = data.cube
        values2[0] += 1e-3
        let other = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: values2)
        let instance = try PluginInstance(ica)
        try instance.setParameters(ica.descriptor.parameters.map(\.defaultValue), seed: 2)
        _ = try instance.fit(cube, r: data.r)
        let fitted = try instance.abundances(cube)
        let projected = try instance.abundances(other)
        let scale = fitted.map { abs($0) }.max()!
        var worst: Float = 0
        for (x, y) in zip(fitted, projected) { worst = max(worst, abs(x - y) / scale) }
        #expect(worst < 1e-4, "least-squares abundances differ from the fitted loadings by \(worst) (relative to max |loading| \(scale))")
        #expect(projected.allSatisfy { $0.isFinite }, "non-finite least-squares abundances")
    }
}
