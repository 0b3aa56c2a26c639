import Foundation
import Testing
import UnmixHost

/// The Python of the fixture venv, which has HyperSpy 2.5; nil when `scripts/make-fixtures`
/// (`scripts/python-venv`) has not created it.
public let hyperspyPython: URL? = {
    let url = repositoryRoot().appendingPathComponent(".build/fixture-venv/bin/python")
    return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
}()

public let noHyperSpy = "no .build/fixture-venv with HyperSpy (scripts/python-venv makes it; PyPI unreachable?): HyperSpy checks of written files skipped"

/// Runs `Tests/Python/check_hspy.py` on `file` and returns its report: one entry per signal.
public func hyperspyReport(_ file: URL) throws -> [[String: Any]] {
    let python = try #require(hyperspyPython)
    let process = Process()
    process.executableURL = python
    process.arguments = [repositoryRoot().appendingPathComponent("Tests/Python/check_hspy.py").path, file.path]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "check_hspy.py failed: \(errorText)")
    let lastLine = data.split(separator: UInt8(ascii: "\n")).last.map { Data($0) } ?? Data()
    let parsed = try? JSONSerialization.jsonObject(with: lastLine) as? [String: Any]
    let json = try #require(parsed, "check_hspy.py printed no JSON: \(String(decoding: data.prefix(300), as: UTF8.self)) \(errorText)")
    return try #require(json["signals"] as? [[String: Any]])
}

