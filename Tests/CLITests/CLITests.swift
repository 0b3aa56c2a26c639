import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The `unmix` command line end to end: the built binary, run as a user would run it.
@Suite struct CLITests {
    // MARK: - Help

    /// The subcommands, in the order `unmix --help` lists them. Each one's help, and the
    /// top-level help (as "unmix"), is pinned whole in `Tests/Fixtures/help/<command>.txt`.
    static let subcommands = ["list", "info", "inspect", "synth", "estimate", "run", "apply", "compare", "demo", "validate", "serve"]

    /// The pinned help texts. After changing an option or its help on purpose, regenerate them:
    ///
    ///     UNMIX_UPDATE_HELP=1 swift test --skip-build --filter 'CLITests.helpText'
    ///
    /// which rewrites every file from the built `unmix` (still checking that help exits 0 with
    /// nothing on stderr), then review the diff of `Tests/Fixtures/help` and commit it.
    @Test(arguments: ["unmix"] + subcommands)
    func helpText(command: String) throws {
        let args = command == "unmix" ? ["--help"] : [command, "--help"]
        let result = try runUnmix(args)
        #expect(result.status == 0, "unmix \(args.joined(separator: " ")): exit status \(result.status); stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty, "unmix \(args.joined(separator: " ")): stderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("OVERVIEW: "), "help does not open with OVERVIEW:\n\(result.stdout)")
        let file = repositoryRoot().appendingPathComponent("Tests/Fixtures/help/\(command).txt")
        if ProcessInfo.processInfo.environment["UNMIX_UPDATE_HELP"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(result.stdout.utf8).write(to: file, options: .atomic)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        guard result.stdout != expected else { return }
        // The first line that differs, then both texts (regenerate as the comment above says).
        let (got, want) = (result.stdout.components(separatedBy: "\n"), expected.components(separatedBy: "\n"))
        let line = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
        Issue.record("""
            unmix \(args.joined(separator: " ")) differs from \(file.path) at line \(line + 1):
              expected: \(line < want.count ? want[line] : "<end of text>")
              observed: \(line < got.count ? got[line] : "<end of text>")
            (UNMIX_UPDATE_HELP=1 rewrites the file.) Observed text:
            \(result.stdout)
            """)
    }

    /// Every subcommand the top-level help lists has its help pinned above, and no other.
    @Test func everySubcommandHelpIsPinned() throws {
        let result = try runUnmix(["--help"])
        let lines = result.stdout.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "SUBCOMMANDS:"), "no SUBCOMMANDS: in \(result.stdout)")
        let listed = lines[(start + 1)...].prefix { !$0.isEmpty }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(listed == Self.subcommands, "unmix --help lists \(listed); the pinned help covers \(Self.subcommands)")
    }

    // MARK: - list and info

    @Test func listShowsTheFirstPartyPlugins() throws {
        let result = try runUnmix(["list"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ID") == true, "no table header:\n\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("vca ") }, "no vca row:\n\(result.stdout)")
        #expect(!result.stdout.contains("atgp"), "atgp listed without --plugin-path:\n\(result.stdout)")
    }

    @Test func listWithPluginPathShowsTheCExample() throws {
        try withTemporaryDirectory { dir in
            let atgp = try buildExampleCPlugin(into: dir)
            let result = try runUnmix(["list", "--plugin-path", dir.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("vca ") }, "no vca row:\n\(result.stdout)")
            #expect(lines.contains { $0.hasPrefix("atgp ") }, "no atgp row:\n\(result.stdout)")
            #expect(result.stdout.contains(atgp.path), "atgp's path missing:\n\(result.stdout)")
        }
    }

    @Test func listJSON() throws {
        try withTemporaryDirectory { dir in
            let atgp = try buildExampleCPlugin(into: dir)
            let result = try runUnmix(["list", "--json", "--plugin-path", dir.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let json = try parseJSONObject(result.stdout)
            #expect(Set(json.keys) == ["plugins", "failures", "notes"], "keys: \(json.keys.sorted())")
            let plugins = try #require(json["plugins"] as? [[String: Any]])
            for plugin in plugins {
                #expect(Set(plugin.keys) == ["id", "name", "version", "abi_version", "path", "summary"],
                        "plugin keys: \(plugin.keys.sorted())")
            }
            let byID = Dictionary(plugins.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            let vca = try #require(byID["vca"], "no vca in \(plugins)")
            #expect(vca["name"] as? String == "VCA")
            #expect(vca["abi_version"] as? String == "1.2")
            #expect((vca["path"] as? String)?.hasSuffix("/libunmix_vca.so") == true, "vca path \(vca["path"] ?? "nil")")
            #expect(byID["atgp"]?["path"] as? String == atgp.path)
            let failures = try #require(json["failures"] as? [Any])
            #expect(failures.isEmpty, "failures: \(failures)")
        }
    }

    @Test func infoText() throws {
        let result = try runUnmix(["info", "vca"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for fragment in ["VCA (vca) 1.0.0, plugin ABI 1.2", "capabilities: stochastic, state", "snr", "[0, 200]",
                         "projection", "auto|projective|subspace"] {
            #expect(result.stdout.contains(fragment), "info lacks \"\(fragment)\":\n\(result.stdout)")
        }
    }

    @Test func infoJSONByNameInAnotherCase() throws {
        let result = try runUnmix(["info", "VCA", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let json = try parseJSONObject(result.stdout)
        #expect(json["id"] as? String == "vca")
        let parameters = try #require(json["parameters"] as? [[String: Any]])
        #expect(parameters.map { $0["id"] as? String ?? "?" } == ["snr", "projection"])
        for p in parameters {
            let missing = ["id", "type", "default", "min", "max", "choices", "help"].filter { p[$0] == nil }
            #expect(missing.isEmpty, "parameter \(p["id"] ?? "?") lacks keys \(missing)")
        }
        let snr = try #require(parameters.first)
        #expect(snr["type"] as? String == "real")
        #expect(snr["default"] as? Double == 0)
        #expect(snr["min"] as? Double == 0)
        #expect(snr["max"] as? Double == 200)
        #expect(snr["choices"] is NSNull, "snr choices: \(snr["choices"] ?? "missing")")
        let projection = try #require(parameters.last)
        #expect(projection["type"] as? String == "choice")
        #expect(projection["default"] as? String == "auto")
        #expect(projection["min"] is NSNull && projection["max"] is NSNull, "absent bounds must be null: \(projection)")
        #expect(projection["choices"] as? [String] == ["auto", "projective", "subspace"])
    }

    // MARK: - synth, run, compare

    @Test func synthWritesTheFourFiles() throws {
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("D")
            let result = try runUnmix(["synth", "--preset", "eels3", "--seed", "3", "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
            #expect(names == ["abundances.npy", "cube.npy", "endmembers.npy", "meta.json"])
            #expect(try NPY.read(out.appendingPathComponent("cube.npy")).shape == [64, 64, 200])
            #expect(try NPY.read(out.appendingPathComponent("endmembers.npy")).shape == [3, 200])
            #expect(try NPY.read(out.appendingPathComponent("abundances.npy")).shape == [64, 64, 3])
            _ = try parseJSON(Data(contentsOf: out.appendingPathComponent("meta.json")))
            // The CLI writes what the library generates for the same seed.
            let expected = SyntheticDataset.generate(.eels3, seed: 3)
            expectClose(try NPY.read(out.appendingPathComponent("cube.npy")).values, expected.cube, tolerance: 0, "cube")
        }
    }

    /// Without ground truth, plugins whose abundances are not proportions (NMF, ICA) leave the
    /// profile charts empty: the report is still written (this once trapped the host).
    @Test(arguments: ["nmf", "ica", "vca"])
    func runWithoutTruthWritesTheReport(_ plugin: String) throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let out = dir.appendingPathComponent("out")
            let result = try runUnmix(["run", plugin, data.appendingPathComponent("cube.npy").path, "-r", "3", "--out", out.path])
            #expect(result.status == 0, "run \(plugin) without truth: \(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
        }
    }

    @Test func runWritesEndmembersAbundancesAndReport() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let out = dir.appendingPathComponent("O")
            let result = try runUnmix(["run", "vca", data.path, "--seed", "5", "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
            #expect(try NPY.read(out.appendingPathComponent("endmembers.npy")).shape == [3, 200])
            let abundances = try NPY.read(out.appendingPathComponent("abundances.npy"))
            #expect(abundances.shape == [64, 64, 3])
            #expect(abundances.values.allSatisfy { $0.isFinite })
            let report = try parseJSON(Data(contentsOf: out.appendingPathComponent("run.json")))
            let plugin = try #require(report["plugin"] as? [String: Any])
            #expect(plugin["id"] as? String == "vca")
            #expect(plugin["version"] as? String == "1.0.0")
            let parameters = try #require(report["parameters"] as? [String: Any])
            #expect(parameters["snr"] as? String == "0" && parameters["projection"] as? String == "auto", "parameters: \(parameters)")
            #expect(report["seed"] as? Int == 5, "seed: \(report["seed"] ?? "missing")")
            #expect(report["r"] as? Int == 3)
            for key in ["fit_seconds", "abundances_seconds"] {
                let t = report[key] as? Double ?? -1
                #expect(t >= 0 && t < 60, "\(key) = \(t)")
            }
            let rmse = report["reconstruction_rmse"] as? Double ?? .nan
            #expect(rmse.isFinite && rmse > 0, "reconstruction_rmse = \(rmse)")
        }
    }

    @Test func runHonoursSetParameter() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let out = dir.appendingPathComponent("O")
            let result = try runUnmix(["run", "vca", data.path, "--set", "projection=subspace", "--set", "snr=30",
                                       "--out", out.path, "--json"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let printed = try parseJSONObject(result.stdout)
            let written = try parseJSON(Data(contentsOf: out.appendingPathComponent("run.json")))
            for report in [printed, written] {
                let parameters = report["parameters"] as? [String: String]
                #expect(parameters == ["projection": "subspace", "snr": "30"], "parameters: \(String(describing: parameters))")
            }
        }
    }

    @Test func compareWithGroundTruth() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let result = try runUnmix(["compare", data.path, "--plugins", "vca", "--repeat", "2", "--json"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let json = try parseJSONObject(result.stdout)
            let results = try #require(json["results"] as? [[String: Any]])
            #expect(results.count == 1)
            let row = try #require(results.first)
            let missing = ["plugin", "runs", "sad_mean", "sad_std", "nmse_mean", "nmse_std", "rmse", "time_median_s", "error"]
                .filter { row[$0] == nil }
            #expect(missing.isEmpty, "result lacks \(missing): \(row)")
            #expect(row["plugin"] as? String == "vca")
            #expect(row["runs"] as? Int == 2)
            #expect(row["error"] is NSNull, "error: \(row["error"] ?? "missing")")
            let sad = row["sad_mean"] as? Double ?? .nan
            #expect(sad >= 0 && sad < 0.2, "VCA's mean SAD on eels3: \(sad) rad")
            for key in ["sad_std", "nmse_mean", "nmse_std", "rmse", "time_median_s"] {
                let v = row[key] as? Double ?? .nan
                #expect(v.isFinite && v >= 0, "\(key) = \(v)")
            }
            #expect(json["sad_matrix"] == nil, "sad_matrix with ground truth")
        }
    }

    /// `compare --out` keeps the report: JSON, markdown with the table, the endmember figure
    /// (one panel per true endmember, named from meta.json), and every run's outputs.
    @Test func compareOutWritesTheReport() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let out = dir.appendingPathComponent("report")
            let result = try runUnmix(["compare", data.path, "--plugins", "vca", "--repeat", "2", "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let json = try parseJSONObject(String(decoding: try Data(contentsOf: out.appendingPathComponent("compare.json")), as: UTF8.self))
            #expect((json["results"] as? [[String: Any]])?.first?["runs"] as? Int == 2)
            let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("SAD (rad)") && html.contains("Ru-like") && html.contains("Pt-like"))
            // 3 spectra panels × (truth + vca) and 3 profile panels × (truth + vca).
            #expect(html.components(separatedBy: "<polyline").count - 1 == 12, "curves in report.html")
            #expect(html.components(separatedBy: "<img class=\"map\"").count - 1 == 6, "maps: truth and vca × 3")
            for seed in ["seed-0", "seed-1"] {
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("runs/vca/\(seed)/endmembers.npy").path))
            }
        }
    }

    @Test func compareReportsFailingAndCrashingPluginsInTheirRows() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let plugins = dir.appendingPathComponent("plugins")
            try buildFixturePlugin("failing", into: plugins)
            try buildFixturePlugin("crashing", into: plugins)
            let result = try runUnmix(["compare", data.path, "--plugins", "vca,failing,crashing",
                                       "--plugin-path", plugins.path, "--json"])
            #expect(result.status == 1, "exit status: expected 1, observed \(result.status); stderr: \(result.stderr)")
            let json = try parseJSONObject(result.stdout)
            let results = try #require(json["results"] as? [[String: Any]])
            let byID = Dictionary(results.map { ($0["plugin"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            #expect(byID["vca"]?["error"] is NSNull, "vca: \(byID["vca"] ?? [:])")
            #expect(byID["vca"]?["runs"] as? Int == 1)
            #expect((byID["vca"]?["sad_mean"] as? Double)?.isFinite == true)
            let failing = byID["failing"]?["error"] as? String ?? ""
            #expect(failing.contains("deliberate failure for tests"), "failing's error: \(failing)")
            #expect(byID["crashing"]?["error"] as? String == "crashed (SIGSEGV) during fit",
                    "crashing's error: \(byID["crashing"]?["error"] ?? "missing")")
            #expect(byID["failing"]?["runs"] as? Int == 0 && byID["crashing"]?["runs"] as? Int == 0)
        }
    }

    @Test func compareWithoutGroundTruthReportsTheAgreementMatrix() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let plugins = dir.appendingPathComponent("plugins")
            try buildExampleCPlugin(into: plugins)
            let result = try runUnmix(["compare", data.appendingPathComponent("cube.npy").path, "-r", "3",
                                       "--plugins", "vca,atgp", "--plugin-path", plugins.path, "--json"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let json = try parseJSONObject(result.stdout)
            let matrix = try #require(json["sad_matrix"] as? [String: Any], "no sad_matrix in \(json.keys.sorted())")
            #expect(matrix["plugins"] as? [String] == ["vca", "atgp"])
            let values = try #require(matrix["values"] as? [[Double]], "values: \(matrix["values"] ?? "missing")")
            #expect(values.count == 2 && values.allSatisfy { $0.count == 2 }, "values: \(values)")
            for i in values.indices where values[i].indices.contains(i) {
                expectClose(values[i][i], 0, tolerance: 1e-6, "SAD of plugin \(i) with itself")
            }
            let results = try #require(json["results"] as? [[String: Any]])
            #expect(results.allSatisfy { $0["sad_mean"] is NSNull }, "sad_mean without ground truth: \(results)")
        }
    }

    // MARK: - Bad input

    /// A command that must fail with one line, the given status, and no output folder.
    struct BadInput: Sendable, CustomTestStringConvertible {
        var name: String
        /// The arguments; `W` stands for the workspace folder (holding `D`, an eels3 dataset;
        /// `small.npy`, 4 × 4 × 5; `plugins`, with the failing fixture) and `W/out` is the
        /// --out folder.
        var args: [String]
        var status: Int32
        var fragments: [String]
        var testDescription: String { name }
    }

    static let badInputs: [BadInput] = [
        BadInput(name: "missing input file", args: ["run", "vca", "W/nosuch.npy", "-r", "2"], status: 1,
                 fragments: ["W/nosuch.npy"]),
        BadInput(name: "corrupt npy (random bytes)", args: ["run", "vca", "W/random.npy", "-r", "2"], status: 1,
                 fragments: ["random.npy"]),
        BadInput(name: "truncated npy", args: ["run", "vca", "W/truncated.npy", "-r", "2"], status: 1,
                 fragments: ["truncated.npy", "truncated"]),
        BadInput(name: "unsupported dtype <c8", args: ["run", "vca", "W/complex.npy", "-r", "2"], status: 1,
                 fragments: ["complex.npy", "<c8"]),
        BadInput(name: "NaN in the cube", args: ["run", "vca", "W/nan.npy", "-r", "2"], status: 1,
                 fragments: ["nan.npy", "non-finite"]),
        BadInput(name: "R = 0", args: ["run", "vca", "W/small.npy", "-r", "0"], status: 1, fragments: ["R = 0"]),
        BadInput(name: "R = bands", args: ["run", "vca", "W/small.npy", "-r", "5"], status: 1, fragments: ["R = 5", "5"]),
        BadInput(name: "R > bands", args: ["run", "vca", "W/small.npy", "-r", "6"], status: 1, fragments: ["R = 6"]),
        BadInput(name: "unknown parameter", args: ["run", "vca", "W/D", "--set", "nosuch=1"], status: 1,
                 fragments: ["nosuch", "snr", "projection"]),
        BadInput(name: "value out of range", args: ["run", "vca", "W/D", "--set", "snr=-5"], status: 1,
                 fragments: ["snr", "-5"]),
        BadInput(name: "bad choice", args: ["run", "vca", "W/D", "--set", "projection=sideways"], status: 1,
                 fragments: ["projection", "sideways", "subspace"]),
        BadInput(name: "unknown plugin", args: ["run", "nosuch", "W/D"], status: 1, fragments: ["nosuch", "vca"]),
        BadInput(name: "unknown option", args: ["run", "vca", "W/D", "--bogus"], status: 2, fragments: ["--bogus"]),
        BadInput(name: "no R and no ground truth", args: ["run", "vca", "W/small.npy"], status: 2, fragments: ["-r"]),
        BadInput(name: "failing plugin", args: ["run", "failing", "W/D", "--plugin-path", "W/plugins"], status: 1,
                 fragments: ["failing", "deliberate failure for tests"]),
        BadInput(name: "crashing plugin", args: ["run", "crashing", "W/D", "--plugin-path", "W/plugins"], status: 1,
                 fragments: ["crashing", "crashed (SIGSEGV)"]),
    ]

    /// The values of `W/small.npy`, 4 × 4 × 5.
    static let smallCube: [Float] = (0..<80).map { (i: Int) -> Float in Float(1 + (i * 7919) % 13) }

    /// The workspace of the bad-input cases (see `BadInput.args`).
    func makeWorkspace(_ w: URL) throws {
        try writeEels3Dataset(to: w.appendingPathComponent("D"))
        let small = Self.smallCube
        try NPY.write(small, shape: [4, 4, 5], to: w.appendingPathComponent("small.npy"))
        var generator = SystemRandomNumberGenerator()
        try Data((0..<256).map { _ in UInt8.random(in: 0...255, using: &generator) })
            .write(to: w.appendingPathComponent("random.npy"))
        try NPY.encode(small, shape: [4, 4, 5]).dropLast(10).write(to: w.appendingPathComponent("truncated.npy"))
        let complex = npyFileBytes(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2, 3), }\n",
                                   payload: (0..<12).flatMap { [UInt8($0), 0, 0, 0, 0, 0, 0, 0] })
        try complex.write(to: w.appendingPathComponent("complex.npy"))
        var nan = small
        nan[37] = .nan
        try NPY.write(nan, shape: [4, 4, 5], to: w.appendingPathComponent("nan.npy"))
        try buildFixturePlugin("failing", into: w.appendingPathComponent("plugins"))
        try buildFixturePlugin("crashing", into: w.appendingPathComponent("plugins"))
    }

    @Test(arguments: badInputs)
    func badInputFailsWithOneLineAndWritesNothing(_ case: BadInput) throws {
        try withTemporaryDirectory { w in
            try makeWorkspace(w)
            let out = w.appendingPathComponent("out")
            let args = `case`.args.map { $0 == "W" || $0.hasPrefix("W/") ? w.path + $0.dropFirst() : $0 }
            let result = try runUnmix(args + ["--out", out.path])
            expectOneErrorLine(result, status: `case`.status,
                               containing: `case`.fragments.map { $0.hasPrefix("W/") ? w.path + $0.dropFirst() : $0 })
            expectNoOutputLeft(out)
        }
    }

    /// The example autoencoder (Examples/swift-autoencoder), dropped into a plugin folder as a
    /// user would, is listed and runs through `unmix run`.
    @Test func exampleAutoencoderDropsIn() throws {
        try withTemporaryDirectory { dir in
            let plugins = dir.appendingPathComponent("plugins")
            try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: builtProductsDirectory().appendingPathComponent("libexample_shallowae.so"),
                                             to: plugins.appendingPathComponent("libunmix_shallowae.so"))
            let list = try runUnmix(["list", "--plugin-path", plugins.path])
            #expect(list.stdout.contains("shallowae"), "list: \(list.stdout)")
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let run = try runUnmix(["run", "shallowae", data.path, "--plugin-path", plugins.path, "--set", "epochs=10",
                                    "--out", dir.appendingPathComponent("out").path, "--json"])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            let sad = try #require((try parseJSONObject(run.stdout)["metrics"] as? [String: Any])?["sad_mean"] as? Double)
            #expect(sad < 0.15, "mean SAD \(sad)")
        }
    }

    /// Train once, apply: DAEU trained on one acquisition and applied to another (same
    /// endmembers, other maps and noise) unmixes it about as well as a fresh fit on it.
    @Test func trainOnceApplyToTheNextCube() throws {
        try withTemporaryDirectory { dir in
            let first = try writeEels3Dataset(to: dir.appendingPathComponent("A"), seed: 1)
            let second = try writeEels3Dataset(to: dir.appendingPathComponent("B"), seed: 2)
            let budget = ["--set", "epochs=10", "--set", "training_spectra=1000", "--seed", "3"]
            let model = dir.appendingPathComponent("daeu.unmix").path
            let trained = try runUnmix(["run", "daeu", first.path, "--save-model", model, "--out", dir.appendingPathComponent("fitA").path] + budget)
            #expect(trained.status == 0, "stderr: \(trained.stderr)")
            let applied = try runUnmix(["apply", model, second.path, "--out", dir.appendingPathComponent("applyB").path, "--json"])
            #expect(applied.status == 0, "stderr: \(applied.stderr)")
            let fresh = try runUnmix(["run", "daeu", second.path, "--out", dir.appendingPathComponent("fitB").path, "--json"] + budget)
            let appliedNMSE = try #require((try parseJSONObject(applied.stdout)["metrics"] as? [String: Any])?["nmse_mean"] as? Double)
            let freshNMSE = try #require((try parseJSONObject(fresh.stdout)["metrics"] as? [String: Any])?["nmse_mean"] as? Double)
            #expect(appliedNMSE <= freshNMSE * 1.5 + 0.05, "apply NMSE \(appliedNMSE), fresh fit NMSE \(freshNMSE)")
            let shape = try NPY.read(dir.appendingPathComponent("applyB/abundances.npy")).shape
            #expect(shape == [64, 64, 3])
        }
    }

    /// apply refuses a model it cannot use, in one line, writing nothing.
    @Test func applyRefusesMismatchedModels() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("A"))
            let model = dir.appendingPathComponent("vca.unmix")
            #expect(try runUnmix(["run", "vca", data.path, "--save-model", model.path, "--out", dir.appendingPathComponent("r").path]).status == 0)
            let out = dir.appendingPathComponent("out")
            // Another band count.
            try NPY.write([Float](repeating: 1, count: 4 * 4 * 5), shape: [4, 4, 5], to: dir.appendingPathComponent("small.npy"))
            expectOneErrorLine(try runUnmix(["apply", model.path, dir.appendingPathComponent("small.npy").path, "--out", out.path]),
                               status: 1, containing: ["5 bands", "200"])
            // Another plugin version (written whole, with its checksum: an edited byte is refused as damage).
            let bytes = try Data(contentsOf: model)
            let edited = dir.appendingPathComponent("old.unmix")
            var older = try ModelFile.read(model.path)
            older.pluginVersion = "0.9.0"
            try older.encoded().write(to: edited)
            let text = String(decoding: bytes.prefix(400), as: UTF8.self)
            #expect(text.contains("\"version\":\"1.0.0\""), "header: \(text)")
            expectOneErrorLine(try runUnmix(["apply", edited.path, data.path, "--out", out.path]),
                               status: 1, containing: ["0.9.0", "1.0.0"])
            // A truncated file.
            try bytes.dropLast(7).write(to: dir.appendingPathComponent("cut.unmix"))
            expectOneErrorLine(try runUnmix(["apply", dir.appendingPathComponent("cut.unmix").path, data.path, "--out", out.path]),
                               status: 1, containing: ["cut.unmix", "truncated"])
            // A plugin that cannot save.
            try buildFixturePlugin("minimal", into: dir.appendingPathComponent("plugins"))
            expectOneErrorLine(try runUnmix(["run", "minimal", data.path, "--save-model", dir.appendingPathComponent("m.unmix").path,
                                             "--out", out.path, "--plugin-path", dir.appendingPathComponent("plugins").path]),
                               status: 1, containing: ["minimal", "cannot save"])
            expectNoOutputLeft(out)
        }
    }

    /// `run --out` naming the input folder would overwrite its ground truth: refused, untouched.
    @Test func runRefusesToWriteIntoItsInputFolder() throws {
        try withTemporaryDirectory { w in
            let data = try writeEels3Dataset(to: w.appendingPathComponent("D"))
            let before = try Data(contentsOf: data.appendingPathComponent("endmembers.npy"))
            let result = try runUnmix(["run", "vca", data.path, "--out", data.path])
            expectOneErrorLine(result, status: 1, containing: ["input"])
            #expect(try Data(contentsOf: data.appendingPathComponent("endmembers.npy")) == before)
        }
    }

    /// The controls of the table: the workspace's good files work with the same arguments, so
    /// each case fails for its one defect (the truncated file is a valid file cut short).
    @Test func theWorkspaceControlsSucceed() throws {
        try withTemporaryDirectory { w in
            try makeWorkspace(w)
            let decoded = try NPY.decode(NPY.encode(Self.smallCube, shape: [4, 4, 5]), name: "small.npy")
            #expect(decoded.shape == [4, 4, 5])
            for args in [["run", "vca", w.path + "/small.npy", "-r", "2"], ["run", "vca", w.path + "/D", "--set", "snr=30"]] {
                let out = w.appendingPathComponent("out")
                let result = try runUnmix(args + ["--out", out.path])
                #expect(result.status == 0, "\(args): exit status \(result.status); stderr: \(result.stderr)")
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("run.json").path))
                try FileManager.default.removeItem(at: out)
            }
        }
    }
}
