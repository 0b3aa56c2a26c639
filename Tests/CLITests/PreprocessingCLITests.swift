import Foundation
import Testing
import UnmixHost
import _TestSupport

/// --background and --poisson through the commands: recorded in run.json and in the model file,
/// repeated exactly by apply, refused in one line when they cannot apply.
@Suite struct PreprocessingCLITests {
    @Test func runRecordsThePreprocessingAndApplyRepeatsIt() throws {
        try withTemporaryDirectory { dir in
            let data = dir.appendingPathComponent("bg")
            try SyntheticDataset.generate(.eels3bg, seed: 3).write(to: data)
            let out = dir.appendingPathComponent("run"), again = dir.appendingPathComponent("apply")
            let model = dir.appendingPathComponent("m.unmix")
            let run = try runUnmix(["run", "vca", data.path, "--background", "powerlaw:250-278:5", "--poisson", "--range", "260:",
                                    "--save-model", model.path, "--out", out.path])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stdout.contains("background powerlaw:250-278:5, Poisson weighting"), "\(run.stdout)")
            let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any])
            let pre = try #require(json["preprocessing"] as? [String: Any], "run.json has no preprocessing")
            #expect(pre["background"] as? String == "powerlaw:250-278:5" && pre["poisson_weighting"] as? Bool == true)
            #expect((pre["poisson_scales"] as? [Double])?.count == 3)
            let fit = try #require(pre["background_fit"] as? [String: Any])
            #expect(fit["fit_channels"] as? [Int] == [0, 9], "250 … 277 eV: channels 0–8, \(fit)")
            let applied = try runUnmix(["apply", model.path, data.path, "--out", again.path])
            #expect(applied.status == 0, "stderr: \(applied.stderr)")
            #expect(applied.stdout.contains("Poisson weighting"))
            let a = try NPY.read(out.appendingPathComponent("abundances.npy")), b = try NPY.read(again.appendingPathComponent("abundances.npy"))
            #expect(a.shape == b.shape)
            expectClose(b.values, a.values, tolerance: 1e-4, "apply's abundances against run's on the same cube")
            let saved = try ModelFile.read(model.path)
            #expect(saved.preprocessing.background == "powerlaw:250-278:5" && saved.preprocessing.poissonBand?.count == saved.bands)
            // powerlaw:auto is saved as the window it found.
            let autoModel = dir.appendingPathComponent("auto.unmix")
            let auto = try runUnmix(["run", "vca", data.path, "--background", "powerlaw:auto", "--save-model", autoModel.path,
                                     "--out", dir.appendingPathComponent("auto").path])
            #expect(auto.status == 0, "stderr: \(auto.stderr)")
            let found = try ModelFile.read(autoModel.path).preprocessing.background ?? "none"
            #expect(found.hasPrefix("powerlaw:250-28"), "\(found)")
        }
    }

    @Test func preprocessingThatCannotApplySaysSoInOneLine() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let npy = dir.appendingPathComponent("plain.npy")
            try NPY.encode(SyntheticDataset.generate(.eels3, seed: 1).cube, shape: [64, 64, 200]).write(to: npy)
            let cases: [([String], String)] = [
                (["--background", "powerlaw:10-20"], "holds 0 channels"),
                (["--background", "cubic"], "--background expects"),
                (["--background", "powerlaw:300-250"], "0 < START < END"),
            ]
            for (options, message) in cases {
                let result = try runUnmix(["run", "vca", data.path, "--out", dir.appendingPathComponent("x").path] + options)
                #expect(result.status != 0 && result.stderr.contains(message), "\(options): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(options): \(result.stderr)")
            }
            let uncalibrated = try runUnmix(["run", "vca", npy.path, "-r", "3", "--background", "basis", "--out", dir.appendingPathComponent("y").path])
            #expect(uncalibrated.status != 0 && uncalibrated.stderr.contains("calibrated signal axis"), "\(uncalibrated.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x").path))
        }
    }
}
