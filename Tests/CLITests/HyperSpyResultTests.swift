import Foundation
import Testing
import UnmixHost
import _TestSupport

/// result.hspy, as HyperSpy 2.5 itself opens it (`hyperspy.api.load`, in the scratch venv).
@Suite(.enabled(if: hyperspyPython != nil, "\(noHyperSpy)"))
struct HyperSpyResultTests {
    @Test func runAndApplyWriteAResultHyperSpyOpensWithTheRightAxes() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let out = dir.appendingPathComponent("run"), model = dir.appendingPathComponent("m.unmix")
            let run = try runUnmix(["run", "vca", data.path, "--range", "300:800", "--roi", "4:36,0:50", "--seed", "3",
                                    "--save-model", model.path, "--out", out.path])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let signals = try hyperspyReport(out.appendingPathComponent("result.hspy"))
            #expect(signals.count == 2, "endmembers and abundances")
            let byClass = Dictionary(signals.map { ($0["cls"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            let spectra = try #require(byClass["Signal1D"]), maps = try #require(byClass["Signal2D"])
            let endmembers = try NPY.read(out.appendingPathComponent("endmembers.npy"))
            #expect(spectra["shape"] as? [Int] == endmembers.shape, "endmembers (R, B)")
            #expect(maps["shape"] as? [Int] == [3, 32, 50], "abundances as R maps of the selection")
            let energy = try #require((spectra["axes"] as? [[String: Any]])?.last)
            let preset = SyntheticPreset.eels3
            let first = try #require(preset.energy.first { $0 >= 300 })
            #expect(energy["units"] as? String == "eV" && energy["name"] as? String == "Energy loss")
            expectClose(energy["offset"] as? Double ?? .nan, first, tolerance: 1e-9, "energy offset of the selection")
            expectClose(energy["scale"] as? Double ?? .nan, preset.energyScale, tolerance: 1e-12, "energy scale")
            #expect(energy["size"] as? Int == endmembers.shape[1])
            let mapAxes = try #require(maps["axes"] as? [[String: Any]])
            #expect(mapAxes.map { $0["name"] as? String } == ["endmember", "y", "x"])
            expectClose(mapAxes[1]["offset"] as? Double ?? .nan, 4, tolerance: 0, "y offset of the ROI")
            // Values as we wrote them: the maps' sum is the abundances' sum.
            let abundances = try NPY.read(out.appendingPathComponent("abundances.npy"))
            expectClose(maps["sum"] as? Double ?? .nan, abundances.values.reduce(0.0) { $0 + Double($1) }, tolerance: 1e-2, "abundance sum")
            let provenance = try #require((spectra["metadata"] as? [String: Any])?["unmix"] as? [String: Any])
            #expect(provenance["plugin"] as? String == "vca" && provenance["seed"] as? String == "3")
            #expect((provenance["input"] as? [String: Any])?["range"] as? String == "300:800")
            #expect((provenance["parameters"] as? [String: Any])?["projection"] as? String == "auto")

            let applied = dir.appendingPathComponent("apply")
            #expect(try runUnmix(["apply", model.path, data.path, "--out", applied.path]).status == 0)
            let again = try hyperspyReport(applied.appendingPathComponent("result.hspy"))
            let appliedMaps = try #require(again.first { $0["cls"] as? String == "Signal2D" })
            #expect(appliedMaps["shape"] as? [Int] == [3, 32, 50], "apply selects what the model was trained on")
            let whole = dir.appendingPathComponent("whole")
            #expect(try runUnmix(["apply", model.path, data.path, "--roi", ":,:", "--out", whole.path]).status == 0)
            let wholeMaps = try #require(try hyperspyReport(whole.appendingPathComponent("result.hspy")).first { $0["cls"] as? String == "Signal2D" })
            #expect(wholeMaps["shape"] as? [Int] == [3, 64, 64], "--roi replaces the model's region, the range stays")
            #expect(((appliedMaps["metadata"] as? [String: Any])?["unmix"] as? [String: Any])?["model"] as? String == model.path)
        }
    }
}
