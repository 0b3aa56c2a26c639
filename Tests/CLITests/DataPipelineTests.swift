import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The data pipeline end to end: `inspect`, `--range` and `--roi`, the signal axis in every
/// output and through the `unmix.axis/1` host extension, the model file's axis and selection.
@Suite struct DataPipelineTests {
    private func readJSON(_ url: URL) throws -> [String: Any] { try parseJSON(Data(contentsOf: url)) }

    @Test func inspectShowsFormatShapeAxesAndTruth() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let text = try runUnmix(["inspect", data.path])
            #expect(text.status == 0, "stderr: \(text.stderr)")
            for fragment in ["unmix synth folder", "64 × 64 pixels × 200 channels", "float32",
                             "Energy loss: 250 … ", "eV (200 channels of ", "R = 3 endmembers"] {
                #expect(text.stdout.contains(fragment), "inspect lacks '\(fragment)':\n\(text.stdout)")
            }
            let json = try parseJSONObject(try runUnmix(["inspect", data.path, "--json", "--range", "300:500", "--roi", "2:10,:5"]).stdout)
            #expect(json["rows"] as? Int == 8 && json["cols"] as? Int == 5)
            let axis = try #require(json["signal_axis"] as? [String: Any])
            #expect(axis["units"] as? String == "eV")
            let offset = try #require(axis["offset"] as? Double), scale = try #require(axis["scale"] as? Double)
            #expect(offset >= 300 && offset - scale < 300, "the first channel kept is the first at or above 300 eV: \(offset)")
            let last = offset + Double((json["bands"] as? Int ?? 0) - 1) * scale
            #expect(last < 500 && last + scale >= 500, "the last channel kept is the last below 500 eV: \(last)")
            #expect((json["selection"] as? [String: Any])?["roi"] as? String == "2:10,:5")
        }
    }

    @Test func runCropsTheCubeAndTheTruthAndRecordsTheSelection() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let out = dir.appendingPathComponent("out")
            let result = try runUnmix(["run", "vca", data.path, "--range", "10:150ch", "--roi", "0:40,8:64", "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(try NPY.read(out.appendingPathComponent("endmembers.npy")).shape == [3, 140])
            #expect(try NPY.read(out.appendingPathComponent("abundances.npy")).shape == [40, 56, 3])
            let run = try readJSON(out.appendingPathComponent("run.json"))
            let input = try #require(run["input"] as? [String: Any])
            let selection = try #require(input["selection"] as? [String: Any])
            #expect(selection["range"] as? String == "10:150ch")
            #expect(selection["channels"] as? [Int] == [10, 150])
            #expect(selection["rows"] as? [Int] == [0, 40] && selection["cols"] as? [Int] == [8, 64])
            let axis = try #require(input["signal_axis"] as? [String: Any])
            let preset = SyntheticPreset.eels3
            expectClose(axis["offset"] as? Double ?? .nan, preset.energyOffset + 10 * preset.energyScale, tolerance: 1e-9, "cropped offset")
            // The truth was cropped alike: the score is still good (SAD of VCA on eels3 is ~0.02).
            let sad = try #require((run["metrics"] as? [String: Any])?["sad_mean"] as? Double)
            #expect(sad < 0.1, "mean SAD on the selection: \(sad)")
        }
    }

    @Test(arguments: ["900:250", "a:b", "250", "10:5ch", "1.5:3ch"])
    func badRangesAreUsageErrors(_ range: String) throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let result = try runUnmix(["run", "vca", data.path, "--range", range, "--out", dir.appendingPathComponent("o").path])
            expectOneErrorLine(result, status: 2, containing: ["--range"])
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
        }
    }

    @Test func selectionsOutsideTheDataFailWithOneLine() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            expectOneErrorLine(try runUnmix(["run", "vca", data.path, "--range", "2000:3000", "--out", dir.path + "/o"]),
                               status: 1, containing: ["--range 2000:3000", "selects no channel", "eV"])
            expectOneErrorLine(try runUnmix(["run", "vca", data.path, "--roi", "70:80,0:5", "--out", dir.path + "/o"]),
                               status: 1, containing: ["--roi 70:80,0:5", "outside the 64 × 64 map"])
            expectOneErrorLine(try runUnmix(["run", "vca", data.path, "--roi", "1,2", "--out", dir.path + "/o"]), status: 2,
                               containing: ["--roi expects ROW0:ROW1,COL0:COL1"])
        }
    }

    @Test func pluginsReadTheSignalAxisThroughTheHostExtension() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let plugins = dir.appendingPathComponent("plugins")
            try buildFixturePlugin("axis_echo", into: plugins)
            let out = dir.appendingPathComponent("out")
            let result = try runUnmix(["run", "axis_echo", data.path, "-r", "2", "--range", "300:400", "--plugin-path", plugins.path,
                                       "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("axis 'Energy loss' in 'eV'"), "the plugin's log: \(result.stderr)")
            let endmembers = try NPY.read(out.appendingPathComponent("endmembers.npy"))
            let preset = SyntheticPreset.eels3
            let kept = preset.energy.filter { $0 >= 300 && $0 < 400 }
            #expect(endmembers.shape == [2, kept.count])
            expectClose(endmembers.values, (kept + kept.map { 2 * $0 }).map(Float.init), tolerance: 1e-3, "axis values × (k + 1)")

            // A .npy has no calibration: the host gives no axis, and the plugin writes −1.
            let bare = dir.appendingPathComponent("bare")
            let noAxis = try runUnmix(["run", "axis_echo", data.appendingPathComponent("cube.npy").path, "-r", "2",
                                       "--plugin-path", plugins.path, "--out", bare.path])
            #expect(noAxis.status == 0, "stderr: \(noAxis.stderr)")
            #expect(try NPY.read(bare.appendingPathComponent("endmembers.npy")).values.allSatisfy { $0 == -1 })
        }
    }

    @Test func applyRepeatsTheModelsSelectionAndWarnsOnAnotherAxis() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let model = dir.appendingPathComponent("vca.unmix")
            let trained = try runUnmix(["run", "vca", data.path, "--range", "300:700", "--save-model", model.path,
                                        "--out", dir.appendingPathComponent("train").path])
            #expect(trained.status == 0, "stderr: \(trained.stderr)")
            let header = try ModelFile.read(model.path)
            #expect(header.selection.range?.text == "300:700")
            #expect(header.signalAxis?.units == "eV")

            let out = dir.appendingPathComponent("applied")
            let applied = try runUnmix(["apply", model.path, data.path, "--out", out.path])
            #expect(applied.status == 0, "stderr: \(applied.stderr)")
            #expect(!applied.stderr.contains("warning"), "same axis, no warning: \(applied.stderr)")
            let bands = header.bands
            #expect(try NPY.read(out.appendingPathComponent("abundances.npy")).shape == [64, 64, 3])
            let run = try readJSON(out.appendingPathComponent("run.json"))
            #expect(((run["input"] as? [String: Any])?["bands"] as? Int) == bands)

            // The same cube with another calibration: the channels selected by energy differ in
            // number (refused), or, in channels, the axis differs (a warning).
            let shifted = dir.appendingPathComponent("S")
            try FileManager.default.copyItem(at: data, to: shifted)
            var meta = try readJSON(shifted.appendingPathComponent("meta.json"))
            var energy = try #require(meta["energy"] as? [String: Any])
            energy["offset"] = (energy["offset"] as? Double ?? 0) + 1.5
            meta["energy"] = energy
            try JSONSerialization.data(withJSONObject: meta).write(to: shifted.appendingPathComponent("meta.json"))
            let channelModel = dir.appendingPathComponent("ch.unmix")
            #expect(try runUnmix(["run", "vca", data.path, "--range", "20:120ch", "--save-model", channelModel.path,
                                  "--out", dir.appendingPathComponent("t2").path]).status == 0)
            let warned = try runUnmix(["apply", channelModel.path, shifted.path, "--out", dir.appendingPathComponent("a2").path])
            #expect(warned.status == 0, "stderr: \(warned.stderr)")
            #expect(warned.stderr.contains("unmix: warning:") && warned.stderr.contains("differs from the one"),
                    "expected an axis warning: \(warned.stderr)")
        }
    }

    @Test func integerCubesRunAndBigCountsWarn() throws {
        try withTemporaryDirectory { dir in
            // 2 × 3 pixels × 4 channels of uint16 counts.
            let counts: [UInt16] = (0..<24).map { UInt16(100 + ($0 * 37) % 50) }
            let npy = npyFileBytes(header: "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3, 4), }\n",
                                   payload: counts.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            let file = dir.appendingPathComponent("counts.npy")
            try npy.write(to: file)
            let inspect = try parseJSONObject(try runUnmix(["inspect", file.path, "--json"]).stdout)
            #expect(inspect["dtype"] as? String == "uint16")
            let out = dir.appendingPathComponent("out")
            let result = try runUnmix(["run", "vca", file.path, "-r", "2", "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")

            let big: [UInt32] = [16_777_217, 3, 5, 7]
            let wide = npyFileBytes(header: "{'descr': '<u4', 'fortran_order': False, 'shape': (1, 1, 4), }\n",
                                    payload: big.flatMap { v in (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } })
            try wide.write(to: dir.appendingPathComponent("wide.npy"))
            let warned = try runUnmix(["inspect", dir.appendingPathComponent("wide.npy").path])
            #expect(warned.stderr.contains("unmix: warning:") && warned.stderr.contains("2^24"), "stderr: \(warned.stderr)")
        }
    }
}
