import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The real microscope files of ../shared/data/rosettasciio, end to end: `inspect` reports the
/// values their README lists, and each spectrum image runs through `unmix run vca -r 2`.
@Suite(.enabled(if: sharedDataDirectory() != nil, "\(sharedDataMissing)"))
struct SharedDataTests {
    struct Expected: CustomTestStringConvertible, Sendable {
        var file: String
        var format: String
        var shape: [Int]
        var dtype: String
        var offset: Double
        var scale: Double
        var units: String
        /// R for `run vca`, or nil when the file is not a spectrum image that can be unmixed.
        var runR: Int?
        var testDescription: String { file }
    }

    static let files: [Expected] = [
        Expected(file: "EELS_SI.dm4", format: "DigitalMicrograph 4", shape: [2, 2, 2048], dtype: "float32",
                 offset: 300, scale: 1, units: "eV", runR: 2),
        Expected(file: "test-1.dm3", format: "DigitalMicrograph 3", shape: [2, 2, 2], dtype: "int16", offset: 0, scale: 1, units: "", runR: 1),
        Expected(file: "test-1.dm4", format: "DigitalMicrograph 4", shape: [2, 2, 2], dtype: "int16", offset: 0, scale: 1, units: "", runR: 1),
        Expected(file: "16x16-spectrum_image_5x5x4000-not_square.emi", format: "TIA", shape: [5, 5, 4000], dtype: "uint32",
                 offset: 0, scale: 5, units: "eV", runR: nil),
        Expected(file: "test_ripple_sdim-1_ndim-2_float32.rpl", format: "ripple", shape: [2, 3, 4], dtype: "float32",
                 offset: 1.5, scale: 300, units: "eV", runR: 2),
        Expected(file: "test_ripple_sdim-1_ndim-2_uint16.rpl", format: "ripple", shape: [2, 3, 4], dtype: "uint16",
                 offset: 1.5, scale: 300, units: "eV", runR: 2),
    ]

    @Test(arguments: files)
    func inspectReportsWhatTheREADMEListsAndVCARuns(_ e: Expected) throws {
        let path = try #require(sharedDataFile(e.file)).path
        let inspect = try runUnmix(["inspect", path, "--json"])
        #expect(inspect.status == 0, "stderr: \(inspect.stderr)")
        let json = try parseJSONObject(inspect.stdout)
        #expect((json["format"] as? String ?? "").contains(e.format), "format: \(json["format"] ?? "nil")")
        #expect([json["rows"], json["cols"], json["bands"]].compactMap { $0 as? Int } == e.shape)
        #expect(json["dtype"] as? String == e.dtype)
        let axis = try #require(json["signal_axis"] as? [String: Any])
        expectClose(axis["offset"] as? Double ?? .nan, e.offset, tolerance: 1e-9, "\(e.file) energy offset")
        expectClose(axis["scale"] as? Double ?? .nan, e.scale, tolerance: 1e-9, "\(e.file) energy scale")
        #expect(axis["units"] as? String == e.units)
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("D")
            if let r = e.runR {
                let run = try runUnmix(["run", "vca", path, "-r", String(r), "--out", out.path])
                #expect(run.status == 0, "\(e.file): \(run.stderr)")
                let report = try parseJSON(Data(contentsOf: out.appendingPathComponent("run.json")))
                let input = report["input"] as? [String: Any]
                #expect((input?["signal_axis"] as? [String: Any])?["units"] as? String == e.units)
                #expect(try NPY.read(out.appendingPathComponent("abundances.npy")).shape == [e.shape[0], e.shape[1], r])
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
            } else {
                // Every count of the TIA test file is 0: refused in one line, nothing written.
                expectOneErrorLine(try runUnmix(["run", "vca", path, "-r", "2", "--out", out.path]), status: 1,
                                   containing: ["same value (0)", "nothing to unmix"])
                #expect(!FileManager.default.fileExists(atPath: out.path))
            }
        }
    }

    @Test func rippleValuesSumTo276() throws {
        for name in ["test_ripple_sdim-1_ndim-2_float32.rpl", "test_ripple_sdim-1_ndim-2_uint16.rpl"] {
            let dataset = try Datasets.open(try #require(sharedDataFile(name)).path)
            #expect(dataset.cube.values.reduce(0, +) == 276, "\(name)")
        }
    }
}

/// `unmix compare FILE.mat` scores against the truth in the file: a non-square eels3 scene
/// written in HySUPP's layout (MATLAB's column-major arrays) scores as well as the synth folder
/// it came from, which it would not if the pixels were read in the wrong order.
@Suite struct MATLABCompareTests {
    @Test(arguments: [MATLABWriter.Version.v73, .v5])
    func compareScoresAgainstTheTruthInTheFile(_ version: MATLABWriter.Version) throws {
        try withTemporaryDirectory { dir in
            let folder = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let (scene, _) = try Datasets.open(folder.path).selecting(Selection(roi: try Selection.Region(parsing: "0:40,:")))
            let mat = dir.appendingPathComponent("scene.mat")
            try MATLABWriter.write(scene, to: mat.path, version: version, compressed: version == .v5)
            let viaMat = try parseJSONObject(try runUnmix(["compare", mat.path, "--plugins", "vca", "--json"]).stdout)
            let viaFolder = try parseJSONObject(try runUnmix(["compare", folder.path, "--roi", "0:40,:", "--plugins", "vca", "--json"]).stdout)
            let a = try #require((viaMat["results"] as? [[String: Any]])?.first), b = try #require((viaFolder["results"] as? [[String: Any]])?.first)
            let (sad, nmse) = (try #require(a["sad_mean"] as? Double), try #require(a["nmse_mean"] as? Double))
            #expect(sad < 0.05 && nmse < 0.1, "VCA on the .mat: SAD \(sad), NMSE \(nmse)")
            expectClose(sad, b["sad_mean"] as? Double ?? .nan, tolerance: 1e-4, "the same SAD as on the folder")
            expectClose(nmse, b["nmse_mean"] as? Double ?? .nan, tolerance: 1e-4, "the same NMSE as on the folder")
        }
    }
}
