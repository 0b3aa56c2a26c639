import Foundation
import Testing
import _TestSupport

/// `unmix serve`, the Python package's link to the host: one JSON answer per request line, the
/// command line's checks and messages, progress lines, and failures that leave the server running.
@Suite struct ServeCommandTests {
    /// The answers of a session fed `requests`, one JSON object per line of its stdout.
    func serve(_ requests: [String], environment: [String: String] = [:]) throws -> (answers: [[String: Any]], stderr: String) {
        let result = try runUnmix(["serve"], environment: environment, input: requests.joined(separator: "\n") + "\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let answers = try result.stdout.split(separator: "\n").map { try parseJSONObject(String($0)) }
        return (answers, result.stderr)
    }

    @Test func answersEachRequestInTurn() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"), seed: 1)
            let cube = data.appendingPathComponent("cube.npy").path
            let out = dir.appendingPathComponent("out").path, model = dir.appendingPathComponent("m.unmix").path
            let (answers, _) = try serve([
                #"{"id": 1, "command": "info", "args": ["vca"]}"#,
                #"{"id": 2, "command": "run", "args": ["vca", "\#(cube)", "-r", "3", "--set", "bogus=1", "--out", "\#(out)"]}"#,
                "not json",
                #"{"id": 3, "command": "run", "args": ["daeu", "\#(cube)", "-r", "3", "--set", "epochs=2", "--out", "\#(out)", "--save-model", "\#(model)"]}"#,
                #"{"id": 4, "command": "model", "args": ["\#(model)"]}"#,
                #"{"id": 5, "command": "frobnicate"}"#,
            ])
            let final = answers.filter { $0["progress"] == nil }
            #expect(final.map { $0["id"] as? Int } == [1, 2, nil, 3, 4, 5])
            #expect((final[0]["result"] as? [String: Any])?["id"] as? String == "vca")
            #expect(final[1]["ok"] as? Bool == false && final[1]["stage"] as? String == "request")
            #expect(final[1]["error"] as? String == "unknown parameter 'bogus' for vca (valid: snr, projection)")
            #expect(final[2]["status"] as? Int == 2)
            #expect(final[3]["ok"] as? Bool == true, "\(final[3])")
            #expect((final[3]["result"] as? [String: Any])?["r"] as? Int == 3)
            // run writes only the arrays and run.json.
            let written = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
            #expect(written == ["abundances.npy", "endmembers.npy", "run.json"], "\(written)")
            let header = try #require(final[4]["result"] as? [String: Any])
            #expect(header["plugin"] as? String == "daeu" && header["bands"] as? Int == 200)
            #expect((header["endmembers"] as? [[Double]])?.count == 3)
            #expect(final[5]["status"] as? Int == 2 && (final[5]["error"] as? String)?.contains("unknown command") == true)
            // DAEU's epochs arrive as progress lines of request 3, before its answer.
            let progress = answers.filter { $0["id"] as? Int == 3 && $0["progress"] != nil }
            #expect(progress.count >= 1)
            let last = try #require(progress.last?["progress"] as? [String: Any])
            #expect(last["fraction"] as? Double == 1 && (last["message"] as? String)?.hasPrefix("epoch 2/2") == true, "\(last)")
        }
    }

    /// serve's applications go through a session that keeps the model loaded: the abundances
    /// of each cube are those of a one-shot `unmix apply`.
    @Test func applicationsThroughASessionEqualOneShotApply() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"), seed: 1)
            let other = try writeEels3Dataset(to: dir.appendingPathComponent("eels3b"), seed: 2)
            let model = dir.appendingPathComponent("m.unmix").path
            let trained = try runUnmix(["run", "daeu", data.path, "-r", "3", "--set", "epochs=2", "--out", dir.appendingPathComponent("t").path,
                                        "--save-model", model])
            #expect(trained.status == 0, "\(trained.stderr)")
            var requests = [String]()
            for (i, cube) in [data, other, data].enumerated() {
                requests.append(#"{"id": \#(i), "command": "apply", "args": ["\#(model)", "\#(cube.appendingPathComponent("cube.npy").path)", "--out", "\#(dir.appendingPathComponent("s\(i)").path)"]}"#)
            }
            let (answers, stderr) = try serve(requests)
            #expect(answers.allSatisfy { $0["ok"] as? Bool == true }, "\(answers) \(stderr)")
            for (i, cube) in [data, other, data].enumerated() {
                let oneShot = dir.appendingPathComponent("o\(i)")
                let applied = try runUnmix(["apply", model, cube.appendingPathComponent("cube.npy").path, "--out", oneShot.path])
                #expect(applied.status == 0, "\(applied.stderr)")
                let a = try Data(contentsOf: dir.appendingPathComponent("s\(i)/abundances.npy"))
                let b = try Data(contentsOf: oneShot.appendingPathComponent("abundances.npy"))
                #expect(a == b, "cube \(i): the session's abundances differ from apply's")
            }
        }
    }

    @Test func aCrashingPluginIsAPluginFailureAndTheServerGoesOn() throws {
        try withTemporaryDirectory { dir in
            let plugins = dir.appendingPathComponent("plugins")
            try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
            try buildFixturePlugin("crashing", into: plugins)
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"), seed: 1)
            let cube = data.appendingPathComponent("cube.npy").path
            let out = dir.appendingPathComponent("out").path
            let (answers, _) = try serve([
                #"{"id": 1, "command": "run", "args": ["crashing", "\#(cube)", "-r", "2", "--out", "\#(out)"]}"#,
                #"{"id": 2, "command": "run", "args": ["vca", "\#(cube)", "-r", "3", "--out", "\#(out)"]}"#,
            ], environment: ["UNMIX_PLUGIN_PATH": plugins.path])
            #expect(answers.count == 2)
            #expect(answers[0]["stage"] as? String == "plugin" && (answers[0]["error"] as? String)?.contains("crashed (SIGSEGV) during fit") == true,
                    "\(answers[0])")
            #expect(answers[1]["ok"] as? Bool == true)
        }
    }
}
