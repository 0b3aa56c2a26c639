import Foundation
import Testing
import UnmixIO
import _TestSupport

/// What `Tests/Fixtures/data/make/mat.py` computed with NumPy for each fixture it wrote with
/// scipy's `savemat` (v4, v5) or h5py (v7.3): the cube row-major, band-contiguous; the truth
/// R × B and pixels (row-major) × R.
private struct Expected: Decodable {
    var rows: Int
    var cols: Int
    var bands: Int
    var layout: String
    var version: String
    var dtype: String
    var cube: [Double]
    var r: Int?
    var endmembers: [Double]?
    var abundances: [Double]?
    var names: [String]?
    var wavelengths: [Double]?
    var shape: [Int]?

    var options: ReadOptions { ReadOptions(shape: shape.map { (rows: $0[0], cols: $0[1]) }) }
}

private let expectations: [String: Expected] = {
    guard let data = try? Data(contentsOf: dataFixture("mat/expected.json")),
          let decoded = try? JSONDecoder().decode([String: Expected].self, from: data) else { return [:] }
    return decoded
}()

/// The fixtures of each community layout and version, and those with ground truth.
private let layoutFixtures = ["hysupp_v5.mat", "hysupp_v5z.mat", "hysupp_v4.mat", "hysupp_v73.mat", "hu_v5.mat", "hu_v5z.mat",
                              "hu_v73.mat", "cube_v5.mat", "cube_v73.mat", "bare_y_v5.mat"]
private let truthFixtures = ["hysupp_v5.mat", "hysupp_v5z.mat", "hysupp_v4.mat", "hysupp_v73.mat", "hu_v5.mat", "hu_v5z.mat", "hu_v73.mat"]
private let typeFixtures = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
    .map { "cube_\($0)_v5.mat" }

private func open(_ name: String) throws -> (Dataset, Expected) {
    let expected = try #require(expectations[name], "no expectation for \(name) in mat/expected.json")
    return (try Datasets.open(dataFixture("mat/\(name)").path, options: expected.options), expected)
}

/// Y = E·A at every pixel, pixels taken row by row: true of every fixture's truth only when
/// the reader's pixel order and the truth's agree with the file's.
private func mixtureError(_ cube: [Float], truth: GroundTruth, bands: Int) -> Float {
    var worst: Float = 0
    for pixel in 0..<(cube.count / bands) {
        for b in 0..<bands {
            var mix: Float = 0
            for k in 0..<truth.r { mix += truth.abundances[pixel * truth.r + k] * truth.endmembers[k * bands + b] }
            worst = max(worst, abs(mix - cube[pixel * bands + b]))
        }
    }
    return worst
}

@Suite struct MATLABTests {
    @Test(arguments: layoutFixtures + typeFixtures)
    func readsFixture(name: String) throws {
        let (dataset, expected) = try open(name)
        #expect(dataset.cube.rows == expected.rows && dataset.cube.cols == expected.cols && dataset.cube.bands == expected.bands,
                "\(name): \(dataset.cube.rows) × \(dataset.cube.cols) × \(dataset.cube.bands)")
        #expect(dataset.dtype.rawValue == expected.dtype)
        #expect(dataset.format.hasPrefix("MATLAB \(expected.version) ("), "\(name): format \(dataset.format)")
        let layoutWord = ["HySUPP": "HySUPP layout", "hu_autoencoders": "hu_autoencoders layout",
                          "3-D": "rows × cols × bands", "bare Y": "Y bands × pixels"][expected.layout] ?? "?"
        #expect(dataset.format.contains(layoutWord), "\(name): format \(dataset.format)")
        let tolerance: Float = dataset.dtype.isInteger ? 0 : 1e-6
        expectClose(dataset.cube.values, expected.cube.map { Float($0) }, tolerance: tolerance, "\(name) cube")
        if let e = expected.endmembers, let a = expected.abundances {
            let truth = try #require(dataset.truth, "\(name): ground truth not read (\(dataset.warnings))")
            #expect(truth.r == expected.r)
            expectClose(truth.endmembers, e.map { Float($0) }, tolerance: 1e-6, "\(name) endmembers")
            expectClose(truth.abundances, a.map { Float($0) }, tolerance: 1e-6, "\(name) abundances")
            #expect(truth.names == expected.names)
        } else {
            #expect(dataset.truth == nil, "\(name) has no truth")
        }
        if let wavelengths = expected.wavelengths {
            #expect(dataset.signalAxis.units == "nm")
            #expect(dataset.signalAxis.name == "wavelength")
            for (i, w) in wavelengths.enumerated() { expectClose(dataset.signalAxis.value(i), w, tolerance: 1e-9, "wavelength \(i)") }
        } else {
            #expect(dataset.signalAxis.isUncalibrated)
        }
    }

    /// The truth in each file scores its own cube: Y equals E·A at every pixel in our order
    /// (to 1e-5). The check discriminates: the same values with the pixels taken column by
    /// column (the other order a 3 × 5 map could be read in) do not pass it.
    @Test(arguments: truthFixtures)
    func truthMixesToTheCubeInOurPixelOrder(name: String) throws {
        let (dataset, _) = try open(name)
        let truth = try #require(dataset.truth)
        let cube = dataset.cube.values
        let bands = dataset.cube.bands
        #expect(mixtureError(cube, truth: truth, bands: bands) <= 1e-5, "\(name): Y ≠ E·A in row-major pixel order")
        let (rows, cols) = (dataset.cube.rows, dataset.cube.cols)
        var columnByColumn = [Float](repeating: 0, count: cube.count)
        for i in 0..<(rows * cols) {
            let (r, c) = (i % rows, i / rows)
            for b in 0..<bands { columnByColumn[(r * cols + c) * bands + b] = cube[i * bands + b] }
        }
        #expect(mixtureError(columnByColumn, truth: truth, bands: bands) > 1e-3, "\(name): the mixture check does not tell pixel orders apart")
    }

    @Test func recognizesHeaders() throws {
        for name in ["hysupp_v5.mat", "hysupp_v73.mat", "hu_v5z.mat"] {
            let head = [UInt8](try Data(contentsOf: dataFixture("mat/\(name)")).prefix(1024))
            #expect(MATLABReader.recognizes(head, path: name) == true, "\(name)")
        }
        // Version 4 has no signature: a plausible first header is left to the extension.
        let v4 = [UInt8](try Data(contentsOf: dataFixture("mat/hysupp_v4.mat")).prefix(1024))
        #expect(MATLABReader.recognizes(v4, path: "hysupp_v4.mat") == nil)
        // A header of text with the big-endian indicator "MI" and version 0x0100.
        var big = [UInt8](repeating: 0x20, count: 128)
        big[124] = 0x01; big[125] = 0x00; big[126] = UInt8(ascii: "M"); big[127] = UInt8(ascii: "I")
        #expect(MATLABReader.recognizes(big, path: "x.mat") == true)
        #expect(MATLABReader.recognizes(Array("\u{93}NUMPY\u{1}\u{0}v\u{0}{'descr': '<f4'".utf8), path: "x.npy") == false)
        #expect(MATLABReader.recognizes([], path: "x.mat") == false)
    }

    @Test func namedMatButNotMat() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("fake.mat").path
            try Data("this is plain text, long enough to be a header of some kind, but it is not".utf8).write(to: URL(fileURLWithPath: path))
            expectUnmixError(containing: ["fake.mat", "not a MATLAB file"]) { _ = try Datasets.open(path) }
        }
    }

    @Test func bareYNeedsTheMapSize() throws {
        let path = dataFixture("mat/bare_y_v5.mat").path
        expectUnmixError(containing: ["bare_y_v5.mat", "8 × 15", "--shape"]) { _ = try Datasets.open(path) }
        expectUnmixError(containing: ["bare_y_v5.mat", "4 × 4", "16 pixels"]) {
            _ = try Datasets.open(path, options: ReadOptions(shape: (rows: 4, cols: 4)))
        }
        let dataset = try Datasets.open(path, options: ReadOptions(shape: (rows: 3, cols: 5)))
        #expect(dataset.warnings.contains { $0.contains("row by row") })
    }

    @Test func shapeContradictingTheFileIsAUsageError() {
        do {
            _ = try Datasets.open(dataFixture("mat/hysupp_v5.mat").path, options: ReadOptions(shape: (rows: 5, cols: 3)))
            Issue.record("--shape 5x3 for a 3 × 5 file was accepted")
        } catch let error as UnmixError {
            #expect(error.kind == .usage)
            #expect(error.message.contains("contradicts"), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
        expectUnmixError(containing: ["only for 2-D inputs", "cube_v5.mat"]) {
            _ = try Datasets.open(dataFixture("mat/cube_v5.mat").path, options: ReadOptions(shape: (rows: 5, cols: 3)))
        }
    }

    @Test func labelMapsAreNamedNotRead() throws {
        let (dataset, _) = try open("cube_v5.mat")
        #expect(dataset.warnings.contains { $0.contains("'indian_pines_gt'") && $0.contains("label map") }, "\(dataset.warnings)")
        #expect(dataset.format == "MATLAB 5 (rows × cols × bands 'indian_pines_corrected')")
        #expect(dataset.title == "cube_v5")
        let (v73, _) = try open("cube_v73.mat")
        #expect(v73.warnings.contains { $0.contains("'salinas_gt'") }, "\(v73.warnings)")
    }

    @Test func refusesFilesWithoutACube() {
        expectUnmixError(containing: ["no_cube_v5.mat", "no cube found", "note"]) {
            _ = try Datasets.open(dataFixture("mat/no_cube_v5.mat").path)
        }
        expectUnmixError(containing: ["complex_v5.mat", "'Y' is complex"]) {
            _ = try Datasets.open(dataFixture("mat/complex_v5.mat").path)
        }
        expectUnmixError(containing: ["/nonexistent/x.mat", "no such file"]) { _ = try Datasets.open("/nonexistent/x.mat") }
    }

    // MARK: - Writer

    @Test(arguments: [(MATLABWriter.Version.v73, true), (.v73, false), (.v5, true), (.v5, false)])
    func writerRoundTrip(version: MATLABWriter.Version, compressed: Bool) throws {
        let (source, _) = try open("hu_v5z.mat")  // column-major pixels in the file; truth R = 3
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("out.mat").path
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))  // replaced
            try MATLABWriter.write(source, to: path, version: version, compressed: compressed)
            let listing = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            #expect(listing == ["out.mat"], "temporary file left: \(listing)")
            let back = try Datasets.open(path)
            #expect(back.format == "MATLAB \(version == .v5 ? "5" : "7.3") (HySUPP layout)")
            #expect(back.dtype == .float32)
            #expect(back.cube.rows == 3 && back.cube.cols == 5 && back.cube.bands == 8)
            #expect(back.cube.values == source.cube.values)
            let truth = try #require(back.truth)
            #expect(truth.r == 3)
            #expect(truth.endmembers == source.truth?.endmembers)
            #expect(truth.abundances == source.truth?.abundances)
            #expect(back.warnings.isEmpty, "\(back.warnings)")
        }
    }

    @Test func writerWithoutTruthWritesNoTruth() throws {
        let (source, _) = try open("cube_v5.mat")
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("plain.mat").path
            try MATLABWriter.write(source, to: path)
            let back = try Datasets.open(path)
            #expect(back.truth == nil)
            #expect(back.cube.values == source.cube.values)
        }
    }

    /// An uncompressed 7.3 variable is a contiguous HDF5 dataset: read from the mapped file, in
    /// place when it is float32 in pixel order (HySUPP's `Y`), as a copy when compressed.
    @Test func uncompressedV73IsReadInPlace() throws {
        let (source, _) = try open("hysupp_v5.mat")
        try withTemporaryDirectory { dir in
            for compressed in [false, true] {
                let path = dir.appendingPathComponent("y\(compressed).mat").path
                try MATLABWriter.write(source, to: path, version: .v73, compressed: compressed)
                let back = try Datasets.open(path)
                #expect(back.cube.storage.isMapped == !compressed, "compressed: \(compressed)")
                #expect(back.cube.values == source.cube.values)
                #expect(back.truth?.abundances == source.truth?.abundances)
            }
        }
    }

    @Test func writerFailureLeavesNothing() throws {
        let (source, _) = try open("hysupp_v5.mat")
        try withTemporaryDirectory { dir in
            let missing = dir.appendingPathComponent("no/such/dir/out.mat").path
            expectUnmixError(containing: ["cannot write", "out.mat"]) { try MATLABWriter.write(source, to: missing) }
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            #expect(left.isEmpty, "left behind: \(left)")
        }
    }

    // MARK: - Robustness

    /// Several hundred corrupted variants of each fixture (v4, v5 plain and compressed, 7.3)
    /// through `Datasets.open`: each one is read or refused with one `UnmixError` line, never
    /// a trap. Each mutant is written to the same name, so that after a crash of libmatio
    /// the file left in the temporary folder is the one that crashed it.
    @Test(arguments: ["hysupp_v5.mat", "hysupp_v5z.mat", "hu_v5.mat", "hu_v5z.mat", "cube_v5.mat", "hysupp_v4.mat",
                      "hysupp_v73.mat", "hu_v73.mat", "cube_v73.mat", "cube_uint16_v5.mat"])
    func mutantsAreReadOrRefused(name: String) throws {
        let seed = [UInt8](try Data(contentsOf: dataFixture("mat/\(name)")))
        let options = expectations[name]?.options ?? ReadOptions()
        var refused = 0
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent(name).path
            for (i, bytes) in mutants(of: seed, count: 300, seed: UInt64(name.utf8.count) &* 7919).enumerated() {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do {
                    _ = try Datasets.open(path, options: options)
                } catch let error as UnmixError {
                    refused += 1
                    #expect(!error.message.contains("\n"), "mutant \(i): \(error.message)")
                    #expect(error.message.contains(name), "mutant \(i): \(error.message)")
                } catch {
                    Issue.record("mutant \(i) of \(name): \(type(of: error)) \(error)")
                }
            }
        }
        #expect(refused > 0, "no mutant of \(name) was refused: the mutations did not reach the reader")
    }
}
