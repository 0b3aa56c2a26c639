import CUnmix
import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The abundance constraints a plugin declares (`UNMIX_CAP_ABUNDANCES_NONNEGATIVE`,
/// `…_SUM_TO_ONE`) hold on a small cube, and the plugins declare what their method guarantees.
@Suite struct CapabilityPromiseTests {
    static let nonnegative = UInt64(UNMIX_CAP_ABUNDANCES_NONNEGATIVE)
    static let sumToOne = UInt64(UNMIX_CAP_ABUNDANCES_SUM_TO_ONE)

    /// What each first-party plugin and the examples declare, from reading their methods: FCLS
    /// (VCA, BLU), softmax outputs (MTAEU, CNNAEU, the Swift example) and BS (clipped maps
    /// divided by their sum) both; NMF, uDAS
    /// (ReLU encoder), DAEU (its sum-to-one layer leaves a pixel whose codes are all thresholded
    /// away at zero) and the C example (NNLS, sum to one only with a parameter) non-negative
    /// only; ICA neither.
    static let declared: [(library: String, promises: UInt64)] = [
        ("libunmix_vca.so", nonnegative | sumToOne), ("libunmix_blu.so", nonnegative | sumToOne),
        ("libunmix_mtaeu.so", nonnegative | sumToOne), ("libunmix_cnnaeu.so", nonnegative | sumToOne),
        ("libexample_shallowae.so", nonnegative | sumToOne), ("libunmix_bs.so", nonnegative | sumToOne),
        ("libunmix_nmf.so", nonnegative), ("libunmix_udas.so", nonnegative), ("libunmix_daeu.so", nonnegative),
        ("libunmix_ica.so", 0),
    ]

    @Test(arguments: declared)
    func declaredPromisesHoldOnASmallCube(_ library: String, _ promises: UInt64) throws {
        let plugin = PluginUnderTest.built(path: builtProductsDirectory().appendingPathComponent(library).path)
        let loaded = try plugin.load()
        let caps = loaded.descriptor.capabilities & (Self.nonnegative | Self.sumToOne)
        #expect(caps == promises, "\(library) declares \(caps), expected \(promises)")
        let instance = try PluginInstance(loaded)
        try instance.setParameters(quickParameterValues(loaded.descriptor), seed: 3)
        let cube = smallSyntheticCube(seed: 3)
        let r = 3
        _ = try instance.fit(cube, r: r)
        for (k, target) in [cube, smallSyntheticCube(seed: 4, side: 8)].enumerated() {
            let a = try instance.abundances(target)
            if caps & Self.nonnegative != 0, let i = a.firstIndex(where: { $0 < 0 }) {
                Issue.record("\(library), cube \(k): abundance \(a[i]) at \(i) is negative")
            }
            if caps & Self.sumToOne != 0 {
                var worst: Float = 0
                for p in 0..<target.pixels {
                    let total: Float = a[(p * r)..<(p * r + r)].reduce(0, +)
                    worst = max(worst, abs(total - 1))
                }
                #expect(worst <= 1e-3, "\(library), cube \(k): a pixel's abundances sum to 1 ± \(worst)")
            }
        }
    }

    @Test func theCExampleDeclaresNonNegativeAbundancesAndState() throws {
        let d = try PluginUnderTest.cExample.load().descriptor
        #expect(d.capabilities & Self.nonnegative != 0 && d.capabilities & Self.sumToOne == 0, "capabilities \(d.capabilities)")
        #expect(d.canSaveState, "the C example saves its state")
    }
}
