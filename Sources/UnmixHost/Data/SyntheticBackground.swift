import Foundation
import UnmixNumerics

// The eels3-bg preset: what the paper's presets leave out of real core-loss data. Real spectra
// sit on a power-law background A·E^−r that dominates the edges and changes from pixel to
// pixel with the specimen's thickness; some phases never appear pure. Here:
//
//     x_p(E) = a_p · counts · (E / 250 eV)^−r_p  +  Σ_k A_pk · (1 + v · g_pk) · S_k(E),  Poisson
//
// with a_p ∈ [0.6, 1.4] and r_p ∈ [2.6, 3.4] smooth fields over the map, S_k the edges alone
// (in counts, on the scale of the background: a Ru M4,5 jump of 0.6 of the background at
// 279 eV, O K and Co L2,3 a few per cent of it), and A the abundances: Ru and Co from the
// paper's smoothed block maps, O K a smooth field in [0, 0.6] that takes its share from both.
// `v` (the `variability`, default 0) adds a smooth per-pixel change of each edge's intensity.
// The truth is A and S: what unmixing should find once the background is dealt with.

extension SyntheticDataset {
    /// The amplitude and exponent ranges of the background fields.
    public static let backgroundAmplitudes = 0.6...1.4
    public static let backgroundExponents = 2.6...3.4
    /// The largest abundance of the component with no pure pixel (O K, index 1).
    public static let mixedOnlyMaximum = 0.6

    /// Generates eels3-bg: maps and background fields from `RandomStream(seed:)` and its splits,
    /// noise from `split(1)`, so the maps and fields depend on the seed only.
    static func generateWithBackground(seed: UInt64, counts: Double, variability: Double) -> SyntheticDataset {
        let preset = SyntheticPreset.eels3bg
        let size = mapSize, pixels = size * size, r = preset.endmemberCount
        let energy = preset.energy, bands = energy.count
        var fields = RandomStream(seed: seed).split(2)
        // Ru and Co: the paper's block maps for two labels; O K: a smooth share taken from both.
        let twoMaps = abundanceMaps(labels: blockLabels(r: 2, seed: seed), r: 2)
        let oxygen = smoothField(&fields).map { mixedOnlyMaximum * Swift.max(0, $0) }
        var abundances = [Float](repeating: 0, count: pixels * r)
        for p in 0..<pixels {
            let o = oxygen[p]
            abundances[p * r + 0] = Float((1 - o) * Double(twoMaps[p * 2 + 0]))
            abundances[p * r + 1] = Float(o)
            abundances[p * r + 2] = Float((1 - o) * Double(twoMaps[p * 2 + 1]))
        }
        let amplitude = smoothField(&fields).map { lerp(backgroundAmplitudes, $0) }
        let exponent = smoothField(&fields).map { lerp(backgroundExponents, $0) }
        let edgeChange = (0..<r).map { _ in smoothField(&fields) }

        let edges = EELSModel.spectra(preset, energy: energy).map { $0.map { $0 * counts } }
        let endmembers = edges.flatMap { $0.map(Float.init) }
        let logEnergy = energy.map { log($0 / energy[0]) }
        var background = [Float](repeating: 0, count: pixels * bands)
        var cube = [Float](repeating: 0, count: pixels * bands)
        var noise = RandomStream(seed: seed).split(1)
        for p in 0..<pixels {
            for b in 0..<bands {
                let bg = amplitude[p] * counts * exp(-exponent[p] * logEnergy[b])
                var expected = bg
                for k in 0..<r {
                    expected += Double(abundances[p * r + k]) * (1 + variability * edgeChange[k][p]) * edges[k][b]
                }
                background[p * bands + b] = Float(bg)
                cube[p * bands + b] = Float(noise.poisson(expected))
            }
        }
        return SyntheticDataset(rows: size, cols: size, bands: bands, r: r, cube: cube, endmembers: endmembers,
                                abundances: abundances, energy: energy, preset: preset, seed: seed, counts: counts,
                                background: background, variability: variability)
    }

    /// A smooth field over the map with values in [−1, 1]: the product of a sine across the rows
    /// and one across the columns, each of 0.5 to 1.5 periods over the map with a random phase.
    static func smoothField(_ stream: inout RandomStream) -> [Double] {
        let size = mapSize
        let rowPeriods = 0.5 + stream.uniform(), colPeriods = 0.5 + stream.uniform()
        let rowPhase = 2 * Double.pi * stream.uniform(), colPhase = 2 * Double.pi * stream.uniform()
        var field = [Double](repeating: 0, count: size * size)
        for row in 0..<size {
            let u = sin(2 * Double.pi * rowPeriods * Double(row) / Double(size) + rowPhase)
            for col in 0..<size {
                field[row * size + col] = u * sin(2 * Double.pi * colPeriods * Double(col) / Double(size) + colPhase)
            }
        }
        return field
    }

    /// The point of `range` at t ∈ [−1, 1] (−1 → lower bound, 1 → upper bound).
    private static func lerp(_ range: ClosedRange<Double>, _ t: Double) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * (t + 1) / 2
    }
}

extension EELSModel {
    /// eels3-bg's edges without any background, on the scale of a background that is 1 at
    /// 250 eV and falls as E^−3: Ru M4,5 (279 eV, delayed) with M3 and M2, O K (532 eV) with a
    /// π* pre-peak and ELNES, Co L3,2 (779 and 794 eV) white lines on their steps.
    static var eels3Edges: [(Double) -> Double] {
        let onset = 250.0
        let resolution = eels3Resolution
        let ru: (Double) -> Double = { e in
            let m45 = 0.6 * powerLaw(279, from: onset, exponent: 3.0)
                * delayedRise(e - 279, over: 40) * powerLaw(max(e, 279), from: 279, exponent: 2.4)
            let m3 = 0.25 * powerLaw(461, from: onset, exponent: 3.0)
                * step(e - 461, fwhm: resolution) * powerLaw(max(e, 461), from: 461, exponent: 2.4)
            let m2 = 0.12 * powerLaw(483, from: onset, exponent: 3.0)
                * step(e - 483, fwhm: resolution) * powerLaw(max(e, 483), from: 483, exponent: 2.4)
            return m45 + m3 + m2
        }
        let oxygen: (Double) -> Double = { e in
            let x = e - 532
            let jump = 0.5 * powerLaw(532, from: onset, exponent: 3.0)
            let elnes = x > 0 ? 0.3 * exp(-x / 25) * sin(2 * Double.pi * x / 16) : 0
            let sawtooth = step(x, fwhm: resolution) * powerLaw(max(e, 532), from: 532, exponent: 2.5) * (1 + elnes)
            let width = (4.0 * 4.0 + resolution * resolution).squareRoot()
            return jump * (sawtooth + 0.7 * peak(x - 4, fwhm: width))
        }
        let co: (Double) -> Double = { e in
            let scale = 0.5 * powerLaw(779, from: onset, exponent: 3.0)
            let width = (3.0 * 3.0 + resolution * resolution).squareRoot()
            let steps = (0.3 * step(e - 779, fwhm: resolution) + 0.15 * step(e - 794, fwhm: resolution))
                * powerLaw(max(e, 779), from: 779, exponent: 2.6)
            return scale * (steps + 1.2 * peak(e - 780.5, fwhm: width) + 0.6 * peak(e - 795.5, fwhm: width))
        }
        return [ru, oxygen, co]
    }
}
