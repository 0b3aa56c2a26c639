import Foundation
import Testing
import UnmixHost
import _TestSupport

/// Plugins nobody here wrote, placed on the search path beside the good ones: each hostile
/// library misbehaves in one way (`Tests/Fixtures/plugins/hostile.c`), plus files that are not
/// libraries at all. For each, `list`, `info`, `run vca`, `run BAD` and `compare --plugins
/// vca,BAD` must keep the good results, say one clear line about the bad one, leave nothing
/// behind and wait no longer than the time limit.
@Suite(.serialized) struct HostilePluginTests {
    /// How a hostile library shows itself.
    enum Expectation: Sendable {
        /// Refused when scanned: listed among the failures with this reason; unknown to other commands.
        case refusedAtScan(String)
        /// Listed; its runs fail with this reason (in `run`'s line and in compare's row).
        case failsWhenRun(String)
        /// Works, but must not disturb the host's output (stdout).
        case works
    }

    static let cases: [(HostileMode, Expectation)] = [
        (.crashFit, .failsWhenRun("crashed (SIGSEGV) during fit")),
        (.abortFit, .failsWhenRun("crashed (SIGABRT) during fit")),
        (.exitFit, .failsWhenRun("exited (status 0) during fit without a result")),
        (.loopFit, .failsWhenRun("timed out after 3 s during fit")),
        (.sleepCreate, .failsWhenRun("timed out after 3 s during create")),
        (.crashEntry, .refusedAtScan("loading it crashed (SIGSEGV)")),
        (.crashConstructor, .refusedAtScan("loading it crashed (SIGSEGV)")),
        (.nanEndmembers, .failsWhenRun("non-finite endmember value")),
        (.infAbundances, .failsWhenRun("non-finite abundance")),
        (.nanAbundances, .failsWhenRun("non-finite abundance")),
        (.overrun, .failsWhenRun("crashed (SIGSEGV) during abundances")),
        (.hugeAlloc, .failsWhenRun("out of memory")),
        (.stdoutFit, .works),
        (.forgedError, .failsWhenRun("fit failed")),
        (.wrongShape, .failsWhenRun("declares abundances summing to one but pixel 0 sums to 3")),
        (.lyingChoices, .refusedAtScan("choice")),
        (.hugeDefault, .refusedAtScan("default")),
        (.nanBounds, .refusedAtScan("NaN")),
        (.stateFlag, .refusedAtScan("state")),
        (.notELF, .refusedAtScan("invalid ELF header")),
        (.empty, .refusedAtScan("file too short")),
        (.fifo, .refusedAtScan("not a regular file (a FIFO)")),
        (.missingDependency, .refusedAtScan("libhostile_helper.so: cannot open shared object file")),
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        var mode: HostileMode
        var expectation: Expectation
        var testDescription: String { mode.fileName }
    }

    static var arguments: [Case] { cases.map { Case(mode: $0.0, expectation: $0.1) } }

    /// The limits every run of a hostile plugin gets: short, so hangs cost little. The memory
    /// limit is small because huge_alloc touches all of it before it fails, and this machine's
    /// page faults fill 2 GB in anything from 0.9 to 5.2 s (measured with a plain C loop), which
    /// is too close to the 3 s timeout; 0.5 GiB fills well within it.
    static let limits = ["--timeout", "3", "--max-memory", "0.5"]

    @Test(arguments: arguments)
    func hostileLibraryBesideTheGoodOnes(_ c: Case) throws {
        try withTemporaryDirectory { dir in
            let plugins = dir.appendingPathComponent("plugins")
            let placed = try installHostileLibraries([c.mode], into: plugins)
            let library = try #require(placed[c.mode])
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let path = ["--plugin-path", plugins.path]

            // list: the good plugins, and the bad one listed or refused in one line.
            let list = try timed { try runUnmix(["list", "--json"] + path) }
            #expect(list.result.status == 0, "list: \(list.result.stderr)")
            let json = try parseJSONObject(list.result.stdout)
            let ids = (json["plugins"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids.contains("vca") && ids.contains("nmf"), "list lost the good plugins: \(ids)")
            let failures = json["failures"] as? [[String: Any]] ?? []
            let bad = c.mode.pluginID ?? ""
            switch c.expectation {
            case .refusedAtScan(let reason):
                let mine = failures.first { ($0["path"] as? String) == library.path }
                let text = mine?["reason"] as? String ?? ""
                #expect(text.contains(reason), "\(c.mode.fileName): reason \"\(text)\" lacks \"\(reason)\"; failures \(failures)")
                #expect(!text.contains("\n"), "the reason spans lines: \(text)")
                #expect(!ids.contains(bad) || bad.isEmpty, "a refused library is listed as a plugin")
            case .failsWhenRun, .works:
                #expect(ids.contains(bad), "\(bad) is not listed: \(ids); failures \(failures)")
            }
            #expect(list.seconds < 10, "list took \(list.seconds) s")

            // run vca: unaffected.
            let good = dir.appendingPathComponent("good")
            let vca = try runUnmix(["run", "vca", data.path, "--out", good.path, "--json"] + path)
            #expect(vca.status == 0, "run vca beside \(c.mode.fileName): \(vca.stderr)")
            let report = try parseJSONObject(vca.stdout)
            #expect((report["plugin"] as? [String: Any])?["id"] as? String == "vca")

            guard !bad.isEmpty else { return }
            // info and run of the bad one.
            let info = try runUnmix(["info", bad] + path)
            let out = dir.appendingPathComponent("bad")
            let run = try timed { try runUnmix(["run", bad, data.path, "--out", out.path, "--json", "-r", "3"] + Self.limits + path) }
            #expect(run.seconds < 15, "run \(bad) took \(run.seconds) s")
            let compare = try timed {
                try runUnmix(["compare", data.path, "--plugins", "vca,\(bad)", "--json"] + Self.limits + path)
            }
            #expect(compare.seconds < 15, "compare took \(compare.seconds) s")
            switch c.expectation {
            case .refusedAtScan:
                expectOneErrorLine(info, status: 1, containing: ["no plugin named"])
                expectOneErrorLine(run.result, status: 1, containing: ["no plugin named"])
                expectNoOutputLeft(out)
                expectOneErrorLine(compare.result, status: 1, containing: ["no plugin named"])
            case .failsWhenRun(let reason):
                #expect(info.status == 0, "info \(bad): \(info.stderr)")
                expectOneErrorLine(run.result, status: 1, containing: [reason])
                #expect(run.result.stdout.isEmpty, "run printed: \(run.result.stdout)")
                expectNoOutputLeft(out)
                #expect(!run.result.stderr.contains("\u{1B}"), "a terminal escape reached stderr: \(run.result.stderr)")
                #expect(compare.result.status == 1, "compare: \(compare.result.stderr)")
                let table = try parseJSONObject(compare.result.stdout)
                let rows = table["results"] as? [[String: Any]] ?? []
                let vcaRow = rows.first { $0["plugin"] as? String == "vca" }
                let badRow = rows.first { $0["plugin"] as? String == bad }
                #expect(vcaRow?["runs"] as? Int == 1 && (vcaRow?["sad_mean"] as? Double)?.isFinite == true,
                        "vca's row lost: \(rows)")
                let error = badRow?["error"] as? String ?? ""
                #expect(error.contains(reason), "\(bad)'s row: \(badRow ?? [:])")
                #expect(!error.contains("\n") && !error.contains("\u{1B}"), "the row's error is not one clean line: \(error)")
            case .works:
                #expect(run.result.status == 0, "run \(bad): \(run.result.stderr)")
                _ = try parseJSONObject(run.result.stdout)
                #expect(compare.result.status == 0, "compare: \(compare.result.stderr)")
                _ = try parseJSONObject(compare.result.stdout)
            }
        }
    }

    /// A plugin whose name is another plugin's id does not take that id: `vca` is VCA, and
    /// `list` says why.
    @Test func aNameNeverShadowsAnId() throws {
        try withTemporaryDirectory { dir in
            let plugins = dir.appendingPathComponent("plugins")
            _ = try installHostileLibraries([.shadow], into: plugins)
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let run = try runUnmix(["run", "vca", data.path, "--out", dir.appendingPathComponent("o").path, "--json",
                                    "--plugin-path", plugins.path])
            #expect(run.status == 0, "\(run.stderr)")
            let report = try parseJSONObject(run.stdout)
            #expect((report["plugin"] as? [String: Any])?["id"] as? String == "vca", "run vca ran \(report["plugin"] ?? "?")")
            let list = try runUnmix(["list", "--plugin-path", plugins.path])
            #expect(list.stdout.contains("the name 'VCA' of evil is the id of vca: 'vca' means vca (ids win over names)"),
                    "list: \(list.stdout)")
            let evil = try runUnmix(["run", "evil", data.path, "--out", dir.appendingPathComponent("e").path, "--plugin-path", plugins.path])
            #expect(evil.status == 0, "\(evil.stderr)")
        }
    }

    /// SIGTERM or SIGINT to the host ends the whole job: the worker is gone, nothing is left,
    /// exit 143 or 130 and one line. SIGKILL to the host takes its worker with it.
    @Test(arguments: [SIGTERM, SIGINT, SIGKILL])
    func signalsEndTheWholeJob(_ signal: Int32) throws {
        try withTemporaryDirectory { dir in
            let plugins = dir.appendingPathComponent("plugins")
            _ = try installHostileLibraries([.loopFit], into: plugins)
            // Scanned once here, so the only worker that loads it below is the one running it.
            _ = try runUnmix(["list", "--plugin-path", plugins.path])
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let out = dir.appendingPathComponent("out")
            let job = try BackgroundUnmix(["run", "hostile_loop_fit", data.path, "--out", out.path, "--plugin-path", plugins.path], in: dir)
            // Its worker, in the looping fit.
            let w = try #require(worker(of: job.pid, running: "libunmix_hostile_loop_fit.so"), "no worker appeared")
            usleep(300_000)
            let (status, _, stderr) = job.signal(signal)
            var gone = false
            for _ in 0..<50 {
                if kill(w, 0) != 0 { gone = true; break }
                usleep(100_000)
            }
            #expect(gone, "the worker \(w) outlived its host")
            expectNoOutputLeft(out)
            if signal != SIGKILL {
                expectOneErrorLine((status, "", stderr), status: 128 + signal,
                                   containing: [signal == SIGTERM ? "stopped by SIGTERM" : "stopped by SIGINT"])
            }
        }
    }

    /// The model and the folder appear together or not at all; a path that is not a regular file
    /// is never replaced.
    @Test func outputsAppearTogetherOrNotAtAll() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let out = dir.appendingPathComponent("out")
            // A folder where the model should go.
            let inTheWay = dir.appendingPathComponent("model")
            try FileManager.default.createDirectory(at: inTheWay, withIntermediateDirectories: true)
            let blocked = try runUnmix(["run", "vca", data.path, "--out", out.path, "--save-model", inTheWay.path])
            expectOneErrorLine(blocked, status: 1, containing: ["cannot write \(inTheWay.path)", "a directory"])
            expectNoOutputLeft(out)
            // A device node.
            let device = try runUnmix(["run", "vca", data.path, "--out", out.path, "--save-model", "/dev/null"])
            expectOneErrorLine(device, status: 1, containing: ["/dev/null", "a character device"])
            expectNoOutputLeft(out)
            var info = stat()
            #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "/dev/null is no longer a device")
            // A model the plugin cannot save: refused before anything runs.
            let ica = dir.appendingPathComponent("ica.model")
            let noState = try runUnmix(["run", "blu", data.path, "--out", out.path, "--save-model", ica.path,
                                        "--set", "iterations=5"])
            expectOneErrorLine(noState, status: 1, containing: ["cannot save its model"])
            expectNoOutputLeft(out)
            #expect(!FileManager.default.fileExists(atPath: ica.path))
            // Both, when all is well.
            let model = dir.appendingPathComponent("vca.model")
            let ok = try runUnmix(["run", "vca", data.path, "--out", out.path, "--save-model", model.path])
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(FileManager.default.fileExists(atPath: model.path) && FileManager.default.fileExists(atPath: out.appendingPathComponent("run.json").path))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".partial-") }
            #expect(leftovers.isEmpty, "staging left: \(leftovers)")
        }
    }

    /// Ctrl-C during compare ends the whole comparison: the running worker is killed, the rows
    /// finished so far are printed, the line says what was stopped, exit 130.
    @Test func interruptedCompareKeepsTheFinishedRows() throws {
        try withTemporaryDirectory { dir in
            let plugins = dir.appendingPathComponent("plugins")
            _ = try installHostileLibraries([.loopFit], into: plugins)
            // Scanned once here, so the only worker that loads it below is the one running it.
            _ = try runUnmix(["list", "--plugin-path", plugins.path])
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let out = dir.appendingPathComponent("out")
            let job = try BackgroundUnmix(["compare", data.path, "--plugins", "vca,hostile_loop_fit", "--out", out.path,
                                           "--plugin-path", plugins.path], in: dir)
            // The looping plugin's worker (vca's row is finished once it has started).
            let looping = worker(of: job.pid, running: "libunmix_hostile_loop_fit.so")
            usleep(300_000)
            #expect(looping != nil, "never saw the looping worker")
            let (status, text, errors) = job.signal(SIGINT)
            #expect(status == 130, "exit \(status); stderr \(errors)")
            #expect(text.contains("vca ") && text.contains("1/1"), "the finished row is missing: \(text)")
            expectOneErrorLine((status, "", errors), status: 130,
                               containing: ["stopped by SIGINT", "hostile_loop_fit", "the table shows vca"])
            expectNoOutputLeft(out)
            if let looping { #expect(kill(looping, 0) != 0, "worker \(looping) outlived compare") }
        }
    }

    /// The worker of `host` that has loaded `library` and is past loading it (within 30 s), or nil.
    func worker(of host: pid_t, running library: String) -> pid_t? {
        let start = Date()
        while Date().timeIntervalSince(start) < 30 {
            for pid in workers(of: host) {
                if procFile("/proc/\(pid)/maps").contains(library) { return pid }
            }
            usleep(20_000)
        }
        return nil
    }

    /// Worker processes (by /proc) whose parent is `host`.
    func workers(of host: pid_t) -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == host else { return false }
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            return String(decoding: cmdline, as: UTF8.self).contains("__worker")
        }
    }
}

/// `unmix` started in the background (stdout and stderr to files in `dir`), to be signalled.
final class BackgroundUnmix {
    let process = Process()
    let outURL: URL, errURL: URL
    private let out: FileHandle, err: FileHandle
    var pid: pid_t { process.processIdentifier }

    init(_ args: [String], in dir: URL) throws {
        process.executableURL = unmixExecutable()
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["UNMIX_REGISTRY"] = sharedRegistryFile
        process.environment = env
        outURL = dir.appendingPathComponent("bg.stdout")
        errURL = dir.appendingPathComponent("bg.stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        out = try FileHandle(forWritingTo: outURL)
        err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    /// A test that stops early (a failed `#require`) must not leave the host running.
    deinit {
        if process.isRunning { kill(pid, SIGKILL) }
    }

    /// Sends `signal`, waits (at most 10 s, then kills it and records an issue) and returns the
    /// exit status (128 + N when killed by N), stdout and stderr.
    func signal(_ signal: Int32) -> (status: Int32, stdout: String, stderr: String) {
        kill(pid, signal)
        let sent = Date()
        while process.isRunning && Date().timeIntervalSince(sent) < 10 { usleep(50_000) }
        if process.isRunning {
            Issue.record("unmix ignored signal \(signal) for 10 s")
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return (status, (try? String(contentsOf: outURL, encoding: .utf8)) ?? "", (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

/// The text of a /proc file (whose size stat reports as 0, so it is read to its end).
func procFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes = [UInt8](), chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Runs `body` and measures how long it took.
func timed<T>(_ body: () throws -> T) rethrows -> (result: T, seconds: Double) {
    let start = Date()
    let value = try body()
    return (value, Date().timeIntervalSince(start))
}

/// The registry file: each library is loaded by one scan, later commands read the file, and a
/// changed library (or a new one) is scanned again.
@Suite struct RegistryCacheTests {
    @Test func librariesAreScannedOnceUntilTheyChange() throws {
        try withTemporaryDirectory { dir in
            let plugins = dir.appendingPathComponent("plugins")
            let log = dir.appendingPathComponent("loads.log")
            func build(_ id: String) throws {
                try buildCPlugin(source: fixtureSource("counting"), output: plugins.appendingPathComponent("libunmix_\(id).so"),
                                 defines: ["-DCOUNTING_ID=\"\(id)\""])
            }
            for i in 0..<20 { try build("counting\(i)") }
            let env = ["UNMIX_REGISTRY": dir.appendingPathComponent("registry.json").path, "UNMIX_TEST_LOAD_LOG": log.path]
            func loads() -> [String] {
                ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            }
            let first = try runUnmix(["list", "--json", "--plugin-path", plugins.path], environment: env)
            #expect(first.status == 0, "\(first.stderr)")
            let ids = ((try parseJSONObject(first.stdout))["plugins"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect((0..<20).allSatisfy { ids.contains("counting\($0)") }, "listed: \(ids)")
            #expect(loads().count == 20, "first list loaded \(loads().count) libraries, expected 20")
            // Cached: no library is loaded again, by list or by info.
            _ = try runUnmix(["list", "--plugin-path", plugins.path], environment: env)
            _ = try runUnmix(["info", "counting3", "--plugin-path", plugins.path], environment: env)
            #expect(loads().count == 20, "cached commands loaded libraries again: \(loads().count)")
            // A changed library is scanned again (and only it), with what it declares now.
            try FileManager.default.removeItem(at: plugins.appendingPathComponent("libunmix_counting5.so"))
            try buildCPlugin(source: fixtureSource("counting"), output: plugins.appendingPathComponent("libunmix_counting5.so"),
                             defines: ["-DCOUNTING_ID=\"renamed5\""])
            let after = try runUnmix(["list", "--json", "--plugin-path", plugins.path], environment: env)
            let now = ((try parseJSONObject(after.stdout))["plugins"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(now.contains("renamed5") && !now.contains("counting5"), "after the change: \(now)")
            #expect(loads().count == 21 && loads().last == "renamed5", "loads after the change: \(loads().suffix(3))")
        }
    }
}
