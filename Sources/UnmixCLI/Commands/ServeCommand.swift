import Foundation
import UnmixHost

/// `unmix serve`: the host for another program (the Python package `unmix`), one request per
/// line of JSON on stdin, one answer per line on stdout, until stdin ends.
///
/// A request names a command and its words, exactly as on the command line, so that every
/// check and every message is the command line's own:
///
///     {"id": 1, "command": "run", "args": ["vca", "/dev/shm/x.npy", "-r", "3", "--out", "/dev/shm/o"]}
///
/// - `list`, `info NAME`: the documents of `list --json` and `info NAME --json`.
/// - `run …`, `apply …`: as those commands, in workers, but DIR receives only endmembers.npy,
///   abundances.npy and run.json (no report.html, no result.hspy); the answer is run.json. While a
///   plugin runs, lines `{"id": 1, "progress": {"fraction": 0.4, "message": "epoch 4/10"}}` come first.
///   `apply` keeps a worker per model (at most four) with the plugin loaded and the model
///   restored, and sends it each new cube: the plugin is loaded once per model, not once per cube.
/// - `model FILE`: a model file's header and endmembers, checked as `apply` checks them.
///
/// The answer is `{"id": 1, "ok": true, "result": {…}}` or `{"id": 1, "ok": false, "status": 1,
/// "stage": "request", "error": "one line"}`: status 2 when the words were wrong, 130 when SIGINT
/// stopped a plugin run (the server goes on; a SIGINT at any other moment ends it); stage
/// "plugin" when the plugin's run failed (it crashed, timed out, refused the cube), "request"
/// when the request itself was refused.
enum ServeCommand {
    static let spec = CommandSpec(
        name: "serve", abstract: "Answer another program's requests, one JSON line each on stdin and stdout (used by the Python package).",
        discussion: """
            Each request is {"id": N, "command": "list" | "info" | "run" | "apply" | "model", "args": [words]}, \
            the words those commands take on the command line ('model FILE' reads a model file). run and \
            apply write only endmembers.npy, abundances.npy and run.json to --out; apply keeps a worker \
            per model, with the plugin loaded, for the next cubes. Each answer is \
            {"id": N, "ok": true, "result": …} or {"id": N, "ok": false, "status": S, "stage": "request" | "plugin", "error": "…"}, \
            preceded by {"id": N, "progress": {"fraction": F, "message": "…"}} lines while a plugin \
            runs. SIGINT while a plugin runs stops that request (status 130) and the server goes on; at \
            any other moment it ends the server, as it ends any command. Plugins are \
            discovered once, when the server starts.
            """,
        options: [])

    struct Request: Decodable {
        var id: Int?
        var command: String
        var args: [String]?
    }

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        guard args.positionals.isEmpty else { throw UnmixError.usage("'unmix serve' takes no arguments") }
        // The protocol owns stdout; whatever else would print goes to stderr.
        let channel = Channel(fd: dup(1))
        dup2(2, 1)
        // One session per model applied: the plugin stays loaded from one cube to the next.
        let pool = WorkerPool()
        defer { _ = pool }
        while let line = readLine(strippingNewline: true) {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            Interrupts.reset()
            let request = try? JSONDecoder().decode(Request.self, from: Data(line.utf8))
            var answer: [String: Any?] = ["id": request?.id]
            do {
                guard let request else {
                    throw UnmixError.usage("serve: a request is one line of JSON {\"id\": N, \"command\": \"…\", \"args\": […]}")
                }
                answer["result"] = try serve(request, registry, channel, pool)
                answer["ok"] = true
            } catch {
                // Whose fault: the request's (words, input, model file) or the plugin's run.
                let (cause, stage) = (error as? InRun).map { ($0.error, "plugin") } ?? (error, "request")
                let status = (cause as? UnmixError)?.kind.rawValue ?? 1
                answer.merge(["ok": false, "status": Int(status), "stage": stage, "error": (cause as? UnmixError)?.message ?? "\(cause)"],
                             uniquingKeysWith: { _, b in b })
            }
            Interrupts.reset()
            channel.send(answer)
        }
        return 0
    }

    /// The result of one request.
    static func serve(_ request: Request, _ registry: PluginRegistry, _ channel: Channel, _ pool: WorkerPool) throws -> Any? {
        let words = request.args ?? []
        switch request.command {
        case "list":
            return ListCommand.document(registry)
        case "info":
            guard words.count == 1 else { throw UnmixError.usage("serve: info takes one plugin name") }
            return InfoCommand.document(try registry.find(words[0]))
        case "run":
            let args = try ParsedArguments.parse(words, RunCommand.spec)
            var run = try RunCommand.resolve(args, registry)
            run.limits.onProgress = channel.progress(request.id)
            let out = try args.required(RunOptions.out.key)
            try RunCommand.refuseOverwritingInput(out: out, input: run.input.path)
            let outcome = try InRun.wrap { try Runner.run(run) }
            let report = RunReport(run, outcome)
            let files = try args.value("--save-model").map { [($0, try RunCommand.modelFile(run, outcome).encoded())] } ?? []
            try writeRunFolder(out, outcome.result, input: run.input, json: report.json, report: nil, provenance: [:], files: files)
            return try document(report.json)
        case "apply":
            let args = try ParsedArguments.parse(words, ApplyCommand.spec)
            var apply = try ApplyCommand.resolve(args, registry)
            apply.limits.onProgress = channel.progress(request.id)
            apply.pool = pool
            let out = try args.required(RunOptions.out.key)
            try RunCommand.refuseOverwritingInput(out: out, input: apply.input.path)
            let outcome = try InRun.wrap { try Runner.apply(apply) }
            let report = ApplyCommand.report(apply, outcome, modelPath: args.positionals[0])
            try writeRunFolder(out, outcome.result, input: apply.input, json: report.json, report: nil, provenance: [:])
            return try document(report.json)
        case "model":
            guard words.count == 1 else { throw UnmixError.usage("serve: model takes one model file") }
            let m = try ModelFile.read(words[0])
            return [
                "plugin": m.pluginID, "plugin_version": m.pluginVersion, "parameters": m.parameters, "seed": String(m.seed),
                "r": m.r, "bands": m.bands,
                "endmembers": (0..<m.r).map { k in Array(m.endmembers[(k * m.bands)..<((k + 1) * m.bands)]).map(Double.init) },
                "background": m.preprocessing.background, "poisson": m.preprocessing.poissonScales != nil,
                "range": m.selection.range?.text, "roi": m.selection.roi?.text,
            ] as [String: Any?]
        default:
            throw UnmixError.usage("serve: unknown command '\(request.command)' (list, info, run, apply, model)")
        }
    }

    /// An error of the plugin's run, as opposed to one of the request.
    struct InRun: Error {
        var error: Error
        static func wrap<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch { throw InRun(error: error) }
        }
    }

    /// A JSON document (run.json) as a value to nest in the answer.
    static func document(_ json: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(json.utf8))
    }

    /// The answer stream: one compact JSON object per line, written whole under a lock (progress
    /// arrives on the worker-waiting thread, answers on the main one).
    final class Channel: @unchecked Sendable {
        let fd: Int32
        private let lock = NSLock()

        init(fd: Int32) { self.fd = fd }

        func send(_ object: [String: Any?]) {
            let line = compactJSON(object) + "\n"
            lock.lock()
            defer { lock.unlock() }
            var bytes = Array(line.utf8), done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
                if n < 0 {
                    if errno == EINTR { continue }
                    exit(0) // the client is gone
                }
                done += n
            }
        }

        /// The progress callback of request `id`.
        func progress(_ id: Int?) -> @Sendable (Double, String) -> Void {
            { [self] fraction, message in send(["id": id, "progress": ["fraction": fraction, "message": message]]) }
        }
    }
}
