import Foundation
import Testing
import UnmixHost
import _TestSupport

/// `unmix estimate` end to end, and `-r auto` in `run` and `compare`.
@Suite struct EstimateCommandTests {
    @Test func estimatePrintsHySimeAndElbow() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"), seed: 2)
            let result = try runUnmix(["estimate", data.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
            #expect(result.stdout.contains("HySime: R = 3"), "\(result.stdout)")
            #expect(result.stdout.contains("elbow:  R = "), "\(result.stdout)")
            #expect(result.stdout.contains("noise model: poisson (auto"), "\(result.stdout)")
            let forced = try runUnmix(["estimate", data.path, "--noise", "additive"])
            #expect(forced.status == 0 && forced.stdout.contains("noise model: additive (asked for"), "\(forced.stdout) \(forced.stderr)")
        }
    }

    @Test func estimateJSONParsesAndOutWritesTheReport() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"), seed: 3)
            let out = dir.appendingPathComponent("est")
            let result = try runUnmix(["estimate", data.path, "--json", "--out", out.path, "--range", "260:900"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let document = try parseJSONObject(result.stdout)
            let estimate = try #require(document["estimate"] as? [String: Any], "\(document.keys)")
            let hysime = try #require(estimate["hysime"] as? [String: Any])
            let scree = try #require(estimate["scree"] as? [String: Any])
            #expect(hysime["r"] as? Int == 3, "hysime: r = \(hysime["r"] ?? "missing")")
            #expect(estimate["noise_model"] as? String == "poisson")
            let bands = try #require(estimate["bands"] as? Int)
            #expect(bands < 200 && bands > 150, "--range 260:900 keeps \(bands) channels")
            #expect((hysime["signal_power"] as? [Double])?.count == bands && (scree["explained_variance_ratio"] as? [Double])?.count == bands)
            let input = try #require(document["input"] as? [String: Any])
            #expect(input["bands"] as? Int == bands)
            let written = try parseJSON(Data(contentsOf: out.appendingPathComponent("estimate.json")))
            #expect(((written["estimate"] as? [String: Any])?["hysime"] as? [String: Any])?["r"] as? Int == 3)
            let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(html.contains("Scree") && html.contains("HySime") && html.contains("<svg"), "report.html lacks the figures")
        }
    }

    @Test(arguments: [
        (["estimate"], 2, ["takes one INPUT"]),
        (["estimate", "/nonexistent/cube.npy"], 1, ["/nonexistent/cube.npy"]),
        (["estimate", "DATA", "--noise", "gauss"], 2, ["--noise", "gauss"]),
    ])
    func badInputIsOneLine(args: [String], status: Int, fragments: [String]) throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let result = try runUnmix(args.map { $0 == "DATA" ? data.path : $0 })
            expectOneErrorLine(result, status: Int32(status), containing: fragments)
        }
    }

    /// A cube of zeros has no subspace: one line, exit 1.
    @Test func zeroCubeIsOneLine() throws {
        try withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("zero.npy")
            try NPY.write([Float](repeating: 0, count: 1024), shape: [8, 8, 16], to: file)
            expectOneErrorLine(try runUnmix(["estimate", file.path]), status: 1, containing: ["zero"])
        }
    }

    /// `run -r auto` on a cube without truth: HySime's R is used, announced, and recorded.
    @Test func runAutoRecordsTheEstimate() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"), seed: 4)
            let out = dir.appendingPathComponent("out")
            let result = try runUnmix(["run", "vca", data.appendingPathComponent("cube.npy").path, "-r", "auto", "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout.contains("-r auto: HySime finds R = 3"), "\(result.stdout)")
            let report = try parseJSON(Data(contentsOf: out.appendingPathComponent("run.json")))
            #expect(report["r"] as? Int == 3)
            let estimate = try #require(report["rank_estimate"] as? [String: Any], "run.json lacks rank_estimate: \(report.keys)")
            #expect(estimate["method"] as? String == "hysime" && estimate["r"] as? Int == 3
                    && estimate["noise_model"] as? String == "poisson", "rank_estimate: \(estimate)")
            #expect(try NPY.read(out.appendingPathComponent("endmembers.npy")).shape == [3, 200])
            // Without -r auto, no rank_estimate entry.
            let out2 = dir.appendingPathComponent("out2")
            _ = try runUnmix(["run", "vca", data.appendingPathComponent("cube.npy").path, "-r", "3", "--out", out2.path])
            #expect(try parseJSON(Data(contentsOf: out2.appendingPathComponent("run.json")))["rank_estimate"] == nil)
        }
    }

    /// `compare -r auto --json`: the document has the entry, and the announcement goes to stderr.
    @Test func compareAutoRecordsTheEstimate() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"), seed: 5)
            let result = try runUnmix(["compare", data.path, "--plugins", "vca", "-r", "auto", "--json"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("-r auto: HySime finds R = 3"), "stderr: \(result.stderr)")
            let document = try parseJSONObject(result.stdout)
            #expect(document["r"] as? Int == 3)
            let estimate = try #require(document["rank_estimate"] as? [String: Any], "compare.json lacks rank_estimate")
            #expect(estimate["method"] as? String == "hysime" && estimate["r"] as? Int == 3, "\(estimate)")
        }
    }
}
