import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The expectations `Tests/Fixtures/data/make/hspy.py` computed with HyperSpy 2.5 for every
/// fixture in `Tests/Fixtures/data/hspy/`.
private enum HSPYFixtures {
    static let expected: [String: [String: Any]] = {
        guard let data = try? Data(contentsOf: dataFixture("hspy/expected.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = json["files"] as? [String: [String: Any]] else { return [:] }
        return files
    }()

    static var names: [String] { expected.keys.sorted() }
    static var readable: [String] { names.filter { expected[$0]?["refused"] == nil } }
    static var refused: [String] { names.filter { expected[$0]?["refused"] != nil } }
}

private func expectAxis(_ axis: Axis, _ expected: Any?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let expected = expected as? [String: Any] else {
        Issue.record("\(what): no expectation", sourceLocation: sourceLocation)
        return
    }
    #expect(axis.name == expected["name"] as? String, "\(what) name", sourceLocation: sourceLocation)
    #expect(axis.size == expected["size"] as? Int, "\(what) size", sourceLocation: sourceLocation)
    #expect(axis.units == expected["units"] as? String, "\(what) units", sourceLocation: sourceLocation)
    expectClose(axis.offset, expected["offset"] as? Double ?? .nan, tolerance: 1e-12, "\(what) offset", sourceLocation: sourceLocation)
    expectClose(axis.scale, expected["scale"] as? Double ?? .nan, tolerance: 1e-12, "\(what) scale", sourceLocation: sourceLocation)
    #expect(axis.values == expected["values"] as? [Double], "\(what) values", sourceLocation: sourceLocation)
}

/// A cube with distinct values and calibrated axes, for the writer.
private func sampleDataset(rows: Int, cols: Int, bands: Int, values: [Double]? = nil) -> Dataset {
    let samples = (0..<(rows * cols * bands)).map { Float($0) * 0.5 - 3 }
    let signal = Axis(name: "Energy loss", size: bands, offset: 150, scale: 0.6, units: "eV", values: values)
    return Dataset(path: "/data/source.dm4", format: "test", cube: CubeData(rows: rows, cols: cols, bands: bands, values: samples),
                   dtype: .float32, signalAxis: signal, rowAxis: Axis(name: "y", size: rows, offset: 2, scale: 0.25, units: "nm"),
                   colAxis: Axis(name: "x", size: cols, offset: -1, scale: 0.5, units: "nm"), title: "Pt/Co SI")
}

@Suite struct HyperSpyTests {
    // MARK: - Reading

    @Test func everyFixtureHasAnExpectation() {
        #expect(HSPYFixtures.names.count == 32, "expected.json lists \(HSPYFixtures.names.count) files")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dataFixture("hspy").path)) ?? []
        #expect(Set(files.filter { $0 != "expected.json" }) == Set(HSPYFixtures.names))
    }

    /// Every readable fixture reads as HyperSpy 2.5 read it: shape, type, title, axes, values.
    @Test(arguments: HSPYFixtures.readable)
    func readsFixtureAsHyperSpyDoes(name: String) throws {
        let expected = try #require(HSPYFixtures.expected[name])
        let dataset = try Datasets.open(dataFixture("hspy/\(name)").path)
        #expect(dataset.format == "HyperSpy \(expected["version"] as? String ?? "?")")
        #expect(dataset.cube.rows == expected["rows"] as? Int)
        #expect(dataset.cube.cols == expected["cols"] as? Int)
        #expect(dataset.cube.bands == expected["bands"] as? Int)
        #expect(dataset.dtype.rawValue == expected["dtype"] as? String)
        #expect(dataset.title == expected["title"] as? String)
        expectAxis(dataset.signalAxis, expected["signal_axis"], "signal axis")
        expectAxis(dataset.rowAxis, expected["row_axis"], "row axis")
        expectAxis(dataset.colAxis, expected["col_axis"], "column axis")
        let values = try #require(expected["values"] as? [Double])
        let observed = dataset.cube.values
        #expect(observed.count == values.count)
        for (i, (o, e)) in zip(observed, values).enumerated() where abs(Double(o) - e) > 1e-6 * Swift.max(1, abs(e)) {
            Issue.record("\(name) value \(i): expected \(e), read \(o)")
            break
        }
        if let warning = expected["warning"] as? String {
            #expect(dataset.warnings.contains { $0.contains(warning) }, "warnings \(dataset.warnings) lack '\(warning)'")
        } else {
            #expect(dataset.warnings.isEmpty, "unexpected warnings \(dataset.warnings)")
        }
        // A contiguous little-endian float32 dataset is the file's pages; everything else is converted.
        #expect(dataset.cube.storage.isMapped == (expected["mapped"] as? Bool), "mapped: \(dataset.cube.storage.isMapped)")
    }

    /// Files that are not spectrum images, or not HyperSpy files, are refused with one line
    /// saying what they hold.
    @Test(arguments: HSPYFixtures.refused)
    func refusesFixture(name: String) throws {
        let fragments = try #require(HSPYFixtures.expected[name]?["refused"] as? [String])
        expectUnmixError(containing: fragments + [name]) { _ = try Datasets.open(dataFixture("hspy/\(name)").path) }
    }

    /// The shared real file is a diffraction pattern, not a spectrum image. HyperSpy 2.5 reads
    /// it as `<Signal2D, title: test_diffraction_pattern, dimensions: (|16, 16)>`, int32, whose
    /// values sum to 250910 (printed once with `hs.load(path, file_format="HSPY")`).
    @Test func realExampleIsADiffractionPatternAndIsRefused() throws {
        guard let url = sharedDataFile("example2_v3.1.hspy") else {
            print(sharedDataMissing)
            return
        }
        #expect(ObjectIdentifier(try Datasets.reader(for: url.path)) == ObjectIdentifier(HyperSpyReader.self))
        expectUnmixError(containing: ["example2_v3.1.hspy", "'test_diffraction_pattern'", "2-D signal", "(16, 16)"]) {
            _ = try Datasets.open(url.path)
        }
    }

    @Test func recognizesTheHDF5Signature() {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        #expect(HyperSpyReader.recognizes(signature + [0, 0], path: "a.hspy") == true)
        #expect(HyperSpyReader.recognizes(Array(signature.prefix(7)), path: "a.hspy") == false)
        #expect(HyperSpyReader.recognizes(Array("\u{93}NUMPY".utf8), path: "a.hspy") == false)
        #expect(HyperSpyReader.extensions == ["hspy", "hdf5", "h5"])
    }

    @Test func refusesFilesThatAreNotHDF5() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("x.hspy")
            try Data("not an HDF5 file at all".utf8).write(to: url)
            expectUnmixError(containing: ["x.hspy", "not a HyperSpy file"]) { _ = try Datasets.open(url.path) }
            // The signature alone, with nothing after it.
            try Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]).write(to: url)
            expectUnmixError(containing: ["x.hspy", "HDF5"]) { _ = try Datasets.open(url.path) }
        }
    }

    @Test func truncatedFilesAreRefused() throws {
        let bytes = try Data(contentsOf: dataFixture("hspy/si_float32.hspy"))
        try withTemporaryDirectory { dir in
            for fraction in [0.1, 0.5, 0.9, 0.99] {
                let url = dir.appendingPathComponent("cut.hspy")
                try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: url)
                expectUnmixError(containing: ["cut.hspy"]) { _ = try Datasets.open(url.path) }
            }
        }
    }

    @Test func shapeOptionIsAUsageError() {
        do {
            _ = try Datasets.open(dataFixture("hspy/si_float32.hspy").path, options: ReadOptions(shape: (3, 5)))
            Issue.record("--shape was accepted")
        } catch let error as UnmixError {
            #expect(error.kind == .usage)
            #expect(error.message.contains("--shape"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    // MARK: - Writing, read back by us

    @Test(arguments: [(3, 5, 16), (1, 7, 4), (1, 1, 9), (4, 1, 3)])
    func writtenCubesReadBack(rows: Int, cols: Int, bands: Int) throws {
        let dataset = sampleDataset(rows: rows, cols: cols, bands: bands)
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("out.hspy")
            try HyperSpyWriter.write(dataset, to: url.path)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            #expect(leftovers == ["out.hspy"], "the atomic write left \(leftovers)")
            let back = try Datasets.open(url.path)
            #expect(back.format == "HyperSpy 3.3")
            #expect(back.title == "Pt/Co SI")
            #expect(back.cube.values == dataset.cube.values)
            #expect((back.cube.rows, back.cube.cols, back.cube.bands) == (rows, cols, bands))
            #expect(back.signalAxis == dataset.signalAxis)
            #expect(back.colAxis == (rows == 1 && cols == 1 ? Axis.index("x", size: 1) : dataset.colAxis))
            #expect(back.rowAxis == (rows == 1 ? Axis.index("y", size: 1) : dataset.rowAxis))
            #expect(back.cube.storage.isMapped, "our contiguous float32 data should be mapped in place")
            #expect(back.warnings.isEmpty)
        }
    }

    @Test func nonUniformSignalAxisRoundTrips() throws {
        let values = [1.0, 1.5, 2.5, 4, 7, 11]
        let dataset = sampleDataset(rows: 2, cols: 3, bands: 6, values: values)
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("nu.hspy")
            try HyperSpyWriter.write(dataset, to: url.path)
            let back = try Datasets.open(url.path)
            #expect(back.signalAxis.values == values)
            #expect(back.signalAxis.offset == 1)
            #expect(back.signalAxis.units == "eV")
        }
    }

    @Test func writingReplacesAnExistingFile() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("out.hspy")
            try Data("old content".utf8).write(to: url)
            try HyperSpyWriter.write(sampleDataset(rows: 2, cols: 2, bands: 3), to: url.path)
            #expect(try Datasets.open(url.path).cube.bands == 3)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.hspy"])
        }
    }

    @Test func writingIntoAMissingFolderFailsCleanly() {
        expectUnmixError(containing: ["/nonexistent-unmix-folder/out.hspy"]) {
            try HyperSpyWriter.write(sampleDataset(rows: 2, cols: 2, bands: 3), to: "/nonexistent-unmix-folder/out.hspy")
        }
    }

    /// The result file read back by our reader: the endmembers are its first spectra (a line
    /// of R spectra), the abundance maps are skipped with a warning.
    @Test func resultFileReadsBackAsEndmembers() throws {
        let (r, bands, rows, cols) = (3, 5, 2, 4)
        let endmembers = (0..<(r * bands)).map { Float($0) }
        let abundances = (0..<(rows * cols * r)).map { Float($0) / 100 }
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("result.hspy")
            try HyperSpyWriter.writeResult(endmembers: endmembers, abundances: abundances, r: r,
                                           signalAxis: Axis(name: "Energy loss", size: bands, offset: 400, scale: 2, units: "eV"),
                                           rowAxis: .index("y", size: rows), colAxis: .index("x", size: cols), title: "run",
                                           metadata: ["Unmixing": ["method": "vca", "r": 3]], to: url.path)
            let back = try Datasets.open(url.path)
            #expect(back.title == "run endmembers")
            #expect((back.cube.rows, back.cube.cols, back.cube.bands) == (1, r, bands))
            #expect(back.cube.values == endmembers)
            #expect(back.colAxis.name == "endmember")
            #expect(back.warnings.contains { $0.contains("'run abundances'") && $0.contains("2-D signal") }, "\(back.warnings)")
        }
    }

    @Test func resultWithWrongCountsIsRefused() {
        expectUnmixError(containing: ["result.hspy", "R = 2"]) {
            try HyperSpyWriter.writeResult(endmembers: [1, 2, 3], abundances: [1, 2], r: 2, signalAxis: .index("E", size: 2),
                                           rowAxis: .index("y", size: 1), colAxis: .index("x", size: 1), title: "",
                                           metadata: [:], to: "/tmp/result.hspy")
        }
    }

    // MARK: - Writing, read back by HyperSpy 2.5

    @Test(.enabled(if: hyperspyPython != nil, Comment(rawValue: noHyperSpy)))
    func hyperspyReadsOurSpectrumImage() throws {
        let dataset = sampleDataset(rows: 3, cols: 5, bands: 16)
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("si.hspy")
            try HyperSpyWriter.write(dataset, to: url.path, signalType: "EELS",
                                     metadata: ["Acquisition_instrument": ["TEM": ["beam_energy": 200.0]]])
            let signals = try hyperspyReport(url)
            try #require(signals.count == 1)
            let s = signals[0]
            // EELSSpectrum where eXSpy is installed (the fixture venv has it), else Signal1D
            // carrying the EELS signal type.
            #expect(["EELSSpectrum", "Signal1D"].contains(s["cls"] as? String ?? ""), "cls: \(s["cls"] ?? "missing")")
            #expect(s["title"] as? String == "Pt/Co SI")
            #expect(s["signal_type"] as? String == "EELS")
            #expect(s["shape"] as? [Int] == [3, 5, 16])
            #expect(s["dtype"] as? String == "float32")
            #expect(s["navigation_dimension"] as? Int == 2)
            #expect(s["signal_dimension"] as? Int == 1)
            let axes = try #require(s["axes"] as? [[String: Any]])
            try #require(axes.count == 3)
            let mineAndNavigate = [(dataset.rowAxis, true), (dataset.colAxis, true), (dataset.signalAxis, false)]
            for (axis, (mine, navigate)) in zip(axes, mineAndNavigate) {
                #expect(axis["name"] as? String == mine.name)
                #expect(axis["size"] as? Int == mine.size)
                #expect(axis["offset"] as? Double == mine.offset)
                #expect(axis["scale"] as? Double == mine.scale)
                #expect(axis["units"] as? String == mine.units)
                #expect(axis["navigate"] as? Bool == navigate)
            }
            expectClose(((s["first"] as? [Double]) ?? []).map(Float.init), Array(dataset.cube.values.prefix(8)), tolerance: 0, "first values")
            expectClose(s["sum"] as? Double ?? .nan, dataset.cube.values.reduce(0) { $0 + Double($1) }, tolerance: 1e-6, "sum")
            let metadata = try #require(s["metadata"] as? [String: Any])
            let general = metadata["General"] as? [String: Any]
            #expect(general?["original_filename"] as? String == "source.dm4")
            let tem = (metadata["Acquisition_instrument"] as? [String: Any])?["TEM"] as? [String: Any]
            #expect(tem?["beam_energy"] as? Double == 200)
        }
    }

    @Test(.enabled(if: hyperspyPython != nil, Comment(rawValue: noHyperSpy)))
    func hyperspyReadsOurLineScanAndNonUniformAxis() throws {
        let values = [1.0, 1.5, 2.5, 4, 7, 11]
        let dataset = sampleDataset(rows: 1, cols: 4, bands: 6, values: values)
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("line.hspy")
            try HyperSpyWriter.write(dataset, to: url.path)
            let s = try #require(try hyperspyReport(url).first)
            #expect(s["cls"] as? String == "Signal1D")
            #expect(s["shape"] as? [Int] == [4, 6])
            let axes = try #require(s["axes"] as? [[String: Any]])
            try #require(axes.count == 2)
            #expect(axes[0]["name"] as? String == "x")
            #expect(axes[0]["navigate"] as? Bool == true)
            #expect(axes[1]["uniform"] as? Bool == false)
            #expect(axes[1]["values"] as? [Double] == values)
        }
    }

    /// The unmixing result: HyperSpy opens both signals (a list, in name order: abundances,
    /// endmembers), with their classes, axes, calibration and our metadata.
    @Test(.enabled(if: hyperspyPython != nil, Comment(rawValue: noHyperSpy)))
    func hyperspyReadsOurResultFile() throws {
        let (r, bands, rows, cols) = (2, 6, 3, 4)
        let endmembers = (0..<(r * bands)).map { Float($0) * 0.1 }
        // pixel-major: pixel p has abundances (p/100, 1 - p/100).
        let abundances = (0..<(rows * cols)).flatMap { p in [Float(p) / 100, 1 - Float(p) / 100] }
        let energy = Axis(name: "Energy loss", size: bands, offset: 280, scale: 0.5, units: "eV")
        let rowAxis = Axis(name: "y", size: rows, offset: 0, scale: 2, units: "nm")
        let colAxis = Axis(name: "x", size: cols, offset: 10, scale: 2, units: "nm")
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("result.hspy")
            try HyperSpyWriter.writeResult(endmembers: endmembers, abundances: abundances, r: r, signalAxis: energy,
                                           rowAxis: rowAxis, colAxis: colAxis, title: "nmf",
                                           metadata: ["Unmixing": ["method": "nmf", "r": 2, "tolerance": 1e-4, "sum_to_one": true,
                                                                   "input": "si.dm4", "losses": .numbers([3, 2.5])]],
                                           to: url.path)
            let signals = try hyperspyReport(url)
            try #require(signals.count == 2)
            let (maps, spectra) = (signals[0], signals[1])
            #expect(spectra["cls"] as? String == "Signal1D")
            #expect(spectra["title"] as? String == "nmf endmembers")
            #expect(spectra["shape"] as? [Int] == [r, bands])
            expectClose(((spectra["first"] as? [Double]) ?? []).map(Float.init), Array(endmembers.prefix(8)), tolerance: 0, "first spectrum")
            let spectraAxes = try #require(spectra["axes"] as? [[String: Any]])
            #expect(spectraAxes.map { $0["name"] as? String } == ["endmember", "Energy loss"])
            #expect(spectraAxes.map { $0["navigate"] as? Bool } == [true, false])
            #expect(spectraAxes[1]["offset"] as? Double == 280)
            #expect(spectraAxes[1]["scale"] as? Double == 0.5)
            #expect(spectraAxes[1]["units"] as? String == "eV")

            #expect(maps["cls"] as? String == "Signal2D")
            #expect(maps["title"] as? String == "nmf abundances")
            #expect(maps["shape"] as? [Int] == [r, rows, cols])
            // The first map is endmember 0's abundance at every pixel: p/100.
            expectClose(((maps["first"] as? [Double]) ?? []).map(Float.init), (0..<8).map { Float($0) / 100 }, tolerance: 1e-7, "first map")
            expectClose(maps["sum"] as? Double ?? .nan, Double(rows * cols), tolerance: 1e-5, "abundance sum")
            let mapAxes = try #require(maps["axes"] as? [[String: Any]])
            #expect(mapAxes.map { $0["name"] as? String } == ["endmember", "y", "x"])
            #expect(mapAxes.map { $0["navigate"] as? Bool } == [true, false, false])
            #expect(mapAxes.map { $0["scale"] as? Double } == [1, 2, 2])
            #expect(mapAxes.map { $0["offset"] as? Double } == [0, 0, 10])
            #expect(mapAxes[1]["units"] as? String == "nm")

            for signal in [maps, spectra] {
                let unmixing = (signal["metadata"] as? [String: Any])?["Unmixing"] as? [String: Any]
                #expect(unmixing?["method"] as? String == "nmf")
                #expect(unmixing?["r"] as? Int == 2)
                #expect(unmixing?["tolerance"] as? Double == 1e-4)
                #expect(unmixing?["sum_to_one"] as? Bool == true)
                #expect(unmixing?["losses"] as? [Double] == [3, 2.5])
            }
        }
    }

    // MARK: - Robustness

    /// The mutants (of `mutants(of:count: 300, seed:)` below) that crash libhdf5 1.10.8 itself,
    /// found by running every mutant in its own process (`unmix run`); each in code of the
    /// library that trusts a size read from the file. They run in a child process below, never
    /// in this one. (Remaking the fixtures changes HyperSpy's files, and so these mutants.)
    static let libhdf5Crashes: [String: [Int: String]] = [
        // Bytes 8622–8625 set to FF FF FF FF: the type of the object-header message holding the
        // attribute 'navigate' of axis-0 (and the two bytes before it). Reading a string
        // attribute of that axis, H5Aread → H5T_convert → H5T__conv_vlen → H5HG_read follows a
        // global heap reference that is not there (SIGSEGV in H5HG_read).
        "line_scan.hspy": [27: "H5Aread → H5T__conv_vlen → H5HG_read"],
        // An attribute message's name and datatype sizes (bytes 11838–11841, 10821–10824) set
        // to 0xFFFF: H5Aexists → H5O__attr_exists → H5O__msg_iterate_real → (attribute
        // decode) memcpy of a 65535-byte name past the object header (SIGSEGV).
        "v1_0.hdf5": [107: "H5Aexists → H5O__msg_iterate_real → memcpy", 211: "H5Aexists → H5O__msg_iterate_real → memcpy"],
    ]

    static let mutationSeeds = ["si_float32.hspy", "si_uint16.hspy", "line_scan.hspy", "spectrum_int32.hspy", "nonuniform.hspy",
                                "compressed.hspy", "float16.hspy", "functional.hspy", "two_signals.hspy", "list_axes.hspy", "v1_0.hdf5",
                                "v1_2.hdf5", "v2_0.hspy", "dtype_float32.hspy", "dtype_be_int16.hspy", "dtype_uint64.hspy", "image.hspy",
                                "nav3.hspy", "example2_v3.1.hspy"]

    static func mutantsOf(_ seed: String) throws -> [[UInt8]]? {
        let source = seed.hasPrefix("example") ? sharedDataFile(seed) : dataFixture("hspy/\(seed)")
        guard let source, FileManager.default.fileExists(atPath: source.path) else { return nil }
        return mutants(of: [UInt8](try Data(contentsOf: source)), count: 300, seed: UInt64(seed.utf8.count) &* 7919)
    }

    /// Corrupted variants of the fixtures and of the real file: each is read or refused with an
    /// `UnmixError`, never a trap or another error (the global heaps are checked before libhdf5
    /// reads them: of the 4,500 mutants of the first 15 seeds, 23 crashed libhdf5, 20 of them
    /// there; those are now refused before libhdf5 sees them).
    /// Mutant 283 of v2_0.hspy takes seconds: its root attribute's string length is 0xFFFFFFFF,
    /// and libhdf5 allocates and clears 4 GiB for it before reading the 8 real bytes.
    @Test(arguments: mutationSeeds)
    func mutantsAreReadOrRefused(seed: String) throws {
        guard let variants = try Self.mutantsOf(seed) else {
            print(sharedDataMissing)
            return
        }
        let crashes = Self.libhdf5Crashes[seed] ?? [:]
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent(seed)
            var (read, refused) = (0, 0)
            for (i, mutant) in variants.enumerated() where crashes[i] == nil {
                try Data(mutant).write(to: url)
                do {
                    _ = try Datasets.open(url.path)
                    read += 1
                } catch let error as UnmixError {
                    #expect(!error.message.contains("\n"), "mutant \(i): multi-line message")
                    refused += 1
                } catch {
                    Issue.record("mutant \(i) of \(seed): \(type(of: error)): \(error)")
                }
            }
            #expect(read + refused == variants.count - crashes.count)
            #expect(refused > 0, "no mutant of \(seed) was refused")
        }
    }

    /// A global heap object whose size overruns its collection (what crashed libhdf5 in 20
    /// mutants) is refused before libhdf5 reads the file.
    @Test func corruptGlobalHeapIsRefusedBeforeLibHDF5ReadsIt() throws {
        var bytes = [UInt8](try Data(contentsOf: dataFixture("hspy/si_float32.hspy")))
        let magic = Array("GCOL".utf8)
        let heap = try #require((0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == magic })
        // The first object's size (a little-endian length at collection + 16 + 8) made huge.
        for k in 0..<4 { bytes[heap + 24 + k] = 0xFF }
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("heap.hspy")
            try Data(bytes).write(to: url)
            expectUnmixError(containing: ["heap.hspy", "corrupt HDF5 file", "global heap at byte \(heap)"]) {
                _ = try Datasets.open(url.path)
            }
        }
    }

    /// The mutants that crash libhdf5, each in its own `unmix run` process: recorded as known
    /// issues while they crash (a fixed libhdf5 makes them ordinary mutants).
    /// Mutants that crash libhdf5 itself (not our code: see `libhdf5Crashes`): `unmix` reads
    /// HDF5 files in a child process first, so the host survives and says so in one line.
    @Test func libhdf5CrashesStayInAChildProcess() throws {
        for (seed, crashes) in Self.libhdf5Crashes.sorted(by: { $0.key < $1.key }) {
            let variants = try #require(try Self.mutantsOf(seed))
            for (index, stack) in crashes.sorted(by: { $0.key < $1.key }) {
                try withTemporaryDirectory { dir in
                    let url = dir.appendingPathComponent(seed)
                    try Data(variants[index]).write(to: url)
                    for command in [["run", "vca", url.path, "-r", "1", "--out", dir.appendingPathComponent("out").path],
                                    ["inspect", url.path], ["inspect", url.path, "--json"]] {
                        let result = try runUnmix(command, environment: ["SWIFT_BACKTRACE": "enable=no"])
                        #expect(result.status == 1, "mutant \(index) of \(seed) (\(stack)), unmix \(command[0]): status \(result.status): \(result.stderr)")
                        let lines = result.stderr.split(separator: "\n")
                        #expect(lines.count == 1 && lines[0].hasPrefix("unmix: error: "), "one error line: \(result.stderr)")
                        #expect(result.stderr.contains("library crashed reading it (SIGSEGV)"), "the crash, said: \(result.stderr)")
                    }
                    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
                }
            }
        }
    }
}
