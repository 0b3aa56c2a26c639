import Foundation
import Testing
import UnmixIO
import _TestSupport

private let realStem = "16x16-spectrum_image_5x5x4000-not_square"

/// A minimal `.emi` body: one metadata block, in TIA's words.
private func emiBytes(mode: String = "STEM nP SA Zoom", camera: Bool = false, blocks: Int = 1) -> [UInt8] {
    let camera = camera ? "<AcquireInfo><CameraNamePath>BM-Ceta</CameraNamePath></AcquireInfo>" : ""
    let block = "<ObjectInfo><AcquireDate>Mon Feb 22 19:33:05 2016</AcquireDate><ExperimentalDescription><Root>"
        + "<Data><Label>Microscope</Label><Value>Test &amp; Co</Value><Unit></Unit></Data>"
        + "<Data><Label>Mode</Label><Value>\(mode)</Value><Unit></Unit></Data>"
        + "<Data><Label>High tension</Label><Value>200</Value><Unit>kV</Unit></Data>"
        + "</Root></ExperimentalDescription>\(camera)</ObjectInfo>"
    return [0x4A, 0x4B, 0, 2, 0, 0] + Array(String(repeating: block, count: blocks).utf8) + [0, 1, 2]
}

/// The value of sample (r, c, b) in the synthetic maps: non-zero, distinct, small enough for uint8.
private func sample(_ r: Int, _ c: Int, _ b: Int, cols: Int = 4, bands: Int = 6) -> Double {
    Double((r * cols + c) * bands + b + 1)
}

private func expectedCube(rows: Int, cols: Int, bands: Int, shift: Double = 0) -> [Float] {
    var out = [Float]()
    for r in 0..<rows { for c in 0..<cols { for b in 0..<bands { out.append(Float(sample(r, c, b, cols: cols, bands: bands) + shift)) } } }
    return out
}

@Suite struct TIATests {
    // MARK: The real file

    /// 5 × 5 pixels × 4000 channels, uint32, 0 eV + 5 eV per channel, every count 0 (the
    /// shared data's README). The navigation calibration is the dimension array's, with its
    /// calibration element applied and metres turned into nanometres (HyperSpy 2.5 ignores the
    /// element and leaves the offset in metres).
    @Test(arguments: [".emi", "_1.ser"])
    func readsRealSpectrumImage(suffix: String) throws {
        guard let url = sharedDataFile(realStem + suffix) else {
            print(sharedDataMissing)
            return
        }
        let d = try Datasets.open(url.path)
        #expect(d.format == "FEI TIA (ser 0x220)")
        #expect(d.dtype == .uint32)
        #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (5, 5, 4000))
        #expect(d.cube.values.allSatisfy { $0 == 0 })
        #expect(d.signalAxis == Axis(name: "Energy", size: 4000, offset: 0, scale: 5, units: "eV"))
        #expect(d.rowAxis.name == "y" && d.rowAxis.units == "nm" && d.colAxis.name == "x" && d.colAxis.units == "nm")
        expectClose(d.colAxis.offset, -4.728931251475109, tolerance: 1e-9, "x offset (nm)")
        expectClose(d.colAxis.scale, 1.985914203270287, tolerance: 1e-9, "x scale (nm)")
        expectClose(d.rowAxis.offset, (-1.2161496065556947e-08 + 5 * 4.258193731308558e-09) * 1e9, tolerance: 1e-9, "y offset (nm)")
        expectClose(d.rowAxis.scale, -4.258193731308558, tolerance: 1e-9, "y scale (nm)")
        #expect(d.title == realStem, "the .emi's name, found from either file")
        #expect(d.warnings.isEmpty, "\(d.warnings)")
    }

    @Test func readsRealEMIMetadata() throws {
        guard let url = sharedDataFile(realStem + ".emi") else {
            print(sharedDataMissing)
            return
        }
        let emi = try EMIMetadata(path: url.path)
        #expect(emi.objects.count == 8)
        let description = EMIMetadata.experimentalDescription(in: emi.objects[1])
        #expect(description["Microscope"] == "Microscope TalosF200X 200 kV D6308 XTwin")
        #expect(description["Mode"] == "STEM nP SA Zoom Diffraction")
        #expect(description["High tension"] == "200 kV")
        #expect(EMIMetadata.element("AcquireDate", in: emi.objects[1]) == "Mon Feb 22 19:33:05 2016")
    }

    // MARK: Synthetic series (SERTestWriter)

    /// A 3 × 4 map scanned along x first (the tags' y of elements 0 and 1 equal): dimension 1 is
    /// the columns, dimension 2 the rows, as RosettaSciIO reads it; 8-byte offsets.
    @Test func mapScannedAlongXFirst() throws {
        let ser = SERTestWriter.map(rows: 3, cols: 4, bands: 6, version: 0x0220) { sample($0, $1, $2) }
        let d = try openWritten(["m_1.ser": ser.bytes(), "m.emi": emiBytes()], open: "m_1.ser")
        #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (3, 4, 6))
        #expect(d.cube.values == expectedCube(rows: 3, cols: 4, bands: 6))
        #expect(d.dtype == .uint16)
        #expect(d.signalAxis == Axis(name: "Energy", size: 6, offset: 100, scale: 0.5, units: "eV"))
        expectClose(d.colAxis.offset, 1, tolerance: 1e-12, "x offset")
        expectClose(d.colAxis.scale, 2, tolerance: 1e-12, "x scale")
        expectClose(d.rowAxis.offset, 8, tolerance: 1e-12, "y offset: 5 nm at element 3 of −1 nm steps")
        expectClose(d.rowAxis.scale, -1, tolerance: 1e-12, "y scale")
        #expect(d.title == "m")
        #expect(d.warnings.isEmpty, "\(d.warnings)")
    }

    /// Without beam positions, dimension 1 is the rows and dimension 2 the columns (RosettaSciIO's
    /// C order); 4-byte offsets.
    @Test func mapWithoutPositionsIsDimensionOneSlowest() throws {
        var ser = SERTestWriter.map(rows: 3, cols: 4, bands: 6, version: 0x0210, types: [7]) { sample($0, $1, $2) }
        ser.positions = nil
        ser.dimensions.swapAt(0, 1)     // dimension 1: 3 rows, dimension 2: 4 columns
        let d = try openWritten(["c_1.ser": ser.bytes()], open: "c_1.ser")
        #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (3, 4, 6))
        #expect(d.cube.values == expectedCube(rows: 3, cols: 4, bands: 6))
        #expect(d.format == "FEI TIA (ser 0x210)")
        #expect(d.warnings.contains { $0.contains("no .emi") })
    }

    /// Every data type, both offset widths, and element strides that are and are not a whole
    /// number of samples (one strided layout for all elements, or one element at a time).
    @Test(arguments: [UInt16(1), 2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3])
    func everyTypeAndStride(code: UInt16, padding: Int) throws {
        let signed = [4, 5, 6, 7, 8].contains(code)
        for version in [UInt16(0x0210), 0x0220] {
            var ser = SERTestWriter.map(rows: 3, cols: 4, bands: 6, version: version, types: [code]) {
                sample($0, $1, $2) - (signed ? 40 : 0)
            }
            ser.padding = padding
            let d = try openWritten(["t_1.ser": ser.bytes()], open: "t_1.ser")
            let types: [UInt16: SampleType] = [1: .uint8, 2: .uint16, 3: .uint32, 4: .int8, 5: .int16, 6: .int32, 7: .float32, 8: .float64]
            #expect(d.dtype == types[code])
            #expect(d.cube.values == expectedCube(rows: 3, cols: 4, bands: 6, shift: signed ? -40 : 0), "type \(code), padding \(padding)")
        }
    }

    @Test func mixedElementTypes() throws {
        let ser = SERTestWriter.map(rows: 2, cols: 4, bands: 6, types: [2, 7, 3]) { sample($0, $1, $2) }
        let d = try openWritten(["x_1.ser": ser.bytes()], open: "x_1.ser")
        #expect(d.cube.values == expectedCube(rows: 2, cols: 4, bands: 6))
        #expect(d.warnings.contains { $0.contains("element 1 holds float32, element 0 uint16") })
    }

    /// An acquisition stopped early: the pixels not acquired are zero, and the user is told.
    @Test func partialAcquisition() throws {
        var ser = SERTestWriter.map(rows: 3, cols: 4, bands: 6) { sample($0, $1, $2) }
        ser.elements = Array(ser.elements.prefix(7))
        ser.totalElements = 12
        let d = try openWritten(["p_1.ser": ser.bytes()], open: "p_1.ser")
        var expected = expectedCube(rows: 3, cols: 4, bands: 6)
        for i in (7 * 6)..<expected.count { expected[i] = 0 }
        #expect(d.cube.values == expected)
        #expect(d.warnings.contains { $0.contains("only 7 of 3 × 4 spectra") })
    }

    /// One dimension: a line scan; a stopped one keeps only its valid spectra (RosettaSciIO).
    @Test func lineScan() throws {
        var ser = SERTestWriter.map(rows: 1, cols: 5, bands: 6) { sample($0, $1, $2, cols: 5) }
        ser.dimensions = [.init(size: 5, offset: 0, delta: 3e-9, description: "Position", units: "meters")]
        var d = try openWritten(["l_1.ser": ser.bytes()], open: "l_1.ser")
        #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (1, 5, 6))
        #expect(d.cube.values == expectedCube(rows: 1, cols: 5, bands: 6))
        #expect(d.colAxis.name == "x" && d.colAxis.units == "nm" && d.colAxis.offset == 0)
        expectClose(d.colAxis.scale, 3, tolerance: 1e-12, "x step (nm)")
        ser.dimensions[0].size = 9
        ser.totalElements = 9
        d = try openWritten(["l_1.ser": ser.bytes()], open: "l_1.ser")
        #expect((d.cube.rows, d.cube.cols) == (1, 5))
    }

    /// No dimension array: the map comes from the beam positions, scanned along x or along y.
    @Test func mapFromPositions() throws {
        var ser = SERTestWriter.map(rows: 3, cols: 4, bands: 6) { sample($0, $1, $2) }
        ser.dimensions = []
        var d = try openWritten(["a_1.ser": ser.bytes()], open: "a_1.ser")
        #expect((d.cube.rows, d.cube.cols) == (3, 4))
        #expect(d.cube.values == expectedCube(rows: 3, cols: 4, bands: 6))
        expectClose(d.colAxis.scale, 2, tolerance: 1e-9, "x step (nm)")
        expectClose(d.rowAxis.scale, -1, tolerance: 1e-9, "y step (nm)")
        // Down the columns: element e is at row e % 3, column e / 3.
        ser.elements = []
        ser.positions = []
        for c in 0..<4 {
            for r in 0..<3 {
                ser.elements.append((0..<6).map { sample(r, c, $0) })
                ser.positions?.append((x: Double(c) * 2e-9, y: Double(r) * 1e-9))
            }
        }
        d = try openWritten(["b_1.ser": ser.bytes()], open: "b_1.ser")
        #expect((d.cube.rows, d.cube.cols) == (3, 4))
        #expect(d.cube.values == expectedCube(rows: 3, cols: 4, bands: 6))
        // Time tags only: a line of spectra.
        ser.positions = nil
        d = try openWritten(["t_1.ser": ser.bytes()], open: "t_1.ser")
        #expect((d.cube.rows, d.cube.cols) == (1, 12))
    }

    /// A series of images (an energy-filtered series): one channel per image, images upright
    /// (TIA stores the bottom row first), the series calibration as the signal axis.
    @Test func imageSeries() throws {
        var ser = SERTestWriter()
        ser.kind = .images
        ser.types = [5]
        ser.imageSize = (x: 4, y: 2)
        ser.calibration = (offset: 2e-9, delta: 1e-9, element: 0)
        ser.calibrationY = (offset: 3e-9, delta: 0.5e-9, element: 2)
        ser.dimensions = [.init(size: 3, offset: 100, delta: 10, description: "Energy", units: "eV")]
        for e in 0..<3 {
            var image = [Double]()
            for s in 0..<2 { for c in 0..<4 { image.append(Double(100 * e + 10 * s + c) - 50) } }
            ser.elements.append(image)
        }
        for padding in [0, 1] {
            ser.padding = padding
            let d = try openWritten(["i_1.ser": ser.bytes(), "i.emi": emiBytes()], open: "i.emi")
            #expect((d.cube.rows, d.cube.cols, d.cube.bands) == (2, 4, 3))
            var expected = [Float]()
            for r in 0..<2 { for c in 0..<4 { for e in 0..<3 { expected.append(Float(100 * e + 10 * (1 - r) + c - 50)) } } }
            #expect(d.cube.values == expected, "padding \(padding)")
            #expect(d.dtype == .int16)
            #expect(d.signalAxis == Axis(name: "Energy", size: 3, offset: 100, scale: 10, units: "eV"))
            expectClose(d.colAxis.offset, 2, tolerance: 1e-12, "x offset")
            expectClose(d.rowAxis.offset, 2, tolerance: 1e-12, "y offset: 3 nm at element 2 of 0.5 nm steps")
            #expect(d.colAxis.units == "nm")
            #expect(d.format == "FEI TIA (ser 0x220, images)")
        }
        // A diffraction series seen by a camera: reciprocal units, from the .emi.
        let d = try openWritten(["i_1.ser": ser.bytes(), "i.emi": emiBytes(mode: "STEM Diffraction", camera: true)], open: "i_1.ser")
        #expect(d.colAxis.units == "1 / nm")
        expectClose(d.colAxis.scale, 1e-18, tolerance: 1e-24, "x scale (1/nm)")
    }

    // MARK: The .emi

    @Test func emiProblemsAreWarnings() throws {
        let ser = SERTestWriter.map(rows: 2, cols: 4, bands: 6) { sample($0, $1, $2) }.bytes()
        var d = try openWritten(["e_1.ser": ser, "e.emi": [0, 1, 2, 3, 0xFF]], open: "e_1.ser")
        #expect(d.warnings.contains { $0.contains("no <ObjectInfo>") })
        d = try openWritten(["e_2.ser": ser, "e.emi": emiBytes()], open: "e_2.ser")
        #expect(d.warnings.contains { $0.contains("no metadata for series 2") })
        d = try openWritten(["e_1.ser": ser, "e_2.ser": ser, "e.emi": emiBytes(blocks: 2)], open: "e.emi")
        #expect(d.warnings.contains { $0.contains("has 2 series: read e_1.ser") })
        #expect(d.cube.values == expectedCube(rows: 2, cols: 4, bands: 6))
        expectUnmixError(containing: ["lone.emi", "no series file lone_1.ser"]) {
            _ = try openWritten(["lone.emi": emiBytes()], open: "lone.emi")
        }
    }

    @Test func emiMetadataParsing() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("m.emi")
            try Data(emiBytes(blocks: 3)).write(to: url)
            let emi = try EMIMetadata(path: url.path)
            #expect(emi.objects.count == 3)
            let description = EMIMetadata.experimentalDescription(in: emi.objects[0])
            #expect(description == ["Microscope": "Test & Co", "Mode": "STEM nP SA Zoom", "High tension": "200 kV"])
        }
    }

    // MARK: Refusals

    @Test func refusesBadSeries() {
        func expectRefused(_ problem: String, _ change: (inout SERTestWriter) -> Void) {
            var ser = SERTestWriter.map(rows: 2, cols: 4, bands: 6) { sample($0, $1, $2) }
            change(&ser)
            expectUnmixError(containing: ["x_1.ser", problem]) { _ = try openWritten(["x_1.ser": ser.bytes()], open: "x_1.ser") }
        }
        expectRefused("complex samples (TIA data type 9)") { $0.types = [9] }
        expectRefused("data type 11, not one of TIA's") { $0.types = [11] }
        expectRefused("element 1 has 5 channels, element 0 has 6") { $0.lengthOverride = [1: 5] }
        expectRefused("3 navigation dimensions") { $0.dimensions.append(.init(size: 1)) }
        expectRefused("8 spectra for a 2 × 3 map") { $0.dimensions[0].size = 3 }
        expectRefused("more valid elements than elements") { $0.totalElements = 3 }
        expectRefused("no valid element") { $0.elements = [] }
        expectRefused("the dimension array cannot be right") {
            $0.dimensions[0].size = 1 << 20
            $0.dimensions[1].size = 1 << 20
            $0.totalElements = 8
            $0.positions = nil
        }
    }

    @Test func refusesLyingOffsetsAndSizes() throws {
        let good = SERTestWriter.map(rows: 2, cols: 4, bands: 6) { sample($0, $1, $2) }.bytes()
        func patched(_ at: Int, _ bytes: [UInt8]) -> [UInt8] {
            var b = good
            b.replaceSubrange(at..<(at + bytes.count), with: bytes)
            return b
        }
        let cases: [(String, [UInt8], String)] = [
            ("a total of 2^32 - 1 elements", patched(14, [0xFF, 0xFF, 0xFF, 0xFF]), "offset arrays of 4294967295 elements"),
            ("2^32 - 1 valid elements", patched(18, [0xFF, 0xFF, 0xFF, 0xFF]), "more valid elements than elements"),
            ("offset arrays past the end", patched(22, [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0]), "offset arrays"),
            ("8-byte offset beyond Int", patched(22, [0, 0, 0, 0, 0, 0, 0, 0x80]), "lies past any file"),
            ("bad byte order", patched(0, [0x4D, 0x4D]), "not a FEI TIA file"),
            ("truncated", Array(good.prefix(good.count - 40)), "truncated"),
            ("not spectra nor images", patched(6, [0x99, 0x41]), "neither 0x4120"),
        ]
        for (what, bytes, problem) in cases {
            expectUnmixError(containing: ["x_1.ser", problem]) {
                do { _ = try openWritten(["x_1.ser": bytes], open: "x_1.ser") } catch let error as UnmixError {
                    throw UnmixError("\(what): \(error.message)")
                }
            }
        }
    }

    @Test func refusesImagesOnAScan() {
        var ser = SERTestWriter()
        ser.kind = .images
        ser.imageSize = (x: 2, y: 2)
        ser.dimensions = [.init(size: 2), .init(size: 2)]
        ser.elements = Array(repeating: [1, 2, 3, 4], count: 4)
        expectUnmixError(containing: ["s_1.ser", "4-D"]) { _ = try openWritten(["s_1.ser": ser.bytes()], open: "s_1.ser") }
    }

    // MARK: Robustness

    /// The synthetic seeds kept in `Tests/Fixtures/fuzz/tia` (written by `SERTestWriter`).
    static func seeds() -> [String: [UInt8]] {
        var seeds = [String: [UInt8]]()
        seeds["map_1.ser"] = SERTestWriter.map(rows: 3, cols: 4, bands: 6) { sample($0, $1, $2) }.bytes()
        seeds["map.emi"] = emiBytes()
        var c = SERTestWriter.map(rows: 2, cols: 3, bands: 5, version: 0x0210, types: [7]) { sample($0, $1, $2, cols: 3, bands: 5) }
        c.positions = nil
        c.padding = 1
        seeds["cmap_1.ser"] = c.bytes()
        var p = SERTestWriter.map(rows: 2, cols: 3, bands: 4, types: [6]) { sample($0, $1, $2, cols: 3, bands: 4) - 20 }
        p.dimensions = []
        seeds["positions_1.ser"] = p.bytes()
        var images = SERTestWriter()
        images.kind = .images
        images.types = [3]
        images.imageSize = (x: 3, y: 2)
        images.dimensions = [.init(size: 2, offset: 50, delta: 5, description: "Energy", units: "eV")]
        images.elements = [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]
        seeds["images_1.ser"] = images.bytes()
        seeds["images.emi"] = emiBytes(mode: "Diffraction")
        return seeds
    }

    /// Several hundred mutants of each synthetic seed and of the real pair (the `.ser` and the
    /// `.emi` in turn).
    @Test(arguments: ["map", "cmap", "positions", "images", "real"])
    func mutantsFailCleanly(seed: String) throws {
        var files = [String: [UInt8]]()
        let open: String
        if seed == "real" {
            guard let dir = sharedDataDirectory() else {
                print(sharedDataMissing)
                return
            }
            files = try readFiles([realStem + ".emi", realStem + "_1.ser"], in: dir)
            open = realStem + ".emi"
        } else {
            let all = Self.seeds()
            for (name, bytes) in all where name.hasPrefix(seed + "_") || name == seed + ".emi" { files[name] = bytes }
            open = seed + "_1.ser"
        }
        let outcome = try runMutants(of: files, open: open, count: 300, seed: 0x5449_4100)
        #expect(outcome.tried == 300 * files.count)
        #expect(outcome.opened > 0 && outcome.refused > 0, "\(outcome): the mutants should reach both outcomes")
    }

    /// The committed fuzz seeds are what `seeds()` writes today, and they open.
    @Test func fuzzSeedsAreCurrent() throws {
        let folder = repositoryRoot().appendingPathComponent("Tests/Fixtures/fuzz/tia")
        if ProcessInfo.processInfo.environment["UNMIX_WRITE_FUZZ_SEEDS"] != nil {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try writeFiles(Self.seeds(), in: folder)
        }
        for (name, bytes) in Self.seeds() {
            let committed = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            #expect(committed == bytes, "\(name) differs from SERTestWriter's: rerun with UNMIX_WRITE_FUZZ_SEEDS=1")
            if name.hasSuffix(".ser") { _ = try Datasets.open(folder.appendingPathComponent(name).path) }
        }
    }
}
