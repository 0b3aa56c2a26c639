import Foundation
import Testing
import UnmixIO
import _TestSupport

/// What `Tests/Fixtures/data/make/ripple.py` recorded for each pair (as HyperSpy read it back).
private struct RippleExpectation: Decodable {
    var rows: Int
    var cols: Int
    var bands: Int
    var dtype: String
    var values: [Double]
    var sum: Double
    var signal: ExpectedAxis
    var row: ExpectedAxis
    var col: ExpectedAxis
    var title: String
    var record_by: String
}

/// HyperSpy (RosettaSciIO 0.15) writes an axis without name or units as "None" and reads the
/// word back; unmix reads it as absent (the default name, no units).
private func unmixView(_ axis: ExpectedAxis, defaultName: String) -> ExpectedAxis {
    var axis = axis
    if axis.name == "None" { axis.name = defaultName }
    if axis.units == "None" { axis.units = "" }
    return axis
}

private let header2x3x4 = """
    key\tvalue
    width\t3
    height\t2
    depth\t4
    offset\t0
    data-length\t4
    data-type\tfloat
    byte-order\tlittle-endian
    record-by\tvector

    """

private func floats(_ values: [Float], bigEndian: Bool = false) -> [UInt8] {
    var w = ByteWriter()
    for v in values { w.append(v.bitPattern, bigEndian: bigEndian) }
    return w.bytes
}

@Suite struct RippleTests {
    // MARK: Real files

    /// The RosettaSciIO test pairs: 2 × 3 × 4, energy origin 1.5 eV, 300 eV per channel, values
    /// 0…23 in vector order (summing to 276), as HyperSpy 2.5 reads them: the navigation axes
    /// have origins 0.5 and 1.0 m and scales 100 and 200 m; the file names the axes "1", "2", "3".
    @Test(arguments: ["float32", "uint16"])
    func readsRosettaSciIOPair(type: String) throws {
        guard let rpl = sharedDataFile("test_ripple_sdim-1_ndim-2_\(type).rpl") else {
            print(sharedDataMissing)
            return
        }
        for path in [rpl.path, rpl.deletingPathExtension().appendingPathExtension("raw").path] {
            let d = try Datasets.open(path)
            #expect(d.format == "Lispix ripple (vector)")
            #expect(d.dtype == (type == "float32" ? .float32 : .uint16))
            #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (2, 3, 4))
            #expect(d.cube.values == (0..<24).map(Float.init))
            #expect(d.cube.values.reduce(0, +) == 276)
            #expect(d.signalAxis == Axis(name: "3", size: 4, offset: 1.5, scale: 300, units: "eV"))
            #expect(d.rowAxis == Axis(name: "1", size: 2, offset: 0.5, scale: 100, units: "m"))
            #expect(d.colAxis == Axis(name: "2", size: 3, offset: 1.0, scale: 200, units: "m"))
            #expect(d.title == "test_ripple_sdim-1_ndim-2_\(type)", "an empty title falls back on the file name")
            #expect(d.warnings.isEmpty, "\(d.warnings)")
        }
    }

    /// Native little-endian float32 `vector` data is used in place from the mapped file.
    @Test func float32VectorIsMapped() throws {
        let d = try Datasets.open(dataFixture("ripple/eels_float32.rpl").path)
        #expect(d.cube.storage.isMapped)
    }

    // MARK: Fixtures written by HyperSpy

    @Test(arguments: ["eels_float32", "eels_uint16", "eels_int32be", "stack_float64"])
    func readsHyperSpyFixture(name: String) throws {
        let all = try fixtureExpectations("ripple", as: [String: RippleExpectation].self)
        let expected = try #require(all[name])
        let d = try Datasets.open(dataFixture("ripple/\(name).rpl").path)
        #expect(d.format == "Lispix ripple (\(expected.record_by))")
        #expect(d.dtype.rawValue == expected.dtype)
        #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (expected.rows, expected.cols, expected.bands))
        #expect(d.cube.values == expected.values.map(Float.init))
        #expect(Double(d.cube.values.reduce(0, +)) == expected.sum)
        expectAxis(d.signalAxis, unmixView(expected.signal, defaultName: "depth"), "signal")
        expectAxis(d.rowAxis, unmixView(expected.row, defaultName: "height"), "row")
        expectAxis(d.colAxis, unmixView(expected.col, defaultName: "width"), "column")
        #expect(d.title == expected.title)
    }

    // MARK: Header variants

    @Test func parsesSpacesUppercaseCommentsAndDefaults() throws {
        let text = """
            ; a comment line
            KEY   VALUE
            Width  3 ; columns
            HEIGHT 2
            Depth\t\t4
            data-Length 2
            DATA-TYPE Signed
            record-by Vector
            depth-scale 2.5
            depth-units eV
            ev-per-chan 10
            """
        let h = try RippleHeader(parsing: text, name: "h.rpl")
        #expect((h.width, h.height, h.depth, h.offset) == (3, 2, 4, 0))
        #expect(h.type == .int16)
        #expect(h.byteOrder == nil)
        #expect(h.recordBy == .vector)
        var problems = [String]()
        let axis = h.axis("depth", size: 4, defaultName: "depth", name: "h.rpl", problems: &problems)
        #expect(axis == Axis(name: "depth", size: 4, offset: 0, scale: 2.5, units: "eV"), "depth-scale wins over ev-per-chan")
        #expect(problems.isEmpty)
    }

    /// Lispix's own calibration key: `ev-per-chan` alone gives the scale in eV.
    @Test func evPerChannelAlone() throws {
        let h = try RippleHeader(parsing: header2x3x4 + "ev-per-chan\t10\ndepth-origin\tnot-a-number\n", name: "h.rpl")
        var problems = [String]()
        let axis = h.axis("depth", size: 4, defaultName: "depth", name: "h.rpl", problems: &problems)
        #expect(axis == Axis(name: "depth", size: 4, offset: 0, scale: 10, units: "eV"))
        #expect(problems.count == 1 && problems[0].contains("depth-origin"))
    }

    @Test func oxfordINCAHeader() throws {
        let text = """
            (MLX::FILENAME : map)
            (MLX::width : 3)
            (MLX::height : 2)
            (MLX::depth : 4)
            (MLX::offset : 8)
            (MLX::data-length : 4)
            (MLX::data-type : float)
            (MLX::byte-order : big-endian)
            (MLX::record-by : vector)
            """
        let h = try RippleHeader(parsing: text, name: "inca.rpl")
        #expect((h.width, h.height, h.depth, h.offset) == (3, 2, 4, 8))
        #expect(h.byteOrder == .big)
        let values = (0..<24).map { Float($0) * 0.5 - 3 }
        let d = try openWritten(["m.rpl": Array(text.utf8), "m.RAW": [1, 2, 3, 4, 5, 6, 7, 8] + floats(values, bigEndian: true)],
                                open: "m.rpl")
        #expect(d.cube.values == values)
    }

    /// `record-by image`: one image per channel (band-sequential), big-endian, with an offset.
    @Test func imageRecordBigEndianWithOffset() throws {
        let text = header2x3x4.replacingOccurrences(of: "record-by\tvector", with: "record-by\timage")
            .replacingOccurrences(of: "offset\t0", with: "offset\t5")
            .replacingOccurrences(of: "little-endian", with: "big-endian")
        // Stored: band b, row r, column c holds 100 b + 10 r + c.
        var stored = [Float]()
        for b in 0..<4 { for r in 0..<2 { for c in 0..<3 { stored.append(Float(100 * b + 10 * r + c)) } } }
        let d = try openWritten(["i.rpl": Array(text.utf8), "i.raw": [9, 9, 9, 9, 9] + floats(stored, bigEndian: true)],
                                open: "i.raw")
        #expect(d.format == "Lispix ripple (image)")
        var expected = [Float]()
        for r in 0..<2 { for c in 0..<3 { for b in 0..<4 { expected.append(Float(100 * b + 10 * r + c)) } } }
        #expect(d.cube.values == expected)
    }

    @Test func dontCareIsOneImage() throws {
        let text = header2x3x4.replacingOccurrences(of: "depth\t4", with: "depth\t1")
            .replacingOccurrences(of: "record-by\tvector", with: "record-by\tdont-care")
            .replacingOccurrences(of: "data-length\t4", with: "data-length\t1")
            .replacingOccurrences(of: "data-type\tfloat", with: "data-type\tunsigned")
        let d = try openWritten(["g.rpl": Array(text.utf8), "g.raw": [0, 1, 2, 3, 4, 250]], open: "g.rpl")
        #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (2, 3, 1))
        #expect(d.cube.values == [0, 1, 2, 3, 4, 250])
        #expect(d.dtype == .uint8)
    }

    @Test func extraBytesAreAWarning() throws {
        let d = try openWritten(["x.rpl": Array(header2x3x4.utf8), "x.raw": floats((0..<25).map(Float.init))], open: "x.rpl")
        #expect(d.cube.values == (0..<24).map(Float.init))
        #expect(d.warnings.contains { $0.contains("4 bytes after") })
    }

    // MARK: Refusals

    @Test func rawFileTooShort() {
        expectUnmixError(containing: ["x.raw", "truncated", "needs 96 bytes, found 92"]) {
            _ = try openWritten(["x.rpl": Array(header2x3x4.utf8), "x.raw": floats((0..<23).map(Float.init))], open: "x.rpl")
        }
    }

    @Test func offsetPastTheEnd() {
        let text = header2x3x4.replacingOccurrences(of: "offset\t0", with: "offset\t1000000")
        expectUnmixError(containing: ["x.raw", "truncated"]) {
            _ = try openWritten(["x.rpl": Array(text.utf8), "x.raw": floats((0..<24).map(Float.init))], open: "x.rpl")
        }
    }

    @Test(arguments: [
        ("width\t3", "width\t4611686018427387904", "overflows"),
        ("width\t3", "width\t99999999999999999999999", "not a positive integer"),
        ("width\t3", "width\t-3", "not a positive integer"),
        ("depth\t4", "depth\t0", "not a positive integer"),
        ("data-type\tfloat", "data-type\tcomplex", "expected signed, unsigned or float"),
        ("data-length\t4", "data-length\t3", "expected 1, 2, 4 or 8"),
        ("data-length\t4", "data-length\t2", "for float data"),
        ("record-by\tvector", "record-by\tdiagonal", "expected vector, image or dont-care"),
        ("record-by\tvector", "record-by\tdont-care", "single image"),
        ("byte-order\tlittle-endian", "byte-order\tmiddle-endian", "byte-order"),
        ("height\t2\n", "", "no 'height' key"),
    ])
    func refusesBadHeaders(original: String, replacement: String, problem: String) {
        let text = header2x3x4.replacingOccurrences(of: original, with: replacement)
        expectUnmixError(containing: ["x.rpl", problem]) {
            _ = try openWritten(["x.rpl": Array(text.utf8), "x.raw": floats((0..<24).map(Float.init))], open: "x.rpl")
        }
    }

    @Test func missingCompanions() {
        expectUnmixError(containing: ["x.rpl", "no data file", "x.raw"]) {
            _ = try openWritten(["x.rpl": Array(header2x3x4.utf8)], open: "x.rpl")
        }
        // A .raw alone is neither ripple's nor ENVI's: the message names both headers looked for.
        expectUnmixError(containing: ["x.raw", "no header", "x.rpl", "x.hdr"]) {
            _ = try openWritten(["x.raw": floats([1])], open: "x.raw")
        }
    }

    @Test func binaryFileNamedRpl() {
        expectUnmixError(containing: ["x.rpl", "not a Lispix ripple file"]) {
            _ = try openWritten(["x.rpl": [0, 1, 2, 3, 0xFF], "x.raw": []], open: "x.rpl")
        }
    }

    // MARK: Writer

    @Test func writerRoundTrip() throws {
        let values = (0..<(3 * 5 * 6)).map { Float($0) * 0.75 - 11 }
        let original = Dataset(path: "mem", format: "test", cube: CubeData(rows: 3, cols: 5, bands: 6, values: values),
                               dtype: .float32,
                               signalAxis: Axis(name: "Energy loss", size: 6, offset: 280.5, scale: 0.1, units: "eV"),
                               rowAxis: Axis(name: "y", size: 3, offset: -1.5, scale: 2.25, units: "nm"),
                               colAxis: Axis(name: "x", size: 5, offset: 0.125, scale: 1e-3, units: "µm"),
                               title: "round\ttrip; with odd characters")
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("out.rpl").path
            var warnings = [String]()
            try RippleWriter.write(original, to: path, warnings: &warnings)
            #expect(warnings.isEmpty)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            #expect(leftovers == ["out.raw", "out.rpl"], "the atomic write left \(leftovers)")
            let back = try Datasets.open(path)
            #expect(back.cube.values == values)
            #expect(back.dtype == .float32)
            #expect(back.signalAxis == original.signalAxis)
            #expect(back.rowAxis == original.rowAxis)
            #expect(back.colAxis == original.colAxis)
            #expect(back.title == "round trip  with odd characters")
            #expect(back.cube.storage.isMapped)
        }
    }

    /// What HyperSpy's parser demands: a comment, then `key<TAB>value` lines with the enumerated
    /// values it accepts (checked by hand against RosettaSciIO 0.15: `hs.load` read this file).
    @Test func writerHeaderIsWhatHyperSpyParses() throws {
        let d = Dataset(path: "mem", format: "test", cube: CubeData(rows: 1, cols: 2, bands: 3, values: [1, 2, 3, 4, 5, 6]),
                        dtype: .float32)
        var warnings = [String]()
        let text = RippleWriter.header(for: d, warnings: &warnings)
        let lines = text.split(separator: "\n")
        #expect(lines.first?.hasPrefix(";") == true)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 2 })
        for required in ["width\t2", "height\t1", "depth\t3", "offset\t0", "data-length\t4", "data-type\tfloat",
                         "byte-order\tlittle-endian", "record-by\tvector", "depth-origin\t0.0", "depth-scale\t1.0"] {
            #expect(lines.contains(Substring(required)), "missing \(required)")
        }
    }

    @Test func writerApproximatesNonUniformAxis() throws {
        let d = Dataset(path: "mem", format: "test", cube: CubeData(rows: 1, cols: 1, bands: 3, values: [1, 2, 3]),
                        dtype: .float32, signalAxis: Axis(name: "E", size: 3, values: [1, 2, 5]))
        try withTemporaryDirectory { dir in
            var warnings = [String]()
            try RippleWriter.write(d, to: dir.appendingPathComponent("n").path, warnings: &warnings)
            #expect(warnings.count == 1 && warnings[0].contains("uniform"))
            let back = try Datasets.open(dir.appendingPathComponent("n.raw").path)
            #expect(back.signalAxis == Axis(name: "E", size: 3, offset: 1, scale: 2))
        }
    }

    @Test func writerIntoMissingFolder() {
        let d = Dataset(path: "mem", format: "test", cube: CubeData(rows: 1, cols: 1, bands: 1, values: [1]), dtype: .float32)
        expectUnmixError(containing: ["cannot write", "/nonexistent/dir/a.raw"]) {
            try RippleWriter.write(d, to: "/nonexistent/dir/a.rpl")
        }
    }

    // MARK: Robustness

    /// Several hundred mutants of each file of each pair (header and data in turn).
    @Test(arguments: ["real-float32", "real-uint16", "eels_float32", "eels_uint16", "eels_int32be", "stack_float64"])
    func mutantsFailCleanly(seedName: String) throws {
        let folder: URL, stem: String
        if seedName.hasPrefix("real-") {
            guard let dir = sharedDataDirectory() else {
                print(sharedDataMissing)
                return
            }
            (folder, stem) = (dir, "test_ripple_sdim-1_ndim-2_\(seedName.dropFirst(5))")
        } else {
            (folder, stem) = (dataFixture("ripple"), seedName)
        }
        let files = try readFiles(["\(stem).rpl", "\(stem).raw"], in: folder)
        let outcome = try runMutants(of: files, open: "\(stem).rpl", count: 300, seed: 0x5249_5050)
        #expect(outcome.tried == 600)
        #expect(outcome.opened > 0 && outcome.refused > 0, "\(outcome): the mutants should reach both outcomes")
    }

    /// The seeds kept for the fuzzer open.
    @Test func fuzzSeedsOpen() throws {
        let folder = repositoryRoot().appendingPathComponent("Tests/Fixtures/fuzz/ripple")
        let headers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".rpl") }
        #expect(headers.count >= 3)
        for name in headers { _ = try Datasets.open(folder.appendingPathComponent(name).path) }
    }
}
