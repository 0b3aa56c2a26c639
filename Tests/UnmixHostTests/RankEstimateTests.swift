import Foundation
import Testing
import UnmixHost
import UnmixNumerics
import _TestSupport

/// The noise of a generated cube.
enum TestNoise: CustomStringConvertible, Sendable {
    /// White-ish Gaussian noise (each band's σ within ±50 % of the mean) at this SNR in dB
    /// (10 log₁₀ of signal power over noise power).
    case gaussian(snr: Double)
    /// Poisson counts, the brightest endmember value scaled to `peak` counts.
    case poisson(peak: Double)

    var description: String {
        switch self {
        case .gaussian(let snr): return "gaussian \(Int(snr)) dB"
        case .poisson(let peak): return "poisson \(Int(peak)) counts"
        }
    }
}

/// A cube of known rank: `r` smooth non-negative endmembers (sums of Gaussian bumps over a
/// small offset) over `bands` bands, Dirichlet(1, …, 1) abundances for `pixels` pixels, noise.
func knownRankCube(r: Int, bands: Int = 100, pixels: Int = 4096, noise: TestNoise, seed: UInt64) -> CubeData {
    var rng = RandomStream(seed: seed &* 7919 &+ UInt64(r))
    var endmembers = [Double](repeating: 0, count: r * bands)
    for k in 0..<r {
        let offset = 0.05 + 0.1 * rng.uniform()
        for b in 0..<bands { endmembers[k * bands + b] = offset }
        for _ in 0..<5 {
            let (centre, width, height) = (rng.uniform() * Double(bands), 3 + rng.uniform() * 15, 0.2 + rng.uniform())
            for b in 0..<bands { endmembers[k * bands + b] += height * exp(-0.5 * pow((Double(b) - centre) / width, 2)) }
        }
    }
    let peak = endmembers.max()!
    var clean = [Double](repeating: 0, count: pixels * bands)
    var abundance = [Double](repeating: 0, count: r)
    for p in 0..<pixels {
        for k in 0..<r { abundance[k] = -log(rng.uniformPositive()) }
        let sum = abundance.reduce(0, +)
        for k in 0..<r {
            let a = abundance[k] / sum
            for b in 0..<bands { clean[p * bands + b] += a * endmembers[k * bands + b] / peak }
        }
    }
    var values = [Float](repeating: 0, count: pixels * bands)
    switch noise {
    case .gaussian(let snr):
        let power = clean.reduce(0) { $0 + $1 * $1 } / Double(clean.count)
        let sigma = (power / pow(10, snr / 10)).squareRoot()
        let bandSigma = (0..<bands).map { _ in sigma * (0.5 + rng.uniform()) }
        // Rescale so that the mean noise power is exactly sigma².
        let meanSquare = bandSigma.reduce(0) { $0 + $1 * $1 } / Double(bands)
        let scale = sigma / meanSquare.squareRoot()
        for i in values.indices { values[i] = Float(clean[i] + scale * bandSigma[i % bands] * rng.normal()) }
    case .poisson(let counts):
        for i in values.indices { values[i] = Float(rng.poisson(clean[i] * counts)) }
    }
    return CubeData(rows: 64, cols: pixels / 64, bands: bands, values: values)
}

@Suite struct RankEstimateTests {
    static let ranks = Array(2...8)
    static let seeds: [UInt64] = [1, 2, 3, 4, 5]
    /// Moderate noise: HySime must be exact in at least 90 % of the cubes.
    static let moderate: [TestNoise] = [.gaussian(snr: 40), .gaussian(snr: 30), .gaussian(snr: 25), .poisson(peak: 3000), .poisson(peak: 1000)]
    /// Heavy noise (about 20 dB): the weakest endmembers of R = 7, 8 fall below twice the noise
    /// power, and HySime rightly stops short of them; at least 75 %.
    static let heavy: [TestNoise] = [.gaussian(snr: 20), .poisson(peak: 300)]

    /// The success count of HySime over R = 2 … 8 and five seeds at one noise level.
    func successes(_ noise: TestNoise) throws -> (hits: Int, total: Int, misses: [String]) {
        var hits = 0, total = 0
        var misses = [String]()
        for r in Self.ranks {
            for seed in Self.seeds {
                let cube = knownRankCube(r: r, noise: noise, seed: seed)
                let estimate = try RankEstimate.estimate(cube)
                total += 1
                if estimate.r == r { hits += 1 } else { misses.append("R=\(r) seed \(seed) → \(estimate.r)") }
                if case .poisson = noise {
                    #expect(estimate.noiseModel == .poisson, "counts should select the Poisson model: \(estimate.noiseModelReason)")
                } else {
                    #expect(estimate.noiseModel == .additive, "non-integers should select the additive model: \(estimate.noiseModelReason)")
                }
            }
        }
        print("HySime \(noise): \(hits)/\(total) exact; misses: \(misses)")
        return (hits, total, misses)
    }

    @Test(arguments: moderate)
    func hysimeFindsTheRankAtModerateNoise(noise: TestNoise) throws {
        let (hits, total, misses) = try successes(noise)
        #expect(Double(hits) >= 0.9 * Double(total), "\(noise): HySime exact in \(hits)/\(total); misses \(misses)")
    }

    @Test(arguments: heavy)
    func hysimeMostlyFindsTheRankAtHeavyNoise(noise: TestNoise) throws {
        let (hits, total, misses) = try successes(noise)
        #expect(Double(hits) >= 0.75 * Double(total), "\(noise): HySime exact in \(hits)/\(total); misses \(misses)")
        // When it misses, it misses low (the weak components), never by more than 2.
        for miss in misses { #expect(!miss.contains("→ 9") && !miss.contains("→ 10"), "overestimate: \(miss)") }
    }

    /// The synthetic EELS presets at their default counts (Poisson): the true rank, from the
    /// Poisson model chosen automatically, on seeds 1 … 5.
    @Test(arguments: [SyntheticPreset.eels3, .eels4])
    func syntheticPresetsAtDefaultCounts(preset: SyntheticPreset) throws {
        var found = [Int](), elbows = [Int]()
        for seed in Self.seeds {
            let data = SyntheticDataset.generate(preset, seed: seed)
            let cube = CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)
            let estimate = try RankEstimate.estimate(cube)
            #expect(estimate.noiseModel == .poisson, "\(preset) seed \(seed): \(estimate.noiseModelReason)")
            found.append(estimate.r)
            elbows.append(estimate.scree.r)
        }
        print("\(preset) seeds 1–5: HySime \(found), elbow \(elbows)")
        #expect(found.allSatisfy { $0 == preset.endmemberCount }, "\(preset): HySime found \(found) on seeds 1–5, truth \(preset.endmemberCount)")
    }

    /// eels3-bg: the power-law background, whose amplitude and exponent vary across the map, is
    /// not a mixture of the three edges: it adds its own dimensions to the signal subspace, and
    /// HySime counts them (R = 5 on seeds 1–5 when measured). R is the rank of the data, not the
    /// number of materials: estimate after the background is removed.
    @Test func backgroundAddsDimensions() throws {
        for seed in Self.seeds.prefix(2) {
            let data = SyntheticDataset.generate(.eels3bg, seed: seed)
            let estimate = try RankEstimate.estimate(CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube))
            #expect(estimate.r > data.r && estimate.r <= data.r + 3, "eels3bg seed \(seed): HySime R = \(estimate.r), \(data.r) edges")
        }
    }

    /// The noise model is the user's to force, and the estimate records the choice.
    @Test func noiseModelCanBeForced() throws {
        let cube = knownRankCube(r: 4, noise: .poisson(peak: 1000), seed: 9)
        let additive = try RankEstimate.estimate(cube, noise: .additive)
        #expect(additive.noiseModel == .additive && additive.noiseModelReason.contains("asked"), "\(additive.noiseModelReason)")
        let gaussian = knownRankCube(r: 4, noise: .gaussian(snr: 30), seed: 9)
        let shifted = CubeData(rows: gaussian.rows, cols: gaussian.cols, bands: gaussian.bands, values: gaussian.values.map { $0 - 0.2 })
        let poisson = try RankEstimate.estimate(shifted, noise: .poisson)
        #expect(poisson.noiseModel == .poisson && poisson.noiseModelReason.contains("negative values taken as 0"), "\(poisson.noiseModelReason)")
        #expect(throws: UnmixError.self) { try RankEstimate.NoiseChoice(parsing: "gauss") }
        #expect(try RankEstimate.NoiseChoice(parsing: "Poisson") == .poisson)
    }

    /// The estimate does not depend on the data's scale (the ridges are relative).
    @Test func independentOfScale() throws {
        let cube = knownRankCube(r: 5, noise: .gaussian(snr: 30), seed: 4)
        let reference = try RankEstimate.estimate(cube)
        for factor: Float in [1e-4, 1e4] {
            let scaled = CubeData(rows: cube.rows, cols: cube.cols, bands: cube.bands, values: cube.values.map { $0 * factor })
            let estimate = try RankEstimate.estimate(scaled)
            #expect(estimate.r == reference.r, "×\(factor): R = \(estimate.r), unscaled \(reference.r)")
            #expect(estimate.scree.r == reference.scree.r, "×\(factor): elbow \(estimate.scree.r), unscaled \(reference.scree.r)")
        }
    }

    /// Noise of known per-band σ: HySime's per-band estimate is within 8 % (the sampling error
    /// of σ over 4096 pixels is about 1 %; the regression adds the other bands' noise through its
    /// coefficients, a bias of a few per cent).
    @Test func bandNoiseMatchesTheTruth() throws {
        let bands = 60, pixels = 4096, sigma = 0.01
        var rng = RandomStream(seed: 11)
        let cube = knownRankCube(r: 3, bands: bands, pixels: pixels, noise: .gaussian(snr: 200), seed: 3)
        let noisy = cube.values.enumerated().map { i, v in v + Float(sigma * (1 + Double(i % bands) / Double(bands)) * rng.normal()) }
        let estimate = try RankEstimate.estimate(CubeData(rows: cube.rows, cols: cube.cols, bands: bands, values: noisy))
        #expect(estimate.r == 3, "R = \(estimate.r)")
        for b in 0..<bands {
            let truth = sigma * (1 + Double(b) / Double(bands))
            let error = abs(estimate.hysime.bandNoiseStd[b] - truth) / truth
            #expect(error < 0.08, "band \(b): σ expected \(truth), observed \(estimate.hysime.bandNoiseStd[b]), error \(error)")
        }
    }

    @Test func zeroCubeIsRefused() {
        let cube = CubeData(rows: 4, cols: 4, bands: 8, values: [Float](repeating: 0, count: 128))
        #expect(throws: UnmixError.self) { try RankEstimate.estimate(cube) }
    }

    /// No more pixels than bands (a 2 × 2 spectrum image of 2048 channels, as EELS_SI.dm4):
    /// every band's regression is exact, so HySime would call everything signal. Refused.
    @Test func fewerPixelsThanBandsIsRefused() {
        var stream = RandomStream(seed: 1)
        let cube = CubeData(rows: 3, cols: 3, bands: 16, values: (0..<144).map { _ in Float(stream.uniform()) })
        #expect(throws: UnmixError.self) { try RankEstimate.estimate(cube) }
    }

    // MARK: - The elbow

    /// Worked by hand: ln y = 0, −10, −11, −12, −13; the line from (0, 0) to (4, −13); the
    /// distances are ∝ |−4 ln yᵢ − 13 i| = 0, 27, 18, 9: the elbow is index 1 (R = 2).
    @Test func elbowOnALogCurveByHand() {
        let curve = [0.0, -10, -11, -12, -13].map { exp($0) }
        #expect(elbowPosition(curve) == 1, "\(elbowPosition(curve))")
        // Linear scale: 10, 4, 3, 2.5, 2.2, 2 against the line (0, 10)–(5, 2): |50 − 5y − 8i| = 0, 22, 19, 13.5, 7.
        #expect(elbowPosition([10, 4, 3, 2.5, 2.2, 2], log: false) == 1)
        // max_points limits the window: the line runs (0, 0)–(2, ln 0.05 = −3.0), and the 1e-9
        // beyond it does not count: |−2 ln yᵢ − 3.0 i| = 0, 1.6.
        #expect(elbowPosition([1, 0.1, 0.05, 1e-9], maxPoints: 2) == 1)
        #expect(elbowPosition([1]) == 0 && elbowPosition([]) == 0)
        // Zeros are clipped at 1e-30 (ln = −69.1) rather than giving −inf: the line (0, 0)–(4, −69.1),
        // |−4 ln yᵢ − 69.1 i| = 0, 59.9, 138.2, 69.1.
        #expect(elbowPosition([1, 0.1, 0, 0, 0]) == 2)
    }

    /// Against HyperSpy 2.5's own `estimate_elbow_position` (through the fixture venv) on the
    /// scree curves of eels3, eels4 and three generated cubes.
    @Test(.enabled(if: hyperspyPython != nil, Comment(rawValue: noHyperSpy)))
    func elbowMatchesHyperSpy() throws {
        var curves = [[Double]]()
        for preset in SyntheticPreset.allCases {
            let data = SyntheticDataset.generate(preset, seed: 1)
            curves.append(try RankEstimate.estimate(CubeData(rows: data.rows, cols: data.cols, bands: data.bands, values: data.cube)).scree.explainedVarianceRatio)
        }
        for (r, noise) in [(3, TestNoise.gaussian(snr: 30)), (6, .poisson(peak: 1000)), (8, .gaussian(snr: 20))] {
            curves.append(try RankEstimate.estimate(knownRankCube(r: r, noise: noise, seed: 2)).scree.explainedVarianceRatio)
        }
        curves.append([1, 0.5, 0.2, 0.1, 0.05, 0, 0])
        let script = """
            import json, sys, numpy as np, hyperspy.api as hs
            s = hs.signals.Signal1D(np.zeros((2, 2)))
            curves = json.load(sys.stdin)
            print(json.dumps([int(s.estimate_elbow_position(np.array(c))) for c in curves]))
            """
        let process = Process()
        process.executableURL = hyperspyPython   // set: the test is enabled only then
        process.arguments = ["-c", script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: curves))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "HyperSpy failed: \(errorText)")
        let line = try #require(String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init))
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Int], "\(line)")
        let ours = curves.map { elbowPosition($0) }
        #expect(ours == theirs, "elbow: ours \(ours), HyperSpy \(theirs)")
    }
}
