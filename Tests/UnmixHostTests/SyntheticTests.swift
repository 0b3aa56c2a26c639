import Foundation
import Testing
import UnmixHost
import _TestSupport

/// One scene per preset (generated once: eels4 takes about half a second in a debug build).
private let shared: [SyntheticPreset: SyntheticDataset] = Dictionary(
    uniqueKeysWithValues: SyntheticPreset.allCases.map { ($0, SyntheticDataset.generate($0, seed: 3)) })

private let size = SyntheticDataset.mapSize, block = SyntheticDataset.blockSize, blocks = size / block

/// The smoothed maps computed the slow, obvious way: for each pixel, the share of each label
/// among the 9 × 9 window, with out-of-range indices mirrored as in scipy's 'reflect' mode.
private func naiveMaps(labels: [Int], r: Int) -> [Float] {
    func mirror(_ i: Int) -> Int {
        if i < 0 { return -1 - i }      // -1 → 0, -2 → 1, …
        if i >= size { return 2 * size - 1 - i } // size → size − 1, …
        return i
    }
    var maps = [Float](repeating: 0, count: size * size * r)
    for row in 0..<size {
        for col in 0..<size {
            var tally = [Int](repeating: 0, count: r)
            for dr in -4...4 {
                for dc in -4...4 {
                    let rr = mirror(row + dr), cc = mirror(col + dc)
                    tally[labels[(rr / block) * blocks + cc / block]] += 1
                }
            }
            for k in 0..<r { maps[(row * size + col) * r + k] = Float(tally[k]) / 81 }
        }
    }
    return maps
}

@Suite struct SyntheticTests {
    @Test(arguments: SyntheticPreset.paper)
    func shapesAndEnergyAxis(preset: SyntheticPreset) {
        let data = shared[preset]!
        let (bands, r, first, step): (Int, Int, Double, Double) = preset == .eels3 ? (200, 3, 250, 3.33) : (903, 4, 150, 0.6)
        #expect(data.rows == 64 && data.cols == 64 && data.bands == bands && data.r == r)
        #expect(data.cube.count == 64 * 64 * bands)
        #expect(data.endmembers.count == r * bands)
        #expect(data.abundances.count == 64 * 64 * r)
        #expect(data.energy.count == bands)
        expectClose(data.energy[0], first, tolerance: 1e-9, "\(preset) first energy")
        expectClose(data.energy[bands - 1], first + step * Double(bands - 1), tolerance: 1e-9, "\(preset) last energy")
        expectClose(data.energy[1] - data.energy[0], step, tolerance: 1e-9, "\(preset) channel width")
        #expect(data.preset == preset && data.seed == 3 && data.counts == SyntheticDataset.defaultCounts)
    }

    @Test(arguments: SyntheticPreset.paper)
    func abundancesAreNonNegativeAndSumToOne(preset: SyntheticPreset) {
        let data = shared[preset]!
        #expect(data.abundances.min()! >= 0)
        for p in 0..<data.pixels {
            let sum = data.abundances[(p * data.r)..<((p + 1) * data.r)].reduce(0, +)
            if abs(sum - 1) > 1e-5 {
                Issue.record("pixel \(p): abundances sum to \(sum), expected 1 within 1e-5")
                return
            }
        }
    }

    @Test(arguments: [(UInt64(0), 3), (1, 3), (12345, 4)])
    func mapsAreTheMovingAverageOfBlockMaps(seed: UInt64, r: Int) {
        let labels = SyntheticDataset.blockLabels(r: r, seed: seed)
        #expect(labels.count == blocks * blocks && labels.allSatisfy { (0..<r).contains($0) })
        #expect(Set(labels).count == r, "64 blocks should use all \(r) endmembers, got \(Set(labels))")
        expectClose(SyntheticDataset.abundanceMaps(labels: labels, r: r), naiveMaps(labels: labels, r: r),
                    tolerance: 1e-6, "maps for seed \(seed)")
    }

    @Test func generatedMapsComeFromTheSeedsBlockLabels() {
        let data = SyntheticDataset.generate(.eels3, seed: 21)
        let expected = naiveMaps(labels: SyntheticDataset.blockLabels(r: 3, seed: 21), r: 3)
        expectClose(data.abundances, expected, tolerance: 1e-6, "generated maps")
    }

    /// Before smoothing each block is constant: a block whose in-map 3 × 3 neighbourhood of blocks
    /// has a single label keeps pure pixels at its centre after the 9 × 9 filter.
    @Test func blockCentresInUniformNeighbourhoodsArePure() {
        var checked = 0
        for seed in UInt64(0)..<300 {
            let r = 3
            let labels = SyntheticDataset.blockLabels(r: r, seed: seed)
            let maps = SyntheticDataset.abundanceMaps(labels: labels, r: r)
            for br in 0..<blocks {
                for bc in 0..<blocks {
                    let label = labels[br * blocks + bc]
                    let neighbours = (max(0, br - 1)...min(blocks - 1, br + 1)).flatMap { nr in
                        (max(0, bc - 1)...min(blocks - 1, bc + 1)).map { labels[$0 + nr * blocks] }
                    }
                    guard neighbours.allSatisfy({ $0 == label }) else { continue }
                    checked += 1
                    for row in (br * block + 3)...(br * block + 4) {
                        for col in (bc * block + 3)...(bc * block + 4) {
                            let pixel = Array(maps[((row * size + col) * r)..<((row * size + col + 1) * r)])
                            let pure = (0..<r).map { Float($0 == label ? 1 : 0) }
                            #expect(pixel == pure, "seed \(seed), pixel (\(row), \(col)): expected \(pure), got \(pixel)")
                        }
                    }
                }
            }
        }
        #expect(checked >= 10, "only \(checked) blocks with a uniform neighbourhood found")
    }

    @Test func mapsAreDeterministicPerSeedAndIndependentOfCounts() {
        let a = SyntheticDataset.generate(.eels3, seed: 5)
        let b = SyntheticDataset.generate(.eels3, seed: 5)
        #expect(a.abundances == b.abundances && a.cube == b.cube && a.endmembers == b.endmembers)
        let other = SyntheticDataset.generate(.eels3, seed: 6)
        #expect(other.abundances != a.abundances)
        #expect(other.cube != a.cube)
        let dim = SyntheticDataset.generate(.eels3, seed: 5, counts: 50)
        #expect(dim.abundances == a.abundances, "the maps must not depend on counts")
        #expect(dim.cube != a.cube)
    }

    /// Endmembers are in expected counts: each one's brightest channel equals `counts`, and they
    /// scale linearly with it; every channel is positive.
    @Test(arguments: SyntheticPreset.paper)
    func endmembersAreScaledToCounts(preset: SyntheticPreset) {
        let data = shared[preset]!
        for k in 0..<data.r {
            let spectrum = data.endmembers[(k * data.bands)..<((k + 1) * data.bands)]
            expectClose(Double(spectrum.max()!), SyntheticDataset.defaultCounts, tolerance: 1e-3, "peak of endmember \(k)")
            #expect(spectrum.min()! > 0, "\(preset) endmember \(k) has a non-positive channel")
        }
        if preset == .eels3 {
            let dim = SyntheticDataset.generate(.eels3, seed: 3, counts: 250)
            expectClose(dim.endmembers, data.endmembers.map { $0 / 4 }, tolerance: 1e-3, "endmembers at counts 250")
        }
    }

    /// Each edge sits where the preset says: above an onset the spectrum exceeds the power law
    /// extrapolated from two pre-edge channels by more than 10%; endmembers without that edge
    /// follow the extrapolation within 3%.
    @Test(arguments: [
        (SyntheticPreset.eels3, [[279.0, 461], [779], []]),
        (.eels4, [[188.0], [284], [401], [532]]),
    ])
    func edgesAreAtTheirOnsets(preset: SyntheticPreset, onsets: [[Double]]) {
        let energy = preset.energy
        let data = shared[preset]!
        func channel(_ e: Double) -> Int { energy.firstIndex { $0 >= e }! }
        for k in 0..<data.r {
            let spectrum = Array(data.endmembers[(k * data.bands)..<((k + 1) * data.bands)])
            for onset in Set(onsets.flatMap { $0 }) {
                let (c1, c2) = (channel(onset - 20), channel(onset - 5))
                // The delayed Ru M4,5 edge peaks about 40 eV above its onset.
                let c3 = channel(onset + (onset == 279 ? 40 : 8))
                let slope = log(Double(spectrum[c2] / spectrum[c1])) / log(energy[c2] / energy[c1])
                let predicted = Double(spectrum[c2]) * pow(energy[c3] / energy[c2], slope)
                let ratio = Double(spectrum[c3]) / predicted
                if onsets[k].contains(onset) {
                    #expect(ratio > 1.1, "\(preset) endmember \(k): no edge at \(onset) eV (observed/extrapolated \(ratio))")
                } else {
                    #expect(abs(ratio - 1) < 0.03,
                            "\(preset) endmember \(k): unexpected structure at \(onset) eV (observed/extrapolated \(ratio))")
                }
            }
        }
    }

    /// The cube is Poisson around abundances · endmembers: integer counts whose standardised
    /// residuals (y − λ)/√λ have mean 0 and variance 1. With 819 200 values the standard errors
    /// are about 0.0011 (mean) and 0.0016 (variance).
    @Test func cubeHasPoissonStatistics() {
        let data = SyntheticDataset.generate(.eels3, seed: 11)
        let expected = data.noiselessCube
        #expect(data.cube.allSatisfy { $0 >= 0 && $0 == $0.rounded() }, "counts must be non-negative integers")
        var sum = 0.0, sumSquares = 0.0, observedTotal = 0.0, expectedTotal = 0.0
        for (y, lambda) in zip(data.cube, expected) {
            let z = (Double(y) - Double(lambda)) / Double(lambda).squareRoot()
            sum += z
            sumSquares += z * z
            observedTotal += Double(y)
            expectedTotal += Double(lambda)
        }
        let n = Double(expected.count)
        let mean = sum / n
        expectClose(mean, 0, tolerance: 5 / n.squareRoot(), "mean standardised residual")
        expectClose((sumSquares - n * mean * mean) / (n - 1), 1, tolerance: 0.03, "variance of standardised residuals")
        expectClose(observedTotal / n, expectedTotal / n, tolerance: 5 * (expectedTotal / n / n).squareRoot(),
                    "mean count")
    }

    @Test func writeReadRoundTrip() throws {
        let data = SyntheticDataset.generate(.eels3, seed: UInt64.max - 3, counts: 123.5)
        try withTemporaryDirectory { tmp in
            let dir = tmp.appendingPathComponent("nested/run1")
            try data.write(to: dir)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
                == ["abundances.npy", "cube.npy", "endmembers.npy", "meta.json"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.deletingLastPathComponent().path) == ["run1"],
                    "the staging folder was left behind")
            #expect(try NPY.read(dir.appendingPathComponent("cube.npy")).shape == [64, 64, 200])
            #expect(try NPY.read(dir.appendingPathComponent("abundances.npy")).shape == [64, 64, 3])
            #expect(try NPY.read(dir.appendingPathComponent("endmembers.npy")).shape == [3, 200])
            let meta = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("meta.json")))
                    as? [String: Any])
            #expect(meta["preset"] as? String == "eels3")
            #expect(meta["block_size"] as? Int == 8 && meta["filter_size"] as? Int == 9)
            #expect((meta["edge_handling"] as? String)?.contains("reflect") == true)
            #expect(meta["endmember_names"] as? [String] == ["Ru-like", "Co-like", "Pt-like"])
            let energy = try #require(meta["energy"] as? [String: Any])
            #expect(energy["unit"] as? String == "eV" && (energy["values"] as? [Any])?.count == 200)

            let back = try SyntheticDataset.read(from: dir)
            #expect(back.cube == data.cube && back.endmembers == data.endmembers && back.abundances == data.abundances)
            #expect(back.energy == data.energy)
            #expect(back.preset == data.preset && back.seed == data.seed && back.counts == data.counts)
            #expect(back.rows == 64 && back.cols == 64 && back.bands == 200 && back.r == 3)

            // Writing into an existing folder replaces the files.
            let other = SyntheticDataset.generate(.eels3, seed: 1)
            try other.write(to: dir)
            #expect(try SyntheticDataset.read(from: dir).cube == other.cube)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.deletingLastPathComponent().path) == ["run1"])
        }
    }

    @Test func readErrorsNameTheFile() throws {
        try withTemporaryDirectory { tmp in
            expectUnmixError(containing: ["missing/meta.json", "no such file"]) {
                _ = try SyntheticDataset.read(from: tmp.appendingPathComponent("missing"))
            }
            let dir = tmp.appendingPathComponent("d")
            try SyntheticDataset.generate(.eels3, seed: 1).write(to: dir)
            try NPY.write([1, 2], shape: [1, 2], to: dir.appendingPathComponent("endmembers.npy"))
            expectUnmixError(containing: ["endmembers.npy", "(1, 2)", "(3, 200)"]) {
                _ = try SyntheticDataset.read(from: dir)
            }
            try Data("{\"preset\": \"eels3\"}".utf8).write(to: dir.appendingPathComponent("meta.json"))
            expectUnmixError(containing: ["meta.json", "no 'seed' key"]) { _ = try SyntheticDataset.read(from: dir) }
        }
    }

    @Test func writeOverAFileFails() throws {
        try withTemporaryDirectory { tmp in
            let file = tmp.appendingPathComponent("taken")
            try Data("x".utf8).write(to: file)
            expectUnmixError(containing: ["taken", "not a directory"]) {
                try SyntheticDataset.generate(.eels3, seed: 1).write(to: file)
            }
        }
    }
}
