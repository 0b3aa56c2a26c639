import Foundation
import Testing
import UnmixHost
import _TestSupport

/// NMF through the real loader.
@Suite struct NMFTests {
    let nmf: PluginLibrary

    init() throws {
        nmf = try PluginLibrary.load(path: builtProductsDirectory().appendingPathComponent("libunmix_nmf.so").path)
    }

    func run(_ data: SyntheticDataset, settings: [String] = [], seed: UInt64 = 0) throws -> (RunResult, PluginInstance, CubeData) {
        let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
        let values = try resolveParameters(nmf.descriptor, settings: settings)
        let (result, instance) = try runPlugin(nmf, cube: cube, r: data.r, values: values, seed: seed)
        return (result, instance, cube)
    }

    func score(_ data: SyntheticDataset, _ result: RunResult) -> Score {
        let truth = GroundTruth(r: data.r, endmembers: data.endmembers, abundances: data.abundances, source: "memory")
        return Score(truth: truth, result: result, pixels: data.rows * data.cols, bands: data.bands)
    }

    /// eels3 at default settings (cd, nndsvd, tol 1e-4, 200 iterations). Unconstrained NMF does
    /// not find these endmembers well, and scikit-learn does no better: its mean SAD on the same
    /// cubes (written by `unmix synth --preset eels3 --seed s`, then
    /// `NMF(3, solver='cd', init='nndsvd', tol=1e-4, max_iter=200).fit_transform(X)` on the
    /// float64 pixels × bands matrix, SAD after Hungarian matching as nmf_baseline.py) is
    /// 0.42656 (seed 1), 0.42399 (2), 0.42348 (3). Ours must match each within 0.005 rad, which
    /// pins the solver to the reference; measured: equal to 4 decimals (0.4266, 0.4240, 0.4235).
    /// NMSE depends on the arbitrary scale of NMF's components: ~80 as returned (HyperSpy's
    /// loadings), 1.05–1.29 with sum_to_one (seeds 1–5); bounded here at 1.5 with sum_to_one,
    /// whose SAD is the same (rescaling components changes no direction).
    @Test(arguments: [(UInt64(1), 0.42656), (2, 0.42399), (3, 0.42348)])
    func eels3MatchesScikitLearn(seed: UInt64, reference: Double) throws {
        let data = SyntheticDataset.generate(.eels3, seed: seed)
        let (result, _, _) = try run(data, seed: seed)
        #expect(result.endmembers.allSatisfy { $0.isFinite && $0 >= 0 }, "endmembers must be finite and ≥ 0")
        #expect(result.abundances.allSatisfy { $0.isFinite && $0 >= 0 }, "abundances must be finite and ≥ 0")
        let s = score(data, result)
        #expect(abs(s.sadMean - reference) <= 0.005, "seed \(seed): mean SAD \(s.sadMean), scikit-learn \(reference)")
        #expect(s.nmseMean.isFinite, "seed \(seed): NMSE \(s.nmseMean)")

        let (normalised, _, _) = try run(data, settings: ["sum_to_one=true"], seed: seed)
        let n = score(data, normalised)
        #expect(abs(n.sadMean - s.sadMean) < 1e-4, "sum_to_one changed SAD: \(n.sadMean) vs \(s.sadMean)")
        #expect(n.nmseMean < 1.5, "seed \(seed): NMSE with sum_to_one \(n.nmseMean) ≥ 1.5 (as returned: \(s.nmseMean))")
    }

    /// Random initialisation: the same seed gives bit-identical results, another seed differs.
    @Test func sameSeedSameResult() throws {
        let data = SyntheticDataset.generate(.eels3, seed: 7)
        let settings = ["init=random", "max_iter=20"]
        let (a, _, _) = try run(data, settings: settings, seed: 3)
        let (b, _, _) = try run(data, settings: settings, seed: 3)
        let (c, _, _) = try run(data, settings: settings, seed: 4)
        #expect(a.endmembers == b.endmembers && a.abundances == b.abundances, "seed 3 twice gave different results")
        #expect(a.endmembers != c.endmembers, "seeds 3 and 4 gave the same endmembers")
    }

    /// sum_to_one: every pixel's abundances are ≥ 0 and sum to one, on the fitted cube and on
    /// another cube (solved with H fixed), for both solvers.
    @Test(arguments: ["cd", "mu"])
    func sumToOneRows(solver: String) throws {
        let data = SyntheticDataset.generate(.eels3, seed: 2)
        let (result, instance, _) = try run(data, settings: ["sum_to_one=true", "solver=\(solver)", "max_iter=50"])
        let other = SyntheticDataset.generate(.eels3, seed: 9)
        let otherCube = CubeData(rows: other.rows, cols: other.cols, bands: other.bands, values: other.cube)
        let fresh = try instance.abundances(otherCube)
        for (name, a) in [("fitted", result.abundances), ("other", fresh)] {
            for p in 0..<(data.rows * data.cols) {
                let row = a[(p * data.r)..<((p + 1) * data.r)]
                #expect(row.allSatisfy { $0 >= 0 }, "\(name) cube: negative abundance at pixel \(p): \(Array(row))")
                #expect(abs(row.reduce(0, +) - 1) < 1e-5, "\(name) cube: pixel \(p) sums to \(row.reduce(0, +))")
            }
        }
    }

    /// Abundances of a new cube come from the W-only solve; on the fitted cube's own data (a
    /// copy, so not the same buffer) they equal the fitted W, which that solve reproduces to
    /// within the solver's tolerance (both are minimisers of the same convex problem in W).
    @Test func abundancesOfAnotherCopyOfTheData() throws {
        let data = SyntheticDataset.generate(.eels3, seed: 4)
        let (result, instance, cube) = try run(data, settings: ["max_iter=100"])
        let again = try instance.abundances(CubeData(rows: cube.rows, cols: cube.cols, bands: cube.bands, values: cube.values))
        #expect(again == result.abundances, "the fitted cube (same values) must give the fitted W exactly")
        var changed = cube.values
        changed[0] += 1
        let solved = try instance.abundances(CubeData(rows: cube.rows, cols: cube.cols, bands: cube.bands, values: changed))
        var worst = 0.0, scale = 0.0
        for i in solved.indices {
            worst = max(worst, Double(abs(solved[i] - result.abundances[i])))
            scale = max(scale, Double(abs(result.abundances[i])))
        }
        #expect(worst <= 0.05 * scale, "W-only solve differs from the fitted W by \(worst) (largest entry \(scale))")
    }
}
