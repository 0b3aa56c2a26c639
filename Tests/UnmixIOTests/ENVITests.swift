import Foundation
import Testing
import UnmixIO
import _TestSupport

/// What `Tests/Fixtures/data/make/envi.py` recorded for each file (as `spectral` read it back).
private struct ENVIExpectation: Decodable {
    var header: String
    var data: String
    var rows: Int
    var cols: Int
    var bands: Int
    var dtype: String
    var interleave: String
    var byte_order: Int
    var values: [Double]
    var wavelength: [Double]?
    var wavelength_units: String
    var description: String
}

private let header3x5x2 = """
    ENVI
    samples = 5
    lines = 3
    bands = 2
    header offset = 0
    data type = 4
    interleave = bip
    byte order = 0

    """

private func floats(_ values: [Float], bigEndian: Bool = false) -> [UInt8] {
    var w = ByteWriter()
    for v in values { w.append(v.bitPattern, bigEndian: bigEndian) }
    return w.bytes
}

private let thirty = floats((0..<30).map(Float.init))

@Suite struct ENVITests {
    // MARK: Fixtures written by spectral

    /// Every fixture, opened by its header and by its data file.
    @Test(arguments: ["bip_float32", "bil_int16", "bsq_uint16", "bsq_float64", "library"])
    func readsSpectralFixture(name: String) throws {
        let all = try fixtureExpectations("envi", as: [String: ENVIExpectation].self)
        let expected = try #require(all[name])
        for path in [expected.header, expected.data] {
            let d = try Datasets.open(dataFixture("envi/\(path)").path)
            #expect(d.format == (name == "library" ? "ENVI spectral library" : "ENVI (\(expected.interleave))"), "\(path)")
            #expect(d.dtype.rawValue == expected.dtype)
            #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (expected.rows, expected.cols, expected.bands))
            #expect(d.cube.values == expected.values.map(Float.init), "\(path)")
            let units = ENVIHeader.shortUnits(expected.wavelength_units)
            if let wavelength = expected.wavelength {
                #expect(d.signalAxis.name == "Wavelength")
                #expect(d.signalAxis.units == units)
                expectClose(d.signalAxis.allValues.map(Float.init), wavelength.map(Float.init), tolerance: 1e-9, "wavelengths")
                for (i, w) in wavelength.enumerated() { expectClose(d.signalAxis.value(i), w, tolerance: 1e-12, "wavelength \(i)") }
            } else {
                #expect(d.signalAxis == .index("band", size: expected.bands))
            }
            #expect(d.title == (expected.description.isEmpty ? (expected.header as NSString).deletingPathExtension : expected.description))
            #expect(d.rowAxis.isUncalibrated && d.colAxis.isUncalibrated)
        }
    }

    /// The wavelength list of the BIP fixture is not uniform: every value is kept. The BSQ
    /// float64 one is (1.5 µm + 0.25 µm steps): offset and scale.
    @Test func wavelengthListsUniformOrNot() throws {
        let bip = try Datasets.open(dataFixture("envi/bip_float32.hdr").path)
        #expect(bip.signalAxis.values == [400.5, 410.0, 432.25, 470.0, 520.5, 600.0, 701.75])
        #expect(bip.signalAxis.units == "nm")
        #expect(bip.title == "BIP float32 fixture")
        #expect(bip.cube.storage.isMapped, "little-endian float32 BIP is used in place")
        let bsq = try Datasets.open(dataFixture("envi/bsq_float64.img").path)
        #expect(bsq.signalAxis == Axis(name: "Wavelength", size: 7, offset: 1.5, scale: 0.25, units: "µm"))
    }

    @Test func headerParsing() throws {
        let text = """
            ENVI
            ; a comment = not a key
            Description = { two
              lines, with a comma }
            SAMPLES = 2
            lines=1
            bands   =  3
            Header  Offset = 16
            data type = 12
            interleave = BSQ
            byte order = 1
            wavelength units = Micrometers
            wavelength = {
             0.5, 0.75,
             1.0 }
            band names = { red, green,
             blue }
            """
        let h = try ENVIHeader(parsing: text, name: "h.hdr")
        #expect((h.samples, h.lines, h.bands, h.headerOffset) == (2, 1, 3, 16))
        #expect(h.type == .uint16)
        #expect(h.interleave == .bsq)
        #expect(h.byteOrder == .big)
        #expect(h.wavelengths == [0.5, 0.75, 1.0])
        #expect(h.wavelengthUnits == "µm")
        #expect(h.bandNames == ["red", "green", "blue"])
        #expect(h.description == "two\nlines, with a comma")
        #expect(h.problems.isEmpty)
    }

    @Test(arguments: [(1, SampleType.uint8), (2, .int16), (3, .int32), (4, .float32), (5, .float64),
                      (12, .uint16), (13, .uint32), (14, .int64), (15, .uint64)])
    func everyDataType(code: Int, type: SampleType) throws {
        // Values 0…29, big-endian (byte order 1), in the type's own width.
        var w = ByteWriter()
        for i in 0..<30 {
            switch type {
            case .uint8: w.append(UInt8(i))
            case .int16: w.append(Int16(i) - 7, bigEndian: true)
            case .int32: w.append(Int32(i) - 7, bigEndian: true)
            case .float32: w.append(Float(i).bitPattern, bigEndian: true)
            case .float64: w.append(Double(i).bitPattern, bigEndian: true)
            case .uint16: w.append(UInt16(i), bigEndian: true)
            case .uint32: w.append(UInt32(i), bigEndian: true)
            case .int64: w.append(Int64(i) - 7, bigEndian: true)
            case .uint64: w.append(UInt64(i), bigEndian: true)
            default: Issue.record("untested type")
            }
        }
        let text = header3x5x2.replacingOccurrences(of: "data type = 4", with: "data type = \(code)")
            .replacingOccurrences(of: "byte order = 0", with: "byte order = 1")
        let d = try openWritten(["t.hdr": Array(text.utf8), "t.dat": w.bytes], open: "t.hdr")
        let signed: Set<SampleType> = [.int16, .int32, .int64]
        #expect(d.dtype == type)
        #expect(d.cube.values == (0..<30).map { Float($0 - (signed.contains(type) ? 7 : 0)) })
    }

    /// BIL with a header offset: line r holds band 0 of its columns, then band 1.
    @Test func bilWithHeaderOffset() throws {
        let text = header3x5x2.replacingOccurrences(of: "interleave = bip", with: "interleave = bil")
            .replacingOccurrences(of: "header offset = 0", with: "header offset = 3")
        var stored = [Float]()
        for r in 0..<3 { for b in 0..<2 { for c in 0..<5 { stored.append(Float(100 * r + 10 * c + b)) } } }
        let d = try openWritten(["l.hdr": Array(text.utf8), "l": [7, 7, 7] + floats(stored)], open: "l")
        var expected = [Float]()
        for r in 0..<3 { for c in 0..<5 { for b in 0..<2 { expected.append(Float(100 * r + 10 * c + b)) } } }
        #expect(d.cube.values == expected)
        #expect(d.format == "ENVI (bil)")
    }

    /// A data file of any extension is found beside the header (and a choice among several is said).
    @Test func anyDataExtension() throws {
        let d = try openWritten(["scene.hdr": Array(header3x5x2.utf8), "scene.cube": thirty], open: "scene.hdr")
        #expect(d.cube.values == (0..<30).map(Float.init))
        #expect(d.warnings.isEmpty)
        let two = try openWritten(["s.hdr": Array(header3x5x2.utf8), "s.b1": thirty, "s.b2": thirty, "s.aux.xml": [60]],
                                  open: "s.hdr")
        #expect(two.warnings.contains { $0.contains("several files") && $0.contains("read s.b1") })
    }

    @Test func missingWavelengthCountIsAWarning() throws {
        let text = header3x5x2 + "wavelength = { 1, 2, 3 }\n"
        let d = try openWritten(["w.hdr": Array(text.utf8), "w.img": thirty], open: "w.img")
        #expect(d.signalAxis == .index("band", size: 2))
        #expect(d.warnings.contains { $0.contains("wavelength list (3 values)") })
    }

    @Test func defaultsAreWarnings() throws {
        let text = header3x5x2.replacingOccurrences(of: "interleave = bip\n", with: "")
            .replacingOccurrences(of: "byte order = 0\n", with: "")
        let d = try openWritten(["q.hdr": Array(text.utf8), "q.img": thirty], open: "q.hdr")
        #expect(d.format == "ENVI (bsq)")
        #expect(d.warnings.contains { $0.contains("bsq assumed") })
        #expect(d.warnings.contains { $0.contains("little-endian (0) assumed") })
    }

    // MARK: Refusals

    @Test(arguments: [
        ("data type = 4", "data type = 6", "complex samples (ENVI data type 6)"),
        ("data type = 4", "data type = 9", "complex samples (ENVI data type 9)"),
        ("data type = 4", "data type = 7", "not an ENVI data type"),
        ("interleave = bip", "interleave = bsp", "not bsq, bil or bip"),
        ("byte order = 0", "byte order = 2", "not 0 (little-endian) or 1"),
        ("samples = 5", "samples = 5x", "not a positive integer"),
        ("lines = 3", "lines = 0", "not a positive integer"),
        ("bands = 2\n", "", "no 'bands'"),
        ("header offset = 0", "header offset = -1", "not a non-negative integer"),
        ("lines = 3", "lines = 4294967296\nsamples = 4294967296", "overflows"),
        ("lines = 3", "lines = 3037000500\nsamples = 3037000500", "overflows"),
        ("header offset = 0", "header offset = 4000000", "truncated"),
        ("byte order = 0", "byte order = 0\nmajor frame offsets = { 0, 4 }", "frame offsets"),
        ("ENVI", "ENVY", "not an ENVI file"),
    ])
    func refusesLyingHeaders(original: String, replacement: String, problem: String) {
        let text = header3x5x2.replacingOccurrences(of: original, with: replacement)
        expectUnmixError(containing: ["x.", problem]) {
            _ = try openWritten(["x.hdr": Array(text.utf8), "x.img": thirty], open: "x.hdr")
        }
    }

    @Test func dataTooShort() {
        expectUnmixError(containing: ["x.img", "truncated", "needs 120 bytes, found 116"]) {
            _ = try openWritten(["x.hdr": Array(header3x5x2.utf8), "x.img": Array(thirty.dropLast(4))], open: "x.img")
        }
    }

    @Test func unclosedBraceList() {
        expectUnmixError(containing: ["x.hdr", "brace list of 'wavelength' is not closed"]) {
            _ = try openWritten(["x.hdr": Array((header3x5x2 + "wavelength = { 1,\n 2\n").utf8), "x.img": thirty], open: "x.hdr")
        }
    }

    @Test func missingCompanions() {
        expectUnmixError(containing: ["x.hdr", "no data file beside the ENVI header"]) {
            _ = try openWritten(["x.hdr": Array(header3x5x2.utf8)], open: "x.hdr")
        }
        expectUnmixError(containing: ["x.img", "no header beside the data file", "x.img.hdr", "x.hdr"]) {
            _ = try openWritten(["x.img": thirty], open: "x.img")
        }
    }

    // MARK: Writer

    @Test(arguments: [RawLayout.Interleave.bip, .bil, .bsq])
    func writerRoundTrip(interleave: RawLayout.Interleave) throws {
        let values = (0..<(3 * 4 * 5)).map { Float($0) * 1.25 - 7 }
        let axes: [Axis] = [
            Axis(name: "Wavelength", size: 5, offset: 400, scale: 2.5, units: "nm"),
            Axis(name: "Wavelength", size: 5, values: [1.5, 1.6, 1.8, 2.1, 3.0]).withUnits("µm"),
            .index("band", size: 5),
        ]
        for axis in axes {
            let original = Dataset(path: "mem", format: "test", cube: CubeData(rows: 3, cols: 4, bands: 5, values: values),
                                   dtype: .float32, signalAxis: axis, title: "a {braced}\ntitle")
            try withTemporaryDirectory { dir in
                let path = dir.appendingPathComponent("out.hdr").path
                try ENVIWriter.write(original, to: path, interleave: interleave)
                let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
                #expect(names == ["out.hdr", "out.img"], "the atomic write left \(names)")
                let back = try Datasets.open(path)
                #expect(back.format == "ENVI (\(interleave.rawValue))")
                #expect(back.cube.values == values)
                #expect(back.title == "a  braced  title")
                #expect(back.signalAxis.matches(axis, tolerance: 1e-9), "\(back.signalAxis) vs \(axis)")
                #expect(back.signalAxis.units == axis.units)
                #expect((back.signalAxis.values == nil) == (axis.values == nil))
            }
        }
    }

    /// The writer's header, line by line, as ENVI and spectral expect it.
    @Test func writerHeaderText() {
        let d = Dataset(path: "mem", format: "test", cube: CubeData(rows: 1, cols: 2, bands: 2, values: [1, 2, 3, 4]),
                        dtype: .float32, signalAxis: Axis(name: "E", size: 2, offset: 400.5, scale: 10, units: "nm"), title: "t")
        let text = ENVIWriter.header(for: d, interleave: .bsq)
        #expect(text == """
            ENVI
            description = {t}
            samples = 2
            lines = 1
            bands = 2
            header offset = 0
            file type = ENVI Standard
            data type = 4
            interleave = bsq
            byte order = 0
            wavelength = { 400.5 , 410.5 }
            wavelength units = Nanometers

            """)
    }

    @Test func writerDataExtensionAndStem() throws {
        let d = Dataset(path: "mem", format: "test", cube: CubeData(rows: 1, cols: 1, bands: 2, values: [1, 2]), dtype: .float32)
        try withTemporaryDirectory { dir in
            try ENVIWriter.write(d, to: dir.appendingPathComponent("a").path, dataExtension: "")
            try ENVIWriter.write(d, to: dir.appendingPathComponent("b.dat").path, dataExtension: "dat")
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            #expect(names == ["a", "a.hdr", "b.dat", "b.hdr"])
            #expect(try Datasets.open(dir.appendingPathComponent("a").path).cube.values == [1, 2])
            #expect(try Datasets.open(dir.appendingPathComponent("b.hdr").path).cube.values == [1, 2])
        }
    }

    // MARK: Robustness

    /// Several hundred mutants of the header and of the data of each fixture.
    @Test(arguments: ["bip_float32", "bil_int16", "bsq_uint16", "bsq_float64", "library"])
    func mutantsFailCleanly(name: String) throws {
        let all = try fixtureExpectations("envi", as: [String: ENVIExpectation].self)
        let expected = try #require(all[name])
        let files = try readFiles([expected.header, expected.data], in: dataFixture("envi"))
        let outcome = try runMutants(of: files, open: expected.header, count: 300, seed: 0x454E_5649)
        #expect(outcome.tried == 600)
        #expect(outcome.opened > 0 && outcome.refused > 0, "\(outcome): the mutants should reach both outcomes")
        // Opened by the data file too, so that the header is looked for after mutation.
        _ = try runMutants(of: files, open: expected.data, count: 50, seed: 0x4441_5441)
    }

    @Test func fuzzSeedsOpen() throws {
        let folder = repositoryRoot().appendingPathComponent("Tests/Fixtures/fuzz/envi")
        let headers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".hdr") }
        #expect(headers.count >= 3)
        for name in headers { _ = try Datasets.open(folder.appendingPathComponent(name).path) }
    }
}

private extension Axis {
    func withUnits(_ units: String) -> Axis {
        var axis = self
        axis.units = units
        return axis
    }
}
