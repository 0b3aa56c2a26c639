import CSystem
import Foundation

/// How the host runs one worker: its time limit and where its stderr goes.
public struct WorkerLimits: Sendable {
    /// Seconds the whole job may take (load, create, fit, abundances); nil: no limit.
    public var timeout: Double?
    /// A file for the worker's stderr (compare's logs); nil: the host's own stderr.
    public var stderrPath: String?
    /// The line before the progress of this run (compare's "[run 3 of 8] ").
    public var progressPrefix: String?
    /// A file for the worker's stdout (`validate` checks that plugins print nothing); nil: /dev/null.
    public var stdoutPath: String?

    /// The worker's address-space limit in bytes beyond the cube it maps (default: three quarters
    /// of the machine's memory).
    public var memoryBytes: Int = WorkerLimits.defaultMemoryBytes

    /// Called with the plugin's progress (fraction, message) while the worker runs, when the
    /// call asks for progress events.
    public var onProgress: (@Sendable (Double, String) -> Void)?

    /// Three quarters of physical memory.
    public static let defaultMemoryBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? Int(pages) / 4 * 3 * Int(size) : Int.max
    }()

    public init(timeout: Double? = nil, stderrPath: String? = nil, progressPrefix: String? = nil,
                stdoutPath: String? = nil) {
        self.timeout = timeout
        self.stderrPath = stderrPath
        self.progressPrefix = progressPrefix
        self.stdoutPath = stdoutPath
    }
}

/// What a worker answered, and what its process cost.
public struct WorkerAnswer: Sendable {
    public var event: WorkerEvent
    /// The payload frame after `.finished` (empty otherwise).
    public var payload: [UInt8]
    /// Peak resident memory of the worker (ru_maxrss), in MiB.
    public var peakMemoryMiB: Double
}

/// Why a worker gave no answer: the reason is one line, ready to follow the plugin's name.
public struct WorkerFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case failed, crashed, timedOut, noResult }
    public var kind: Kind
    public var reason: String
    public var peakMemoryMiB: Double
    public var description: String { reason }
}

/// The host's side of a worker (see `WorkerRequest` for the conversation).
public enum Worker {
    /// The `unmix` executable that serves as the worker: this process when it is `unmix`,
    /// else the `unmix` beside it (benchmarks, tests).
    public static var executable: String {
        let me = PluginSearchPath.executablePath()
        if (me as NSString).lastPathComponent == "unmix" { return me }
        return ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("unmix")
    }

    /// The word that makes `unmix` a worker.
    public static let command = "__worker"

    /// Starts a worker for `request`, hands it `state` and `cube`, and waits for its answer
    /// within `limits`. A worker that fails, crashes, times out or ends without an answer
    /// throws `WorkerFailure`; SIGINT or SIGTERM received meanwhile kill it and throw the
    /// interruption error (`Interrupts`).
    public static func run(_ request: WorkerRequest, state: [UInt8] = [], cube: SharedSamples? = nil,
                           limits: WorkerLimits = WorkerLimits(), maxAnswerBytes: Int = 1 << 30) throws -> WorkerAnswer {
        try Interrupts.deferring {
            try runDeferred(request, state: state, cube: cube, limits: limits, maxAnswerBytes: maxAnswerBytes)
        }
    }

    private static func runDeferred(_ request: WorkerRequest, state: [UInt8], cube: SharedSamples?, limits: WorkerLimits,
                                    maxAnswerBytes: Int) throws -> WorkerAnswer {
        let worker = try spawn(request, state: state, cubeSamples: cube?.count ?? 0, cube: cube, limits: limits, session: false)
        defer { worker.closeAll() }
        try worker.collect(limits: limits, maxAnswerBytes: maxAnswerBytes, started: now(), untilAnswer: false)
        // Whatever the plugin left running in its group.
        Glibc.kill(-worker.pid, SIGKILL)
        return try worker.answer()
    }

    /// Starts a worker for `request`: the request and `state` in an in-memory file on its fd 0,
    /// its answers on a pipe, `cube` on fd 4, and for a session the read end of a pipe of chunk
    /// requests on fd 6. Its address space is limited to `limits.memoryBytes` beyond `cubeSamples`.
    static func spawn(_ request: WorkerRequest, state: [UInt8], cubeSamples: Int, cube: SharedSamples?, limits: WorkerLimits,
                      session: Bool) throws -> SpawnedWorker {
        // The request, whole, in an in-memory file: the worker's stdin.
        let requestFD = unmix_memfd_create("unmix-request")
        guard requestFD >= 0 else { throw UnmixError("cannot start a worker: \(errnoText())") }
        defer { close(requestFD) }
        var request = request
        // The limit is what the plugin may use beyond the cube, which the worker maps too.
        let (limit, overflow) = limits.memoryBytes.addingReportingOverflow(4 * cubeSamples)
        request.memoryLimit = overflow ? nil : limit
        try writeAll(requestFD, Frame.encode(json: request) + state)
        lseek(requestFD, 0, SEEK_SET)
        var pipeFDs: [Int32] = [0, 0]
        guard unmix_pipe_cloexec(&pipeFDs) == 0 else { throw UnmixError("cannot start a worker: \(errnoText())") }
        let (readEnd, writeEnd) = (pipeFDs[0], pipeFDs[1])
        var chunkFDs: [Int32] = [-1, -1]
        if session {
            guard unmix_pipe_cloexec(&chunkFDs) == 0 else {
                close(readEnd)
                close(writeEnd)
                throw UnmixError("cannot start a worker: \(errnoText())")
            }
        }
        var keep = false
        defer {
            if !keep {
                close(readEnd)
                if session { close(chunkFDs[1]) }
            }
            if session { close(chunkFDs[0]) }
        }

        // Every descriptor handed over is first moved above the numbers it goes to, so that one
        // dup2 never overwrites the source of another.
        func high(_ fd: Int32) -> Int32 { fcntl(fd, F_DUPFD_CLOEXEC, 64) }
        var owned = [Int32]()
        defer { for fd in owned { close(fd) } }
        var sources: [(Int32, Int32)] = [(requestFD, WorkerFD.request), (writeEnd, WorkerFD.events)]
        if let cube { sources.append((cube.descriptor, WorkerFD.cube)) }
        if session { sources.append((chunkFDs[0], WorkerFD.chunks)) }
        if limits.progressPrefix != nil && isatty(2) != 0 { sources.append((2, WorkerFD.terminal)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in sources {
            let moved = high(fd)
            guard moved >= 0 else { throw UnmixError("cannot start a worker: \(errnoText())") }
            owned.append(moved)
            posix_spawn_file_actions_adddup2(&actions, moved, target)
        }
        close(writeEnd)
        posix_spawn_file_actions_addopen(&actions, 1, limits.stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let path = limits.stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        // Its own process group: a Ctrl-C at the terminal reaches the host only, which then
        // decides, and killing the group also ends whatever the plugin started.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // A clean start: no signal blocked, the ones the worker handles at their defaults.
        var none = sigset_t(), handled = sigset_t()
        sigemptyset(&none)
        sigemptyset(&handled)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&handled, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &handled)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        env["UNMIX_WORKER_PARENT"] = String(getpid())
        if let prefix = limits.progressPrefix, isatty(2) != 0 {
            env["UNMIX_PROGRESS_FD"] = String(WorkerFD.terminal)
            env["UNMIX_PROGRESS_PREFIX"] = prefix
        } else {
            env["UNMIX_PROGRESS_FD"] = nil
        }
        let exe = executable
        let words: [String] = [exe, command]
        let argv = words.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        fflush(nil)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw UnmixError("cannot start the worker \(exe): \(String(cString: strerror(rc)))") }
        for fd in owned { close(fd) }
        owned = []

        keep = true
        return SpawnedWorker(pid: pid, answers: readEnd, chunks: session ? chunkFDs[1] : nil)
    }

    /// The worker's frames in order: the last stage it announced, and its final event (with the
    /// payload frame that follows `.finished`). Frames after the final event are not looked at,
    /// and the payload is never decoded as JSON.
    static func parse(_ stream: [UInt8]) -> (stage: String, event: WorkerEvent?, payload: [UInt8]?) {
        let frames = Frame.split(stream).frames
        var stage = "start"
        for (i, frame) in frames.enumerated() {
            guard let event = try? JSONDecoder().decode(WorkerEvent.self, from: Data(frame)) else { break }
            switch event {
            case .stage(let name): stage = name
            case .progress: break
            case .finished: return (stage, event, i + 1 < frames.count ? Array(frames[i + 1]) : nil)
            case .failed, .scanned: return (stage, event, nil)
            }
        }
        return (stage, nil, nil)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw UnmixError("cannot start a worker: \(errnoText())")
            }
            done += n
        }
    }
}

/// Text from a plugin made safe to print: one line of printable characters (control
/// characters and escapes shown as spaces), at most `limit` characters.
public func oneLine(_ text: String, limit: Int = 400) -> String {
    var out = String(text.unicodeScalars.map { scalar -> Character in
        scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
            || scalar.properties.generalCategory == .lineSeparator || scalar.properties.generalCategory == .paragraphSeparator
            ? " " : Character(scalar)
    })
    out = out.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    if out.count > limit { out = String(out.prefix(limit - 1)) + "…" }
    return out
}

/// "5 s", "0.5 s", "90 s".
func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
}

