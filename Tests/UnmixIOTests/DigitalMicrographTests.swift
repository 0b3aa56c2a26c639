import Foundation
import Testing
import UnmixIO
import _TestSupport

/// Writes `bytes` as `name` in a temporary folder and opens it through `Datasets.open`.
private func openBytes(_ bytes: [UInt8], name: String = "x.dm4") throws -> Dataset {
    try withTemporaryDirectory { dir in
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return try Datasets.open(url.path)
    }
}

/// The value of pixel (row, col) at band b of a cube.
private func sample(_ cube: CubeData, _ r: Int, _ c: Int, _ b: Int) -> Float {
    cube.values[(r * cube.cols + c) * cube.bands + b]
}

/// A value that tells its indices apart: energy, row and column in separate digits.
private func code(_ e: Int, _ y: Int, _ x: Int) -> Double { Double(100 * e + 10 * y + x) }

/// The samples of an (E, y, x) spectrum image in file order (x fastest, energy slowest).
private func spectrumImageValues(x: Int, y: Int, e: Int) -> [Double] {
    var values = [Double]()
    for k in 0..<e { for j in 0..<y { for i in 0..<x { values.append(code(k, j, i)) } } }
    return values
}

/// The seed files of the libFuzzer target, as the writer makes them.
private func fuzzSeeds() -> [(name: String, bytes: [UInt8])] {
    var si = DMWriter.Image(dims: [3, 2, 4], type: .int16, values: spectrumImageValues(x: 3, y: 2, e: 4))
    si.calibrations = [(0.5, 2, "nm"), (-1, 0.25, "µm"), (-150, 0.5, "eV")]
    var line = DMWriter.Image(dims: [6, 3], type: .float32, values: (0..<18).map { Double($0) * 0.5 })
    line.format = "Spectrum"
    line.calibrations = [(-10, 1.5, "eV"), (0, 3, "nm")]
    var spectrum = DMWriter.Image(dims: [8], type: .uint16, values: (0..<8).map { Double($0 * 7) })
    spectrum.format = "Spectrum"
    spectrum.calibrations = [(4, 0.1, "keV")]
    spectrum.signal = "X-ray"
    var stack = DMWriter.Image(dims: [2, 2, 3], type: .uint8, values: (0..<12).map(Double.init))
    stack.format = nil
    stack.signal = nil
    var orsay = DMWriter.Image(dims: [2, 3, 5], type: .float64, values: spectrumImageValues(x: 2, y: 3, e: 5))
    orsay.format = nil
    orsay.signal = nil
    orsay.extraTags = [("spim", .group([("eels", .group([]))]))]
    return [
        ("si-int16-3x2x4.dm3", DMWriter.document([si], version: 3, order: .little)),
        ("si-int16-3x2x4-big.dm4", DMWriter.document([si], version: 4, order: .big)),
        ("linescan-float32-6x3.dm4", DMWriter.document([line], version: 4, order: .little)),
        ("spectrum-uint16-8-big.dm3", DMWriter.document([spectrum], version: 3, order: .big)),
        ("stack-uint8-2x2x3.dm4", DMWriter.document([stack], version: 4, order: .little)),
        ("orsay-float64-2x3x5-nothumb.dm3", DMWriter.document([orsay], version: 3, order: .little, thumbnail: false)),
    ]
}

@Suite struct DigitalMicrographTests {
    // MARK: - Real files

    /// EELS_SI.dm4: the expected values came from HyperSpy 2.5 (RosettaSciIO 0.15), printed once:
    /// `s = hs.load("EELS_SI.dm4"); s.axes_manager; s.data[0, 0, :5]; s.data.sum()`.
    @Test func realEELSSpectrumImage() throws {
        guard let url = sharedDataFile("EELS_SI.dm4") else { print(sharedDataMissing); return }
        let dataset = try Datasets.open(url.path)
        #expect(dataset.format == "DigitalMicrograph 4")
        #expect(dataset.dtype == .float32)
        #expect(dataset.title == "EELS_SI")
        #expect(dataset.warnings.isEmpty, "\(dataset.warnings)")
        let cube = dataset.cube
        #expect((cube.rows, cube.cols, cube.bands) == (2, 2, 2048))
        #expect(dataset.signalAxis == Axis(name: "Energy loss", size: 2048, offset: 300, scale: 1, units: "eV"))
        let step = 0.0019920736085623503 // the float32 scale, as HyperSpy reports it
        #expect(dataset.rowAxis == Axis(name: "y", size: 2, offset: 0, scale: step, units: "µm"))
        #expect(dataset.colAxis == Axis(name: "x", size: 2, offset: 0, scale: step, units: "µm"))
        // HyperSpy's s.data[y, x, E]
        #expect((0..<5).map { sample(cube, 0, 0, $0) } == [8473.005859375, 8634.40234375, 8471.6513671875, 8147.77490234375, 8126.9443359375])
        #expect((0..<3).map { sample(cube, 1, 0, $0) } == [7923.005859375, 7870.40234375, 8046.6513671875])
        #expect((2045..<2048).map { sample(cube, 0, 1, $0) } == [94.48388671875, 73.2900390625, 42.013916015625])
        #expect(sample(cube, 1, 1, 1000) == 175.46875)
        let sum = cube.values.reduce(0.0) { $0 + Double($1) }
        expectClose(sum, 7169069.071044922, tolerance: 1e-6, "sum of EELS_SI")
    }

    /// test-1.dm3 and test-1.dm4: the same 2 × 2 × 2 int16 stack in both encodings, which
    /// HyperSpy 2.5 reads as Signal2D (z | y, x) with data [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    /// in (z, y, x) order, title "test", uncalibrated axes z, y, x.
    @Test func realStacksAgreeInBothVersions() throws {
        guard let dm3 = sharedDataFile("test-1.dm3"), let dm4 = sharedDataFile("test-1.dm4") else { print(sharedDataMissing); return }
        let hyperspy: [[[Float]]] = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
        var cubes = [[Float]]()
        for (url, version) in [(dm3, 3), (dm4, 4)] {
            let dataset = try Datasets.open(url.path)
            #expect(dataset.format == "DigitalMicrograph \(version)")
            #expect(dataset.dtype == .int16)
            #expect(dataset.title == "test")
            #expect(dataset.warnings.count == 1 && dataset.warnings[0].contains("3-D stack without spectrum-image tags"), "\(dataset.warnings)")
            #expect(dataset.signalAxis == .index("z", size: 2))
            #expect(dataset.rowAxis == .index("y", size: 2))
            #expect(dataset.colAxis == .index("x", size: 2))
            let cube = dataset.cube
            #expect((cube.rows, cube.cols, cube.bands) == (2, 2, 2))
            for r in 0..<2 { for c in 0..<2 { for b in 0..<2 { #expect(sample(cube, r, c, b) == hyperspy[b][r][c]) } } }
            cubes.append(cube.values)
        }
        #expect(cubes[0] == cubes[1])
    }

    // MARK: - Round trips through the writer

    /// The writer's files are read by HyperSpy 2.5 as by us (checked once with
    /// `hs.load("Tests/Fixtures/fuzz/dm/…")`): si-int16-3x2x4.dm3 is a Signal1D (y 2, x 3 | E 4),
    /// y offset 0.25 scale 0.25 µm, x offset −1 scale 2 nm, "Energy loss" offset 75 scale 0.5 eV,
    /// data[0, 0] = [0, 100, 200, 300], data[0, 1] = [1, 101, 201, 301]; linescan-float32-6x3.dm4
    /// is (x 3 | Energy loss 6), x scale 3 nm, energy offset 15 scale 1.5 eV, data[0] =
    /// [0, 0.5, 1, 1.5, 2, 2.5]. (HyperSpy reads the image data of big-endian files as
    /// little-endian, whatever the header's flag says; we follow the flag.)
    @Test func writerFilesReadAsHyperSpyReadsThem() throws {
        let folder = repositoryRoot().appendingPathComponent("Tests/Fixtures/fuzz/dm")
        let si = try Datasets.open(folder.appendingPathComponent("si-int16-3x2x4.dm3").path)
        #expect((si.cube.rows, si.cube.cols, si.cube.bands) == (2, 3, 4))
        #expect(si.rowAxis == Axis(name: "y", size: 2, offset: 0.25, scale: 0.25, units: "µm"))
        #expect(si.colAxis == Axis(name: "x", size: 3, offset: -1, scale: 2, units: "nm"))
        #expect(si.signalAxis == Axis(name: "Energy loss", size: 4, offset: 75, scale: 0.5, units: "eV"))
        #expect(Array(si.cube.values[0..<8]) == [0, 100, 200, 300, 1, 101, 201, 301])
        let line = try Datasets.open(folder.appendingPathComponent("linescan-float32-6x3.dm4").path)
        #expect((line.cube.rows, line.cube.cols, line.cube.bands) == (1, 3, 6))
        #expect(line.colAxis == Axis(name: "x", size: 3, offset: 0, scale: 3, units: "nm"))
        #expect(line.signalAxis == Axis(name: "Energy loss", size: 6, offset: 15, scale: 1.5, units: "eV"))
        #expect(Array(line.cube.values[0..<6]) == [0, 0.5, 1, 1.5, 2, 2.5])
        // The same cube from the big-endian DM4 encoding of the same image.
        let big = try Datasets.open(folder.appendingPathComponent("si-int16-3x2x4-big.dm4").path)
        #expect(big.cube.values == si.cube.values && big.signalAxis == si.signalAxis)
    }

    /// A non-square (E = 7, y = 3, x = 5) spectrum image of every sample type, in both versions
    /// and both byte orders: every sample lands at its (row, col, band).
    @Test(arguments: [3, 4], [ByteOrder.little, .big])
    func roundTripSpectrumImage(version: Int, order: ByteOrder) throws {
        let types: [SampleType] = [.int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .float32, .float64]
        for type in types {
            // One-byte types hold the codes modulo 128.
            func fit(_ v: Double) -> Double { type.size == 1 ? v.truncatingRemainder(dividingBy: 128) : v }
            var image = DMWriter.Image(dims: [5, 3, 7], type: type, values: spectrumImageValues(x: 5, y: 3, e: 7).map(fit))
            image.calibrations = [(2, 0.5, "nm"), (-4, 0.25, "µm"), (-150, 0.5, "eV")]
            image.name = "SI \(type)"
            let dataset = try openBytes(DMWriter.document([image], version: version, order: order), name: "si.dm\(version)")
            #expect(dataset.format == "DigitalMicrograph \(version)")
            #expect(dataset.dtype == type)
            #expect(dataset.title == "SI \(type)")
            #expect(dataset.warnings.isEmpty, "\(type): \(dataset.warnings)")
            let cube = dataset.cube
            #expect((cube.rows, cube.cols, cube.bands) == (3, 5, 7), "\(type)")
            var mismatches = 0
            for r in 0..<3 { for c in 0..<5 { for b in 0..<7 where Double(sample(cube, r, c, b)) != fit(code(b, r, c)) { mismatches += 1 } } }
            #expect(mismatches == 0, "\(type) v\(version) \(order): \(mismatches) samples misplaced")
            // DM's value at index i is (i − origin) × scale.
            #expect(dataset.signalAxis == Axis(name: "Energy loss", size: 7, offset: 75, scale: 0.5, units: "eV"))
            #expect(dataset.rowAxis == Axis(name: "y", size: 3, offset: 1, scale: 0.25, units: "µm"))
            #expect(dataset.colAxis == Axis(name: "x", size: 5, offset: -1, scale: 0.5, units: "nm"))
        }
    }

    /// A line scan (2-D, Format "Spectrum"): energy is the fastest axis, one row of pixels.
    @Test(arguments: [3, 4], [ByteOrder.little, .big])
    func roundTripLineScan(version: Int, order: ByteOrder) throws {
        var values = [Double]()
        for x in 0..<4 { for e in 0..<6 { values.append(code(e, 0, x)) } }
        var image = DMWriter.Image(dims: [6, 4], type: .float32, values: values)
        image.format = "Spectrum"
        image.calibrations = [(-20, 0.1, "eV"), (0, 2, "nm")]
        let dataset = try openBytes(DMWriter.document([image], version: version, order: order), name: "line.dm\(version)")
        let cube = dataset.cube
        #expect((cube.rows, cube.cols, cube.bands) == (1, 4, 6))
        for c in 0..<4 { for b in 0..<6 { #expect(Double(sample(cube, 0, c, b)) == code(b, 0, c)) } }
        #expect(dataset.signalAxis.name == "Energy loss")
        expectClose(dataset.signalAxis.offset, 2, tolerance: 1e-6, "energy offset") // 20 × 0.1 (float32)
        expectClose(dataset.signalAxis.scale, 0.1, tolerance: 1e-7, "energy scale")
        #expect(dataset.colAxis == Axis(name: "x", size: 4, offset: 0, scale: 2, units: "nm"))
        #expect(dataset.rowAxis == .index("y", size: 1))
        #expect(dataset.warnings.isEmpty)
    }

    /// A line scan of native float32 is the file's pages, not a copy, when its samples are
    /// 4-byte aligned in the file (one padding in four); the others are converted.
    @Test func nativeFloat32LineScanIsMapped() throws {
        var mapped = 0
        for padding in 0..<4 {
            var image = DMWriter.Image(dims: [5, 2], values: (0..<10).map { Double($0) + 0.25 })
            image.format = "Spectrum"
            image.padding = padding
            let dataset = try openBytes(DMWriter.document([image], version: 4, order: .little))
            #expect(dataset.cube.values == (0..<10).map { Float($0) + 0.25 })
            if dataset.cube.storage.isMapped { mapped += 1 }
        }
        #expect(mapped == 1)
    }

    /// One spectrum (1-D) reads as 1 × 1; 64-bit integers and float64 in both orders.
    @Test(arguments: [SampleType.uint16, .int64, .uint64, .float64], [ByteOrder.little, .big])
    func roundTripSingleSpectrum(type: SampleType, order: ByteOrder) throws {
        var image = DMWriter.Image(dims: [9], type: type, values: (0..<9).map { Double($0 * 3 + 1) })
        image.format = nil
        image.signal = "X-ray"
        image.calibrations = [(10, 0.01, "keV")]
        let dataset = try openBytes(DMWriter.document([image], version: 4, order: order), name: "spectrum.dm4")
        #expect((dataset.cube.rows, dataset.cube.cols, dataset.cube.bands) == (1, 1, 9))
        let expected: [Float] = (0..<9).map { Float($0 * 3 + 1) }
        #expect(dataset.cube.values == expected)
        #expect(dataset.dtype == type)
        // HyperSpy names an X-ray axis like any other: "x".
        #expect(dataset.signalAxis.name == "x" && dataset.signalAxis.units == "keV")
        expectClose(dataset.signalAxis.offset, -0.1, tolerance: 1e-8, "offset")
    }

    /// Orsay's `spim` group marks a spectrum image (no warning); a CL image names its
    /// wavelength axis; calibrations missing for some dimensions default to the index.
    @Test func signalKindsAndMissingCalibrations() throws {
        var orsay = DMWriter.Image(dims: [2, 3, 4], type: .float32, values: spectrumImageValues(x: 2, y: 3, e: 4))
        orsay.format = nil
        orsay.signal = nil
        orsay.extraTags = [("spim", .group([("eels", .group([]))]))]
        orsay.calibrations = [(0, 1, "nm")]
        let dataset = try openBytes(DMWriter.document([orsay], version: 3, order: .big), name: "orsay.dm3")
        #expect(dataset.warnings.isEmpty)
        #expect(dataset.signalAxis == .index("z", size: 4)) // uncalibrated, so not named by its eV unit
        #expect(dataset.rowAxis == .index("y", size: 3))
        #expect(dataset.colAxis == Axis(name: "x", size: 2, units: "nm"))

        var cl = DMWriter.Image(dims: [2, 2, 3], type: .uint32, values: spectrumImageValues(x: 2, y: 2, e: 3))
        cl.signal = "CL"
        cl.calibrations = [(0, 5, "nm"), (0, 5, "nm"), (-80, 2, "nm")]
        let clData = try openBytes(DMWriter.document([cl], version: 4), name: "cl.dm4")
        // HyperSpy gives the first "nm" axis in NumPy order (the slowest) the wavelength name.
        #expect(clData.signalAxis == Axis(name: "Wavelength", size: 3, offset: 160, scale: 2, units: "nm"))
        #expect(clData.rowAxis.name == "y" && clData.colAxis.name == "x")
    }

    /// Units and names stored as DM does in either encoding (UTF-16 arrays, including a
    /// character outside the BMP), as byte arrays and as type-18 strings.
    @Test func textEncodings() throws {
        let order = ByteOrder.big
        func units(_ tag: DMWriter.Node) throws -> String {
            let image = DMWriter.Image(dims: [2], values: [1, 2])
            var doc = DMWriter.imageGroup(image, order)
            // Replace the (absent) calibration by one whose Units is `tag`.
            guard var top = doc.entries, var data = top[0].1.entries, var calibrations = data[0].1.entries else {
                Issue.record("unexpected writer layout"); return ""
            }
            calibrations[1] = ("Dimension", .group([("", .group([("Origin", DMWriter.float32(0, order)), ("Scale", DMWriter.float32(1, order)), ("Units", tag)]))]))
            data[0].1 = .group(calibrations)
            top[0].1 = .group(data)
            doc = .group(top)
            let bytes = DMWriter.file([("ImageList", .group([("", doc)]))], version: 4, order: order)
            return try openBytes(bytes).signalAxis.units
        }
        #expect(try units(DMWriter.text("µm", order)) == "µm")
        #expect(try units(DMWriter.text("1/Å 𝜆", order)) == "1/Å 𝜆")
        #expect(try units(.data(words: [20, 10, 3], bytes: Array("keV".utf8))) == "keV")
        #expect(try units(.data(words: [18, 3], bytes: [0xB5, 0x6D, 0])) == "µm") // Latin-1, NUL-padded
        #expect(try units(.data(words: [18, 3], bytes: Array("µm".utf8))) == "µm")
        #expect(try units(.data(words: [20, 4, 0], bytes: [])) == "")
    }

    // MARK: - Which image, which data

    /// The thumbnail is skipped by the Thumbnails list, and without that list by failing to
    /// read as a spectrum image; several images: the first readable one, with a warning.
    @Test func thumbnailsAndSeveralImages() throws {
        let image = DMWriter.Image(dims: [2, 2, 3], values: spectrumImageValues(x: 2, y: 2, e: 3))
        let listed = try openBytes(DMWriter.document([image]))
        #expect(listed.warnings.isEmpty)
        #expect(listed.cube.bands == 3)

        let order = ByteOrder.little
        let unlisted = DMWriter.file([("ImageList", .group([("", DMWriter.thumbnail(order)), ("", DMWriter.imageGroup(image, order))]))], version: 4, order: order)
        let dataset = try openBytes(unlisted)
        #expect(dataset.cube.bands == 3)
        #expect(dataset.warnings.first?.contains("holds 2 images besides its thumbnail: read image 1 \"synthetic\"") == true, "\(dataset.warnings)")

        var second = DMWriter.Image(dims: [4], values: [1, 2, 3, 4])
        second.name = "second"
        let two = try openBytes(DMWriter.document([second, image]))
        #expect(two.title == "second" && two.cube.bands == 4)
        #expect(two.warnings.first?.contains("read image 1 \"second\"") == true)

        // Every image listed as a thumbnail (and indices naming no image are ignored).
        let allThumbnails = DMWriter.file([
            ("ImageList", .group([("", DMWriter.thumbnail(order)), ("", DMWriter.imageGroup(image, order))])),
            ("Thumbnails", .group([0, 1, 7].map { ("", .group([("ImageIndex", DMWriter.uint32(UInt32($0), order))])) })),
        ], version: 4, order: order)
        expectUnmixError(containing: ["x.dm4", "no image besides its thumbnail"]) { _ = try openBytes(allThumbnails) }
        expectUnmixError(containing: ["x.dm4", "without an ImageList"]) {
            _ = try openBytes(DMWriter.file([("Other", .group([]))], version: 4, order: order))
        }
    }

    /// A 2-D image without spectrum tags, 4-D data and non-real samples are refused, one line each.
    @Test func refusals() throws {
        var image = DMWriter.Image(dims: [4, 3], values: (0..<12).map(Double.init))
        image.format = nil
        expectUnmixError(containing: ["x.dm4", "image 1 is a 2-D image (4 × 3) without spectrum tags"]) {
            _ = try openBytes(DMWriter.document([image]))
        }
        var fourD = DMWriter.Image(dims: [2, 2, 2, 2], values: (0..<16).map(Double.init))
        fourD.name = "4d"
        expectUnmixError(containing: ["x.dm4", "is 4-D (2 × 2 × 2 × 2)"]) { _ = try openBytes(DMWriter.document([fourD])) }
        for (code, message) in [(3, "complex samples (DataType 3)"), (13, "complex samples"), (27, "packed complex"),
                                (23, "RGB image (DataType 23)"), (14, "binary (bool) samples"), (99, "unknown DataType 99")] {
            var odd = DMWriter.Image(dims: [2, 2, 2], values: (0..<8).map(Double.init))
            odd.dataType = code
            expectUnmixError(containing: ["x.dm4", message]) { _ = try openBytes(DMWriter.document([odd])) }
        }
        // Data that does not fill the dimensions (a count that lies about the image).
        var short = DMWriter.Image(dims: [2, 2, 3], values: (0..<8).map(Double.init))
        short.name = "short"
        expectUnmixError(containing: ["x.dm4", "its Data holds 8 values of 4 bytes, its dimensions 2 × 2 × 3 of float32 need 12 of 4"]) {
            _ = try openBytes(DMWriter.document([short]))
        }
        var wide = DMWriter.Image(dims: [2, 2, 2], type: .float64, values: (0..<8).map(Double.init))
        wide.dataType = 2 // float32 declared over float64 samples
        expectUnmixError(containing: ["x.dm4", "values of 8 bytes"]) { _ = try openBytes(DMWriter.document([wide])) }
    }

    @Test func signatureAndHeader() throws {
        let good = DMWriter.document([DMWriter.Image(dims: [3], values: [1, 2, 3])], version: 3, order: .little)
        #expect(DigitalMicrographReader.recognizes(Array(good.prefix(1024)), path: "a.dm3") == true)
        #expect(DigitalMicrographReader.recognizes(Array("\u{93}NUMPY\u{1}\u{0}v\u{0}{'descr'".utf8), path: "a.dm3") == false)
        #expect(DigitalMicrographReader.recognizes([0, 0, 0, 3], path: "a.dm3") == false)
        // Found by its signature under another name, refused under its own with bad content.
        #expect(try openBytes(good, name: "spectrum.bin").format == "DigitalMicrograph 3")
        expectUnmixError(containing: ["x.dm3", "not a DigitalMicrograph file"]) { _ = try openBytes(Array("not a dm file at all".utf8), name: "x.dm3") }
        var badOrder = good
        badOrder[11] = 7
        expectUnmixError(containing: ["x.dm3", "not a DigitalMicrograph file"]) { _ = try openBytes(badOrder, name: "x.dm3") }
        var version5 = good
        version5[3] = 5
        expectUnmixError(containing: ["x.dm3", "not a DigitalMicrograph file"]) { _ = try openBytes(version5, name: "x.dm3") }
        expectUnmixError(containing: ["x.dm3", "--shape is only for 2-D NumPy inputs"]) {
            try withTemporaryDirectory { dir in
                let url = dir.appendingPathComponent("x.dm3")
                try Data(good).write(to: url)
                _ = try Datasets.open(url.path, options: ReadOptions(shape: (1, 1)))
            }
        }
    }

    // MARK: - Robustness

    /// Every truncation of a small file, in both versions, is refused until the whole tag
    /// tree is there (every tag boundary is among them).
    @Test(arguments: [3, 4])
    func truncationsAreRefused(version: Int) throws {
        var image = DMWriter.Image(dims: [2, 3, 2], type: .int16, values: spectrumImageValues(x: 2, y: 3, e: 2))
        image.calibrations = [(0, 1, "nm"), (0, 1, "nm"), (-5, 1, "eV")]
        let bytes = DMWriter.document([image], version: version, order: .big)
        let treeEnd = bytes.count - (version == 4 ? 16 : 8)
        var refused = 0
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("cut.dm\(version)")
            for length in 0..<treeEnd {
                try Data(bytes[..<length]).write(to: url)
                do {
                    _ = try Datasets.open(url.path)
                    Issue.record("a file cut at \(length) of \(treeEnd) bytes was read")
                } catch let error as UnmixError {
                    #expect(error.message.contains("cut.dm\(version)") && !error.message.contains("\n"))
                    refused += 1
                }
            }
            try Data(bytes[..<treeEnd]).write(to: url)
            #expect(try Datasets.open(url.path).cube.bands == 2)
        }
        #expect(refused == treeEnd)
    }

    /// A tree nested 100,000 groups deep is refused without recursing that deep.
    @Test(arguments: [3, 4])
    func deepNestingIsRefused(version: Int) throws {
        let bytes = DMWriter.nested(depth: 100_000, version: version)
        expectUnmixError(containing: ["deep.dm\(version)", "nested deeper than \(DMTagTree.maximumDepth) levels"]) {
            _ = try openBytes(bytes, name: "deep.dm\(version)")
        }
        // Within the cap, nesting alone is no error (there is just no image).
        expectUnmixError(containing: ["ok.dm\(version)", "without an ImageList"]) {
            _ = try openBytes(DMWriter.nested(depth: 100, version: version), name: "ok.dm\(version)")
        }
    }

    /// A file of more than `maximumTags` (empty, unnamed) groups is refused.
    @Test func tooManyTagsAreRefused() throws {
        let count = DMTagTree.maximumTags + 1
        var bytes = DMWriter.encode(UInt32(3), .big) + DMWriter.encode(UInt32(0), .big) + DMWriter.encode(UInt32(1), .big)
        bytes += [1, 0] + DMWriter.encode(UInt32(count), .big)
        bytes.reserveCapacity(bytes.count + 9 * count)
        for _ in 0..<count { bytes += [20, 0, 0, 0, 1, 0, 0, 0, 0] }
        expectUnmixError(containing: ["many.dm3", "more than \(DMTagTree.maximumTags) tags"]) { _ = try openBytes(bytes, name: "many.dm3") }
    }

    /// Counts, lengths and sizes that lie.
    @Test func countsThatLie() throws {
        let order = ByteOrder.little
        let huge = 1 << 60
        func open(_ root: [(String, DMWriter.Node)], version: Int = 4) throws -> Dataset {
            try openBytes(DMWriter.file(root, version: version, order: order), name: "lie.dm\(version)")
        }
        // An array of 2^60 float32 (the size overflows), of 2^60 bytes, of 2^32 − 1 values in DM3.
        expectUnmixError(containing: ["lie.dm4", "overflows"]) { _ = try open([("A", .data(words: [20, 7, huge], bytes: []))]) }
        expectUnmixError(containing: ["lie.dm4", "truncated or corrupt"]) { _ = try open([("A", .data(words: [20, 10, huge], bytes: [1, 2]))]) }
        expectUnmixError(containing: ["lie.dm3", "truncated or corrupt"]) { _ = try open([("A", .data(words: [20, 4, 0xFFFF_FFFF], bytes: [1, 2]))], version: 3) }
        // Strings whose length lies; a type description longer than the file; one cut short;
        // a struct claiming 2^60 fields; unknown types; an array nested beyond the cap.
        expectUnmixError(containing: ["lie.dm4", "truncated or corrupt"]) { _ = try open([("S", .data(words: [18, huge], bytes: Array("abc".utf8)))]) }
        var long = DMWriter.file([("T", DMWriter.int32(1, order))], version: 4, order: order)
        let wordCountAt = try #require(long.firstIndex(of: UInt8(ascii: "%"))) + 4
        long[wordCountAt] = 0x7F
        expectUnmixError(containing: ["lie.dm4", "has a type description of \(0x7F << 56 | 1) words"]) { _ = try openBytes(long, name: "lie.dm4") }
        expectUnmixError(containing: ["lie.dm4", "cut short"]) { _ = try open([("T", .data(words: [20, 6], bytes: []))]) }
        expectUnmixError(containing: ["lie.dm4", "struct of \(huge) fields"]) { _ = try open([("T", .data(words: [15, 0, huge, 0, 3], bytes: [0, 0, 0, 0]))]) }
        expectUnmixError(containing: ["lie.dm4", "unknown type 13"]) { _ = try open([("T", .data(words: [13], bytes: [0]))]) }
        expectUnmixError(containing: ["lie.dm4", "of which 1 describe its type"]) { _ = try open([("T", .data(words: [3, 3], bytes: [0, 0, 0, 0]))]) }
        expectUnmixError(containing: ["lie.dm4", "nests its type deeper"]) {
            _ = try open([("T", .data(words: Array(repeating: 20, count: 12) + [3] + Array(repeating: 1, count: 12), bytes: [0, 0, 0, 0]))])
        }
        // A group claiming 2^60 tags; a tag of an unknown kind; a missing %%%% mark.
        var group = DMWriter.file([("G", .group([]))], version: 4, order: order)
        group.replaceSubrange((16 + 2)..<(16 + 10), with: DMWriter.encode(UInt64(huge), .big))
        expectUnmixError(containing: ["lie.dm4", "claims \(huge) tags"]) { _ = try openBytes(group, name: "lie.dm4") }
        var kind = DMWriter.file([("G", .group([]))], version: 3, order: order)
        kind[12 + 6] = 22
        expectUnmixError(containing: ["lie.dm3", "tag kind 22"]) { _ = try openBytes(kind, name: "lie.dm3") }
        var mark = DMWriter.file([("T", DMWriter.int32(5, order))], version: 3, order: order)
        mark[12 + 6 + 4] = UInt8(ascii: "#")
        expectUnmixError(containing: ["lie.dm3", "lacks its %%%% mark"]) { _ = try openBytes(mark, name: "lie.dm3") }
        // A dimension or a DataType that is not an integer.
        let image = DMWriter.Image(dims: [2, 2, 2], values: (0..<8).map(Double.init))
        guard var top = DMWriter.imageGroup(image, order).entries, var data = top[0].1.entries else { Issue.record("layout"); return }
        data[3].1 = .group([("", DMWriter.uint32(2, order)), ("", DMWriter.float32(2.5, order)), ("", DMWriter.uint32(2, order))])
        top[0].1 = .group(data)
        expectUnmixError(containing: ["lie.dm4", "a dimension that is not a size"]) { _ = try open([("ImageList", .group([("", .group(top))]))]) }
    }

    /// DM4's per-tag sizes are not followed: sizes that point back at their own tag (a
    /// cycle, for a reader that seeks by them), at nothing or past the end change nothing.
    @Test func tagSizesThatLieAreIgnored() throws {
        let image = DMWriter.Image(dims: [2, 2, 3], values: spectrumImageValues(x: 2, y: 2, e: 3))
        let bytes = DMWriter.document([image], version: 4, order: .little)
        let reference = try openBytes(bytes).cube.values
        // Find every tag's size field by walking the tree as the writer laid it out.
        var offsets = [Int]()
        var at = 16 + 2 + 8
        func walk(_ count: Int) {
            for _ in 0..<count {
                let kind = bytes[at]
                let nameLength = Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
                at += 3 + nameLength
                offsets.append(at)
                let size = bytes[at..<(at + 8)].reduce(0) { $0 << 8 | Int($1) }
                at += 8
                if kind == 20 {
                    let n = bytes[(at + 2)..<(at + 10)].reduce(0) { $0 << 8 | Int($1) }
                    at += 10
                    walk(n)
                } else {
                    at += size
                }
            }
        }
        walk(3)
        #expect(offsets.count > 40)
        for (k, value) in [UInt64(0), UInt64(bitPattern: -8), UInt64.max, 1 << 40].enumerated() {
            var lying = bytes
            for offset in offsets { lying.replaceSubrange(offset..<(offset + 8), with: DMWriter.encode(value, .big)) }
            #expect(try openBytes(lying, name: "sizes\(k).dm4").cube.values == reference)
        }
    }

    /// Several hundred mutants of each real file and each synthetic seed: every one is read or
    /// refused with one UnmixError line, never a trap.
    @Test func mutantsNeverTrap() throws {
        var seeds = fuzzSeeds()
        for name in ["test-1.dm3", "test-1.dm4", "EELS_SI.dm4"] {
            if let url = sharedDataFile(name), let data = FileManager.default.contents(atPath: url.path) { seeds.append((name, [UInt8](data))) }
        }
        let perSeed = 400
        var tried = 0, read = 0
        try withTemporaryDirectory { dir in
            for (index, seed) in seeds.enumerated() {
                let url = dir.appendingPathComponent("mutant-\(seed.name)")
                for mutant in mutants(of: seed.bytes, count: perSeed, seed: UInt64(index + 1)) {
                    try Data(mutant).write(to: url)
                    tried += 1
                    do {
                        let dataset = try Datasets.open(url.path)
                        #expect(dataset.cube.pixels > 0 && dataset.cube.bands > 0)
                        read += 1
                    } catch let error as UnmixError {
                        #expect(error.message.contains(url.lastPathComponent), "\(error.message)")
                        #expect(!error.message.contains("\n"))
                    }
                }
            }
        }
        #expect(tried == seeds.count * perSeed)
        #expect(read > 0 && read < tried, "\(read) of \(tried) mutants read")
        print("DigitalMicrograph mutants: \(tried) tried over \(seeds.count) seeds, \(read) read, \(tried - read) refused")
    }

    /// The committed seeds of the libFuzzer target are what the writer makes, and each reads.
    /// `UNMIX_WRITE_DM_SEEDS=1` rewrites them.
    @Test func fuzzSeedsAreCurrent() throws {
        let folder = repositoryRoot().appendingPathComponent("Tests/Fixtures/fuzz/dm")
        let rewrite = ProcessInfo.processInfo.environment["UNMIX_WRITE_DM_SEEDS"] == "1"
        if rewrite { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        for seed in fuzzSeeds() {
            let url = folder.appendingPathComponent(seed.name)
            if rewrite { try Data(seed.bytes).write(to: url) }
            let committed = FileManager.default.contents(atPath: url.path).map { [UInt8]($0) }
            #expect(committed == seed.bytes, "\(seed.name) differs from the writer's output (rerun with UNMIX_WRITE_DM_SEEDS=1)")
            #expect(seed.bytes.count < 4096)
            _ = try Datasets.open(url.path)
        }
    }
}
