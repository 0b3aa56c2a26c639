import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The live progress line: drawn on a terminal (a pseudo-terminal made by util-linux `script`),
/// rewritten in place and cleared; absent on a pipe or a file.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux script is missing"))
struct ProgressLineTests {
    /// Runs `unmix` with `args` on a pseudo-terminal; returns what the terminal received.
    func onTerminal(_ args: [String], in dir: URL) throws -> String {
        let log = dir.appendingPathComponent("typescript")
        let command = ([unmixExecutable().path] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, log.path]
        var env = ProcessInfo.processInfo.environment
        env["UNMIX_PLUGIN_PATH"] = nil
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "unmix \(args) on a terminal: status \(process.terminationStatus)")
        return try String(contentsOf: log, encoding: .utf8)
    }

    @Test func aLongFitShowsOneLiveLineThatIsCleared() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let tty = try onTerminal(["run", "daeu", data.path, "--set", "epochs=12", "--out", dir.appendingPathComponent("o").path], in: dir)
            let updates = tty.components(separatedBy: "\r\u{1B}[Kdaeu fit ")
            #expect(updates.count >= 3, "expected several in-place updates of the line:\n\(tty.debugDescription)")
            #expect(tty.contains("left  epoch") && tty.contains(", loss "), "percentage, time left, epoch and loss:\n\(tty.debugDescription)")
            // Cleared before the summary: the summary line starts right after a clear.
            #expect(tty.contains("\r\u{1B}[Kdaeu 0."), "the line is cleared before the summary:\n\(tty.debugDescription)")

            let piped = try runUnmix(["run", "daeu", data.path, "--set", "epochs=12", "--out", dir.appendingPathComponent("p").path])
            #expect(piped.status == 0)
            #expect(!piped.stderr.contains("\u{1B}") && !piped.stderr.contains("%"), "nothing on a file: \(piped.stderr)")
        }
    }

    @Test func compareSaysWhichRunOfHowManyIsGoing() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("D"))
            let tty = try onTerminal(["compare", data.path, "--plugins", "vca,daeu", "--set", "daeu.epochs=12"], in: dir)
            #expect(tty.contains("[run 1 of 2] vca seed 0"), "\(tty.debugDescription)")
            #expect(tty.contains("[run 2 of 2] daeu fit "), "the child's line carries the parent's prefix:\n\(tty.debugDescription)")
        }
    }
}
