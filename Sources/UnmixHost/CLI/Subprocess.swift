import Foundation

/// How a child process ended, and its peak memory.
public struct ChildOutcome: Sendable {
    /// The child's process id.
    public var pid: pid_t
    /// The exit status, when it exited.
    public var exitStatus: Int32?
    /// The signal that killed it, when it was killed.
    public var signal: Int32?
    /// Peak resident memory of the child (ru_maxrss), in MiB.
    public var peakMemoryMiB: Double
    public var succeeded: Bool { exitStatus == 0 }
}

/// Runs `executable` with `arguments`, its stdout and stderr sent to files (or, when nil, to
/// this process's own), and waits for it.
/// The child runs the plugin so that a crash or a runaway allocation in a plugin cannot take the
/// host down, and so that its peak memory can be measured alone (wait4's rusage).
///
/// With `terminalFD`, the child also gets this process's stderr as file descriptor 3 (for its
/// progress line, `UNMIX_PROGRESS_FD=3` in `environment`), even when its own stderr is a file.
public func runChild(_ executable: String, _ arguments: [String], stdout: String?, stderr: String?,
                     environment: [String: String] = [:], terminalFD: Bool = false) throws -> ChildOutcome {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if terminalFD { posix_spawn_file_actions_adddup2(&actions, 2, 3) }
    if let stdout { posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
    if let stderr { posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for p in argv { free(p) }
        for p in envp { free(p) }
    }
    fflush(nil) // flush before the child writes to a shared stdout, so output stays in order
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard rc == 0 else { throw UnmixError("cannot start \(executable): \(String(cString: strerror(rc)))") }
    return try wait(for: pid)
}

/// Waits for the child `pid` and reads how it ended and its peak memory.
func wait(for pid: pid_t) throws -> ChildOutcome {
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw UnmixError("waiting for a child process failed: \(String(cString: strerror(errno)))") }
    }
    let memory = Double(usage.ru_maxrss) / 1024 // ru_maxrss is in KiB on Linux
    let termSignal = status & 0x7f
    if termSignal == 0 {
        return ChildOutcome(pid: pid, exitStatus: (status >> 8) & 0xff, signal: nil, peakMemoryMiB: memory)
    }
    return ChildOutcome(pid: pid, exitStatus: nil, signal: termSignal, peakMemoryMiB: memory)
}

/// "SIGSEGV" for 11, and so on.
public func signalName(_ s: Int32) -> String {
    let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
                                  SIGILL: "SIGILL", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT",
                                  SIGTRAP: "SIGTRAP"]
    return names[s] ?? "signal \(s)"
}
