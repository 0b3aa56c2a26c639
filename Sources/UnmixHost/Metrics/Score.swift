import Foundation

/// SAD and NMSE of one run against the truth, after Hungarian matching on SAD.
public struct Score: Sendable {
    public var sad: [Double]
    public var nmse: [Double]
    public var sadMean: Double { sad.reduce(0, +) / Double(sad.count) }
    public var nmseMean: Double { nmse.reduce(0, +) / Double(nmse.count) }

    public init(truth: GroundTruth, result: RunResult, pixels: Int, bands: Int) {
        let match = matchEndmembers(truth: truth.endmembers, estimate: result.endmembers, r: truth.r, bands: bands)
        sad = match.sad
        nmse = abundanceNMSE(truth: truth.abundances, estimate: result.abundances, pixels: pixels, r: truth.r,
                             permutation: match.permutation)
    }
}
