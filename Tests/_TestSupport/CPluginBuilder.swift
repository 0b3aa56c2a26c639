import Foundation

/// The root of the unmix repository (the folder holding `Package.swift`), found from this
/// file's own path: `<root>/Tests/_TestSupport/CPluginBuilder.swift`.
public func repositoryRoot() -> URL {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // _TestSupport
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent() // <root>
}

/// A C plugin that failed to build: the command line and what the compiler said.
public struct CPluginBuildError: Error, CustomStringConvertible {
    public var command: [String]
    public var status: Int32
    public var output: String

    public var description: String {
        "building a C plugin failed (exit status \(status)): \(command.joined(separator: " "))\n\(output)"
    }
}

/// Compiles one C source file into a shared library against the plugin header alone:
/// `cc -std=c99 -shared -fPIC -I <root>/SDK/include <defines> -o <output> <source> <libraries> -lm`,
/// `defines` being compiler options such as `-DHOSTILE_MODE=crash_fit` and `libraries` linker
/// options such as `-L DIR -l:libx.so`.
///
/// Creates the folder of `output` when needed. Throws `CPluginBuildError`, carrying the
/// compiler's diagnostics, when `cc` cannot be run or fails.
public func buildCPlugin(source: URL, output: URL, defines: [String] = [], libraries: [String] = []) throws {
    try FileManager.default.createDirectory(
        at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
    let include = repositoryRoot().appendingPathComponent("SDK/include").path
    let arguments = ["cc", "-std=c99", "-shared", "-fPIC", "-I", include] + defines
        + ["-o", output.path, source.path] + libraries + ["-lm"]

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env") // finds `cc` on PATH
    process.arguments = arguments
    // One pipe for both streams, read to the end before waiting, so a chatty compiler can
    // never block on a full pipe.
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        throw CPluginBuildError(command: arguments, status: -1, output: "\(error)")
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
        throw CPluginBuildError(command: arguments, status: process.terminationStatus, output: text)
    }
}
