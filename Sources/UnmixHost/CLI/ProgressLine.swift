import Foundation

/// The live progress line of a plugin call on a terminal: plugin, stage, percentage, elapsed
/// time, estimated time left and the plugin's own message (autoencoders give their epoch and
/// loss), rewritten in place at most ten times a second and cleared when the call ends. Shown
/// only for calls that last more than a second, only on a terminal, and never with `-v` (which
/// prints every progress message on its own line instead).
///
/// A child process of `compare` draws on the terminal its parent gave it as file descriptor
/// `UNMIX_PROGRESS_FD`, after the parent's `UNMIX_PROGRESS_PREFIX` ("[run 3 of 8] ").
final class ProgressLine: @unchecked Sendable {
    private let fd: Int32
    private let prefix: String
    private let pluginID: String
    private let lock = NSLock()
    private var stage = ""
    private var started = 0.0
    private var lastDrawn = 0.0
    private var drawn = false

    /// The line for `pluginID`, or nil when progress should not be drawn (not a terminal).
    static func make(pluginID: String) -> ProgressLine? {
        let env = ProcessInfo.processInfo.environment
        if let text = env["UNMIX_PROGRESS_FD"], let fd = Int32(text), fd > 2, isatty(fd) != 0 {
            return ProgressLine(fd: fd, prefix: env["UNMIX_PROGRESS_PREFIX"] ?? "", pluginID: pluginID)
        }
        return isatty(2) != 0 ? ProgressLine(fd: 2, prefix: "", pluginID: pluginID) : nil
    }

    private init(fd: Int32, prefix: String, pluginID: String) {
        self.fd = fd
        self.prefix = prefix
        self.pluginID = pluginID
    }

    /// A new call starts (`fit`, `abundances`, …).
    func begin(_ stage: String) {
        lock.lock()
        defer { lock.unlock() }
        self.stage = stage
        started = now()
        lastDrawn = 0
    }

    /// The call reports `fraction` done, with an optional message.
    func update(_ fraction: Double, _ message: String?) {
        lock.lock()
        defer { lock.unlock() }
        let t = now()
        let elapsed = t - started
        guard elapsed >= 1, t - lastDrawn >= 0.1 else { return }
        lastDrawn = t
        var line = "\(prefix)\(pluginID) \(stage) \(Int((fraction * 100).rounded(.down)))%  \(Self.clock(elapsed))"
        if fraction > 0.01 && fraction < 1 { line += ", ~\(Self.clock(elapsed * (1 - fraction) / fraction)) left" }
        if let message, !message.isEmpty { line += "  " + message.filter { !$0.isNewline && $0.asciiValue.map { $0 >= 32 } ?? true } }
        write("\r\u{1B}[K" + String(line.prefix(Self.width(fd) - 1)))
        drawn = true
    }

    /// The call ended: the line is cleared.
    func end() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// "1:05" or "1:02:05".
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// The terminal's width in columns (80 when it does not say).
    static func width(_ fd: Int32) -> Int {
        var size = winsize()
        return ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }
}
