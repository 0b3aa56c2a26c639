import Foundation
import Testing
import UnmixHost
import _TestSupport

@Suite struct MetricsTests {
    @Test(arguments: [
        ([1, 0], [1, 1], Double.pi / 4),
        ([1, 0], [0, 3], Double.pi / 2),
        ([2, 2, 2], [5, 5, 5], 0),
        ([1, 2], [-1, -2], Double.pi),
        ([0, 0], [1, 1], Double.pi / 2), // a zero vector
        ([1, 0, 0], [1, 1, 1], acos(1 / 3.0.squareRoot())),
    ] as [([Float], [Float], Double)])
    func spectralAngleOfHandComputedVectors(a: [Float], b: [Float], expected: Double) {
        expectClose(spectralAngle(a, b), expected, tolerance: 1e-7, "angle between \(a) and \(b)")
    }

    @Test func spectralAngleOnSlices() {
        let rows: [Float] = [9, 9, 1, 0, 9, 1, 1, 9]
        expectClose(spectralAngle(rows[2..<4], rows[5..<7]), Double.pi / 4, tolerance: 1e-7, "angle between slices")
    }

    @Test func matchingAPermutedEstimate() {
        let bands = 4
        let truth: [Float] = [1, 2, 3, 4, /**/ 4, 1, 0, 0, /**/ 0, 0, 1, 5]
        // Estimated endmember j is true endmember order[j], scaled (the angle ignores scale).
        let order = [2, 0, 1]
        let estimate = order.enumerated().flatMap { j, k in truth[(k * bands)..<((k + 1) * bands)].map { $0 * Float(j + 2) } }
        let match = matchEndmembers(truth: truth, estimate: estimate, r: 3, bands: bands)
        #expect(match.permutation == [1, 2, 0], "true k should map to estimated j with order[j] == k")
        for (k, sad) in match.sad.enumerated() { expectClose(sad, 0, tolerance: 1e-3, "SAD of endmember \(k)") }
    }

    @Test func matchingPrefersTheGlobalOptimum() {
        // Pairing the smallest angle first would match true 1 with estimate 0 (0.098 rad) and leave
        // true 0 with estimate 1 (π/2), total 1.67; the optimum pairs 0–0 and 1–1, total 1.47.
        let truth: [Float] = [1, 0, /**/ 1, 0.2]
        let estimate: [Float] = [1, 0.1, /**/ 0, 1]
        let match = matchEndmembers(truth: truth, estimate: estimate, r: 2, bands: 2)
        #expect(match.permutation == [0, 1])
        expectClose(match.sad[0], atan(0.1), tolerance: 1e-6, "SAD of true 0")
        expectClose(match.sad[1], Double.pi / 2 - atan(0.2), tolerance: 1e-6, "SAD of true 1")
    }

    @Test func nmseHandComputed() {
        // Three pixels, two maps. Truth map 0 = (1, 0, 0.5), map 1 = (0, 1, 0.5).
        let truth: [Float] = [1, 0, /**/ 0, 1, /**/ 0.5, 0.5]
        // Estimate stores the maps swapped: estimated map 1 ≈ true map 0, estimated map 0 ≈ true map 1.
        let estimate: [Float] = [0, 0.5, /**/ 1, 0, /**/ 0.5, 0.5]
        let nmse = abundanceNMSE(truth: truth, estimate: estimate, pixels: 3, r: 2, permutation: [1, 0])
        // Map 0: (1 − 0.5)² / (1 + 0.25) = 0.2. Map 1: 0 (identical).
        #expect(nmse.count == 2)
        expectClose(nmse[0], 0.2, tolerance: 1e-12, "NMSE of map 0")
        expectClose(nmse[1], 0, tolerance: 1e-12, "NMSE of map 1")
        // Without the permutation both maps are far off: map 0 → (1 + 1 + 0) / 1.25 = 1.6.
        let unpermuted = abundanceNMSE(truth: truth, estimate: estimate, pixels: 3, r: 2, permutation: [0, 1])
        expectClose(unpermuted[0], 1.6, tolerance: 1e-12, "NMSE of map 0 unpermuted")
    }

    @Test func nmseOfAnAllZeroTruthMap() {
        let nmse = abundanceNMSE(truth: [1, 0, 1, 0], estimate: [1, 0, 1, 0.5], pixels: 2, r: 2, permutation: [0, 1])
        #expect(nmse == [0, .infinity])
    }

    @Test func rmseHandComputed() {
        // Two pixels, three bands, two endmembers.
        let endmembers: [Float] = [1, 2, 3, /**/ 0, 1, 0]
        let abundances: [Float] = [0.5, 0.5, /**/ 1, 0]
        // A·E = (0.5, 1.5, 1.5), (1, 2, 3); residuals (0.5, 0, −0.5), (0, 1, 0): mean square 1.5 / 6.
        let cube: [Float] = [1, 1.5, 1, /**/ 1, 3, 3]
        let rmse = reconstructionRMSE(cube: cube, pixels: 2, bands: 3, endmembers: endmembers,
                                      abundances: abundances, r: 2)
        expectClose(rmse, 0.5, tolerance: 1e-7, "RMSE")
        let perfect = reconstructionRMSE(cube: [0.5, 1.5, 1.5, 1, 2, 3], pixels: 2, bands: 3, endmembers: endmembers,
                                         abundances: abundances, r: 2)
        expectClose(perfect, 0, tolerance: 1e-7, "RMSE of an exact model")
    }

    /// Many pixels, so the blocked BLAS product covers several blocks.
    @Test func rmseOverSeveralBlocks() {
        let pixels = 3000, bands = 500
        let endmembers = [Float](repeating: 1, count: bands)
        let abundances = [Float](repeating: 1, count: pixels)
        // Residual alternates ±2 by pixel, so the RMSE is exactly 2.
        let cube = (0..<(pixels * bands)).map { i in Float(1 + ((i / bands) % 2 == 0 ? 2 : -2)) }
        let rmse = reconstructionRMSE(cube: cube, pixels: pixels, bands: bands, endmembers: endmembers,
                                      abundances: abundances, r: 1)
        expectClose(rmse, 2, tolerance: 1e-9, "RMSE over blocks")
    }
}
