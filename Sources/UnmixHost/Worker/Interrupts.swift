import Foundation

/// SIGINT and SIGTERM end the whole job: a worker is killed, staging folders are removed, the
/// process exits with 130 or 143 after one line saying what was stopped.
///
/// Outside of a `deferring` section (reading input, computing metrics) the handler exits at
/// once: nothing is being written. Inside one (waiting for a worker, staging outputs) it only
/// records the signal; the section's code sees it at its next check (`Interrupts.check()`, or
/// the worker's wait loop, ten times a second), cleans up, and throws an error of kind
/// `.interrupted` or `.terminated`, which the CLI turns into the exit status.
public enum Interrupts {
    /// Installs the handlers (once per process).
    public static func install() {
        _ = installed
    }

    /// The signal received, or nil.
    public static var received: Int32? {
        receivedSignal == 0 ? nil : receivedSignal
    }

    /// Runs `body` with the handler deferring to it; checks for a signal at the end.
    public static func deferring<T>(_ body: () throws -> T) throws -> T {
        deferDepth += 1
        defer { deferDepth -= 1 }
        let value = try body()
        try check()
        return value
    }

    /// Throws the error for a received signal, if any. `what` says what was stopped.
    public static func check(_ what: String = "") throws {
        guard let signal = received else { return }
        throw error(signal, what)
    }

    /// Forgets a signal that was handled without ending the process (`serve` answers the
    /// request it stopped, then takes the next).
    public static func reset() {
        receivedSignal = 0
    }

    /// The error that ends the command after `signal`.
    public static func error(_ signal: Int32, _ what: String) -> UnmixError {
        UnmixError("stopped by \(signalName(signal))\(what.isEmpty ? "" : ": \(what)")",
                   kind: signal == SIGTERM ? .terminated : .interrupted)
    }

    private static let installed: Void = {
        // A parent may have started us with these blocked (test runners do): unblock them.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for signal in [SIGINT, SIGTERM] {
            _ = Glibc.signal(signal) { number in
                receivedSignal = number
                guard deferDepth == 0 else { return }
                let text: StaticString = number == SIGTERM ? "unmix: error: stopped by SIGTERM\n" : "unmix: error: stopped by SIGINT\n"
                _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
                _exit(128 + number)
            }
        }
    }()
}

/// Set by the handler; read by the main thread. Plain words, as a handler may touch nothing else.
nonisolated(unsafe) private var receivedSignal: sig_atomic_t = 0
nonisolated(unsafe) private var deferDepth: sig_atomic_t = 0
