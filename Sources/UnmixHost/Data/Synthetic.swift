import Foundation
#if canImport(Glibc)
import Glibc
#endif
import UnmixNumerics

/// The synthetic EELS scenes of Brun, Lambert & Bocher (2024): block-wise abundance maps smoothed
/// by a moving average, mixed with model core-loss spectra, with Poisson noise.
public enum SyntheticPreset: String, CaseIterable, Sendable {
    /// Three endmembers (Ru-like, Co-like, Pt-like), 200 channels of 3.33 eV from 250 eV.
    case eels3
    /// Four endmembers, each a power law plus one K edge (B, C, N, O), 903 channels of 0.6 eV
    /// from 150 eV.
    case eels4
    /// Closer to real core-loss data: three background-free edge spectra (Ru M, O K, Co L) on
    /// eels3's axis, on a power-law background whose amplitude (thickness) and exponent vary
    /// smoothly from pixel to pixel; O K never has a pure pixel (its abundance stays at most 0.6).
    /// The truth is the edges alone. See `SyntheticDataset.generateWithBackground`.
    case eels3bg = "eels3-bg"

    /// The presets of the paper, whose endmembers carry their own background.
    public static let paper: [SyntheticPreset] = [.eels3, .eels4]

    /// The number of endmembers R.
    public var endmemberCount: Int { endmemberNames.count }

    /// A short name for each endmember, in order.
    public var endmemberNames: [String] {
        switch self {
        case .eels3: return ["Ru-like", "Co-like", "Pt-like"]
        case .eels4: return ["B K", "C K", "N K", "O K"]
        case .eels3bg: return ["Ru M", "O K", "Co L"]
        }
    }

    /// The number of energy channels B.
    public var channels: Int {
        switch self {
        case .eels3, .eels3bg: return 200
        case .eels4: return 903
        }
    }

    /// The energy of channel 0, in eV.
    public var energyOffset: Double {
        switch self {
        case .eels3, .eels3bg: return 250
        case .eels4: return 150
        }
    }

    /// The width of one channel, in eV.
    public var energyScale: Double {
        switch self {
        case .eels3, .eels3bg: return 3.33
        case .eels4: return 0.6
        }
    }

    /// The expected counts when none are given: `SyntheticDataset.defaultCounts` at the brightest
    /// channel of a pure endmember for the paper's presets; for eels3-bg 10⁴ counts of background
    /// at the first channel (core-loss spectra commonly hold 10⁴–10⁵ there).
    public var defaultCounts: Double { self == .eels3bg ? 10_000 : SyntheticDataset.defaultCounts }

    /// The energy axis: `energyOffset + energyScale * b` for each channel b.
    public var energy: [Double] { (0..<channels).map { energyOffset + energyScale * Double($0) } }
}

/// A synthetic scene with its ground truth.
///
/// Layouts: `cube` is rows × cols × bands, `abundances` rows × cols × r (pixel-major, the last
/// index fastest), `endmembers` r × bands. The endmembers are in expected counts, so the
/// noiseless cube is exactly `abundances · endmembers`; `cube` is a Poisson draw around it.
public struct SyntheticDataset: Sendable {
    /// The expected number of counts at the brightest channel of a pure endmember, when not
    /// given: 1000 (so the brightest channels have a signal-to-noise ratio of about 32).
    public static let defaultCounts = 1000.0
    /// The maps are `mapSize` × `mapSize` pixels.
    public static let mapSize = 64
    /// The maps are built from square blocks of `blockSize` × `blockSize` pixels.
    public static let blockSize = 8
    /// The one-hot block maps are smoothed by a `filterSize` × `filterSize` moving average.
    public static let filterSize = 9
    /// How the moving average treats the map border (recorded in `meta.json`).
    public static let edgeHandling = "reflect (half-sample symmetric, scipy 'reflect': d c b a | a b c d)"

    /// Image height and width in pixels.
    public let rows: Int
    public let cols: Int
    /// The number of energy channels B.
    public let bands: Int
    /// The number of endmembers R.
    public let r: Int
    /// Poisson counts, rows × cols × bands.
    public let cube: [Float]
    /// Spectra in expected counts, r × bands.
    public let endmembers: [Float]
    /// Abundances, rows × cols × r: non-negative, summing to one in every pixel.
    public let abundances: [Float]
    /// The energy of each channel, in eV.
    public let energy: [Double]
    /// The preset and seed the scene was generated from.
    public let preset: SyntheticPreset
    public let seed: UInt64
    /// The expected counts at the brightest channel of a pure endmember (eels3-bg: of the mean
    /// background at the first channel).
    public let counts: Double
    /// eels3-bg: the expected background counts, rows × cols × bands (nil for the paper's presets).
    public internal(set) var background: [Float]? = nil
    /// eels3-bg: the relative amplitude of the per-pixel edge-intensity change.
    public internal(set) var variability: Double = 0

    /// The number of pixels, rows × cols.
    public var pixels: Int { rows * cols }

    /// The noiseless cube without background, `abundances · endmembers` (rows × cols × bands).
    public var noiselessCube: [Float] {
        var result = [Float](repeating: 0, count: pixels * bands)
        abundances.withUnsafeBufferPointer { a in
            linearMixture(abundances: a, pixels: pixels, r: r, endmembers: endmembers, bands: bands, into: &result)
        }
        return result
    }

    // MARK: - Generation

    /// Generates a scene. The same preset, seed and counts give the same scene everywhere.
    ///
    /// The maps draw from `RandomStream(seed:)`, the noise from a stream split from it, so the
    /// maps depend on the seed only, never on `counts`.
    ///
    /// - Parameter counts: expected counts at the brightest channel of a pure endmember (> 0).
    /// - Parameter variability: eels3-bg only: the relative amplitude of a smooth per-pixel change
    ///   of each edge's intensity (0 = none; the truth keeps the mean edges).
    public static func generate(_ preset: SyntheticPreset, seed: UInt64, counts: Double? = nil,
                                variability: Double = 0) -> SyntheticDataset {
        let counts = counts ?? preset.defaultCounts
        precondition(counts > 0 && counts.isFinite, "SyntheticDataset.generate: counts must be finite and > 0, got \(counts)")
        precondition(variability >= 0 && variability < 1, "SyntheticDataset.generate: variability must be in [0, 1), got \(variability)")
        if preset == .eels3bg { return generateWithBackground(seed: seed, counts: counts, variability: variability) }
        let r = preset.endmemberCount
        let size = mapSize
        let abundances = abundanceMaps(labels: blockLabels(r: r, seed: seed), r: r)
        let energy = preset.energy
        let endmembers = EELSModel.spectra(preset, energy: energy).flatMap { spectrum in
            spectrum.map { Float($0 * counts) }
        }
        var noiseless = [Float](repeating: 0, count: size * size * energy.count)
        abundances.withUnsafeBufferPointer { a in
            linearMixture(abundances: a, pixels: size * size, r: r, endmembers: endmembers, bands: energy.count,
                          into: &noiseless)
        }
        var noise = RandomStream(seed: seed).split(1)
        let cube = noiseless.map { Float(noise.poisson(Double(max(0, $0)))) }
        return SyntheticDataset(rows: size, cols: size, bands: energy.count, r: r, cube: cube,
                                endmembers: endmembers, abundances: abundances, energy: energy,
                                preset: preset, seed: seed, counts: counts)
    }

    /// The endmember assigned to each block, row-major over the (mapSize / blockSize)² grid of
    /// blocks, each drawn uniformly from 0..<r with `RandomStream(seed:)`.
    public static func blockLabels(r: Int, seed: UInt64) -> [Int] {
        precondition(r > 0, "blockLabels: needs r > 0")
        var stream = RandomStream(seed: seed)
        let blocks = mapSize / blockSize
        return (0..<(blocks * blocks)).map { _ in stream.index(below: r) }
    }

    /// Abundance maps (mapSize × mapSize × r) from block labels: one-hot maps, each block
    /// constant, smoothed by a `filterSize` × `filterSize` moving average.
    ///
    /// Edge handling is mirror reflection about the border, half-sample symmetric (scipy's
    /// `'reflect'` mode, `d c b a | a b c d`): the pixel just outside the map is the border pixel
    /// itself. Every output is then the mean of exactly filterSize² one-hot vectors, so it is
    /// non-negative and sums to one (up to Float rounding). Because the filter radius (4) does
    /// not exceed the block size (8), the mirrored pixels always lie in the border block itself,
    /// so scipy's 'mirror' and 'nearest' modes would give the same maps; 'wrap' or 'constant'
    /// would not.
    public static func abundanceMaps(labels: [Int], r: Int) -> [Float] {
        let size = mapSize, blocks = mapSize / blockSize, radius = filterSize / 2
        precondition(labels.count == blocks * blocks && labels.allSatisfy { (0..<r).contains($0) },
                     "abundanceMaps: needs \(blocks * blocks) labels in 0..<\(r)")
        func reflect(_ i: Int) -> Int { i < 0 ? -i - 1 : (i >= size ? 2 * size - 1 - i : i) }
        func label(_ row: Int, _ col: Int) -> Int { labels[(row / blockSize) * blocks + col / blockSize] }

        // Separable box sum of the one-hot maps, in exact integer counts: rows first, then columns.
        var rowSums = [Int](repeating: 0, count: size * size * r)
        for row in 0..<size {
            for col in 0..<size {
                for offset in -radius...radius {
                    rowSums[(row * size + col) * r + label(row, reflect(col + offset))] += 1
                }
            }
        }
        var result = [Float](repeating: 0, count: size * size * r)
        let window = Double(filterSize * filterSize)
        for row in 0..<size {
            for col in 0..<size {
                for k in 0..<r {
                    var total = 0
                    for offset in -radius...radius { total += rowSums[(reflect(row + offset) * size + col) * r + k] }
                    result[(row * size + col) * r + k] = Float(Double(total) / window)
                }
            }
        }
        return result
    }
}

// MARK: - Model spectra

/// Model core-loss EELS spectra: a power-law background plus ionisation edges, each a
/// resolution-broadened step decaying as a power law (the "sawtooth"), with near-edge structure.
/// Every spectrum is normalised so its largest channel is 1; all values are positive.
enum EELSModel {
    /// The spectra of `preset` on the energy axis, one array per endmember.
    static func spectra(_ preset: SyntheticPreset, energy: [Double]) -> [[Double]] {
        let shapes: [(Double) -> Double]
        switch preset {
        case .eels3: shapes = eels3
        case .eels4: shapes = eels4
        case .eels3bg: return eels3Edges.map { shape in energy.map(shape) }
        }
        return shapes.map { shape in
            let spectrum = energy.map(shape)
            let peak = spectrum.max() ?? 1
            return spectrum.map { $0 / peak }
        }
    }

    // MARK: eels3: 250–913 eV at 3.33 eV per channel; resolution about one channel.

    static let eels3Resolution = 3.33 // FWHM, eV

    static var eels3: [(Double) -> Double] {
        let onset = 250.0
        // Ru-like: a delayed M4,5 edge at 279 eV whose rise is spread over 40 eV, and the
        // smaller M3 (461 eV) and M2 (483 eV) edges.
        let ru: (Double) -> Double = { e in
            let background = powerLaw(e, from: onset, exponent: 3.0)
            let m45 = 0.6 * powerLaw(279, from: onset, exponent: 3.0)
                * delayedRise(e - 279, over: 40) * powerLaw(e, from: 279, exponent: 2.4)
            let m3 = 0.25 * powerLaw(461, from: onset, exponent: 3.0)
                * step(e - 461, fwhm: eels3Resolution) * powerLaw(e, from: 461, exponent: 2.4)
            let m2 = 0.12 * powerLaw(483, from: onset, exponent: 3.0)
                * step(e - 483, fwhm: eels3Resolution) * powerLaw(e, from: 483, exponent: 2.4)
            return background + m45 + m3 + m2
        }
        // Co-like: L3 (779 eV) and L2 (794 eV) white lines in a 2:1 ratio on 2:1 continuum steps.
        let co: (Double) -> Double = { e in
            let scale = powerLaw(779, from: onset, exponent: 3.4)
            let width = (3.0 * 3.0 + eels3Resolution * eels3Resolution).squareRoot() // intrinsic ⊕ resolution
            let steps = (0.3 * step(e - 779, fwhm: eels3Resolution) + 0.15 * step(e - 794, fwhm: eels3Resolution))
                * powerLaw(max(e, 779), from: 779, exponent: 2.6)
            let whiteLines = 1.2 * peak(e - 780.5, fwhm: width) + 0.6 * peak(e - 795.5, fwhm: width)
            return powerLaw(e, from: onset, exponent: 3.4) + scale * (steps + whiteLines)
        }
        // Pt-like: a bare power law (its M edges lie above the range).
        let pt: (Double) -> Double = { e in powerLaw(e, from: onset, exponent: 2.6) }
        return [ru, co, pt]
    }

    // MARK: eels4: 150–691 eV at 0.6 eV per channel; resolution 1 eV.

    static let eels4Resolution = 1.0 // FWHM, eV

    /// One K edge per endmember: onset, background exponent, jump (fraction of the background
    /// at onset), π* peak offset, width and height (relative to the jump), ELNES period.
    static let kEdges: [(onset: Double, exponent: Double, jump: Double, peakOffset: Double, peakWidth: Double,
                         peakHeight: Double, period: Double)] = [
        (188, 3.0, 0.50, 1.5, 1.2, 1.6, 11), // B K: sharp π*
        (284, 3.3, 0.40, 1.2, 1.0, 1.8, 13), // C K: sharp π*
        (401, 2.8, 0.35, 1.3, 1.2, 1.4, 14), // N K: sharp π*
        (532, 3.1, 0.30, 4.0, 4.0, 0.7, 16), // O K: a broader pre-peak
    ]

    static var eels4: [(Double) -> Double] {
        kEdges.map { edge in
            { e in
                let background = powerLaw(e, from: 150, exponent: edge.exponent)
                let x = e - edge.onset
                let jump = edge.jump * powerLaw(edge.onset, from: 150, exponent: edge.exponent)
                // Damped oscillation after onset (amplitude < 1, so the edge stays positive).
                let elnes = x > 0 ? 0.3 * exp(-x / 25) * sin(2 * Double.pi * x / edge.period) : 0
                let sawtooth = step(x, fwhm: eels4Resolution) * powerLaw(max(e, edge.onset), from: edge.onset,
                                                                         exponent: 2.5) * (1 + elnes)
                let width = (edge.peakWidth * edge.peakWidth + eels4Resolution * eels4Resolution).squareRoot()
                let pi = edge.peakHeight * peak(x - edge.peakOffset, fwhm: width)
                return background + jump * (sawtooth + pi)
            }
        }
    }

    // MARK: Building blocks

    /// (e / e0)^−exponent.
    static func powerLaw(_ e: Double, from e0: Double, exponent: Double) -> Double { pow(e / e0, -exponent) }

    /// A unit step at x = 0 broadened by a Gaussian resolution of the given FWHM.
    static func step(_ x: Double, fwhm: Double) -> Double {
        0.5 * (1 + erf(x / (fwhm / (2 * (2 * log(2.0)).squareRoot()) * 2.0.squareRoot())))
    }

    /// A Gaussian of height 1 centred at x = 0 with the given FWHM.
    static func peak(_ x: Double, fwhm: Double) -> Double { exp(-4 * log(2.0) * x * x / (fwhm * fwhm)) }

    /// A delayed edge: 0 before x = 0, a smooth sin² rise to 1 over `width`, then 1.
    static func delayedRise(_ x: Double, over width: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= width { return 1 }
        let s = sin(Double.pi * x / (2 * width))
        return s * s
    }
}

// MARK: - Dataset folders

extension SyntheticDataset {
    /// The contents of `meta.json`.
    struct Meta: Codable, Equatable {
        struct EnergyAxis: Codable, Equatable {
            var offset: Double
            var scale: Double
            var unit: String
            var values: [Double]
        }
        var preset: String
        var seed: UInt64
        var counts: Double
        var rows: Int
        var cols: Int
        var bands: Int
        var r: Int
        var energy: EnergyAxis
        var blockSize: Int
        var filterSize: Int
        var edgeHandling: String
        var endmemberNames: [String]
        /// eels3-bg: how the background was made, and the edge-intensity variability.
        var background: String? = nil
        var variability: Double? = nil

        enum CodingKeys: String, CodingKey {
            case preset, seed, counts, rows, cols, bands, r, energy, background, variability
            case blockSize = "block_size", filterSize = "filter_size", edgeHandling = "edge_handling"
            case endmemberNames = "endmember_names"
        }
    }

    var meta: Meta {
        Meta(preset: preset.rawValue, seed: seed, counts: counts, rows: rows, cols: cols, bands: bands, r: r,
             energy: .init(offset: preset.energyOffset, scale: preset.energyScale, unit: "eV", values: energy),
             blockSize: Self.blockSize, filterSize: Self.filterSize, edgeHandling: Self.edgeHandling,
             endmemberNames: preset.endmemberNames,
             background: background == nil ? nil : Self.backgroundDescription,
             variability: background == nil ? nil : variability)
    }

    /// eels3-bg's background, in words (meta.json).
    static var backgroundDescription: String {
        "a * counts * (E / 250 eV)^-r per pixel, a in \(backgroundAmplitudes), r in \(backgroundExponents), both smooth over the map; background.npy holds it in expected counts"
    }

    /// Writes the dataset folder `dir`: `cube.npy` (rows, cols, bands), `endmembers.npy`
    /// (r, bands), `abundances.npy` (rows, cols, r) and `meta.json`, creating `dir` and its
    /// parents as needed. Through `OutputDirectory`, so a failure leaves no partial output.
    ///
    /// - Throws: `UnmixError` naming the folder or file that could not be written.
    public func write(to dir: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let metaData: Data
        do { metaData = try encoder.encode(meta) } catch {
            throw UnmixError("cannot write \(dir.appendingPathComponent("meta.json").path): \(oneLineReason(error))")
        }
        let files: [(String, Data)] = [
            ("cube.npy", NPY.encode(cube, shape: [rows, cols, bands])),
            ("endmembers.npy", NPY.encode(endmembers, shape: [r, bands])),
            ("abundances.npy", NPY.encode(abundances, shape: [rows, cols, r])),
            ("meta.json", metaData + Data("\n".utf8)),
        ] + (background.map { [("background.npy", NPY.encode($0, shape: [rows, cols, bands]))] } ?? [])
        try OutputDirectory.write(dir.path) { staging in
            for (name, data) in files {
                do { try data.write(to: staging.appendingPathComponent(name)) } catch {
                    throw UnmixError("cannot write \(dir.appendingPathComponent(name).path): \(oneLineReason(error))")
                }
            }
        }
    }

    /// Reads a dataset folder written by `write(to:)`, checking that the arrays agree with
    /// `meta.json` and with each other.
    ///
    /// - Throws: `UnmixError` naming the file and the problem.
    public static func read(from dir: URL) throws -> SyntheticDataset {
        let metaURL = dir.appendingPathComponent("meta.json")
        guard let metaData = FileManager.default.contents(atPath: metaURL.path) else {
            let exists = FileManager.default.fileExists(atPath: metaURL.path)
            throw UnmixError("cannot read \(metaURL.path): \(exists ? "permission denied or I/O error" : "no such file")")
        }
        let meta: Meta
        do { meta = try JSONDecoder().decode(Meta.self, from: metaData) } catch {
            throw UnmixError("\(metaURL.path): not a valid dataset description (\(jsonProblem(error)))")
        }
        guard let preset = SyntheticPreset(rawValue: meta.preset) else {
            throw UnmixError("\(metaURL.path): unknown preset '\(meta.preset)' (known: "
                + SyntheticPreset.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        guard meta.rows > 0, meta.cols > 0, meta.bands > 0, meta.r > 0, meta.energy.values.count == meta.bands,
              meta.counts > 0, meta.counts.isFinite else {
            throw UnmixError("\(metaURL.path): inconsistent sizes (rows \(meta.rows), cols \(meta.cols), "
                + "bands \(meta.bands), r \(meta.r), \(meta.energy.values.count) energies, counts \(meta.counts))")
        }
        func array(_ name: String, shape: [Int]) throws -> [Float] {
            let url = dir.appendingPathComponent(name)
            let array = try NPY.read(url)
            guard array.shape == shape else {
                throw UnmixError("\(url.path): shape \(NPY.pythonTuple(array.shape)) does not match meta.json "
                    + "\(NPY.pythonTuple(shape))")
            }
            return array.values
        }
        let hasBackground = FileManager.default.fileExists(atPath: dir.appendingPathComponent("background.npy").path)
        return SyntheticDataset(
            rows: meta.rows, cols: meta.cols, bands: meta.bands, r: meta.r,
            cube: try array("cube.npy", shape: [meta.rows, meta.cols, meta.bands]),
            endmembers: try array("endmembers.npy", shape: [meta.r, meta.bands]),
            abundances: try array("abundances.npy", shape: [meta.rows, meta.cols, meta.r]),
            energy: meta.energy.values, preset: preset, seed: meta.seed, counts: meta.counts,
            background: hasBackground ? try array("background.npy", shape: [meta.rows, meta.cols, meta.bands]) : nil,
            variability: meta.variability ?? 0)
    }
}

/// A one-line description of a JSON decoding failure.
private func jsonProblem(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "no '\(key.stringValue)' key"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return "'\(path)' has the wrong type"
    case DecodingError.dataCorrupted: return "not valid JSON"
    default: return oneLineReason(error)
    }
}
