import Foundation
import Testing

/// The folder SwiftPM built this test bundle into (`.build/<triple>/debug`), found from
/// `/proc/self/exe` of the test process. The `unmix` executable and the first-party plugin
/// libraries (`libunmix_*.so`) are built beside it.
public func builtProductsDirectory() -> URL {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent()
}

/// The built `unmix` executable (which `swift test` builds with the tests).
public func unmixExecutable() -> URL {
    builtProductsDirectory().appendingPathComponent("unmix")
}

/// Every first-party plugin library the package built: the `libunmix_*.so` files beside the
/// test bundle, sorted by name.
public func builtPluginLibraries() -> [URL] {
    let dir = builtProductsDirectory()
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter { $0.hasPrefix("libunmix_") && $0.hasSuffix(".so") }.sorted()
        .map { dir.appendingPathComponent($0) }
}

/// The registry file every `runUnmix` of this test process shares (a test may pass its own
/// `UNMIX_REGISTRY` to check scanning itself).
public let sharedRegistryFile: String = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-test-registry-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("registry.json").path
}()

/// Runs the built `unmix` with `args` and waits for it. HOME is an empty temporary folder and
/// UNMIX_PLUGIN_PATH is unset, so plugins installed for the user never leak in; `environment`
/// is added on top (the rest of the test process's environment is inherited). Standard input is
/// `input` (default: /dev/null); stdout and stderr go to files, so neither can fill a pipe and
/// block the child.
///
/// The status is the exit status, or 128 + N when the process was killed by signal N (as a
/// shell reports it).
public func runUnmix(_ args: [String], environment: [String: String] = [:], input: String? = nil) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    try withTemporaryDirectory { scratch in
        let home = scratch.appendingPathComponent("home", isDirectory: true)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        var env = ProcessInfo.processInfo.environment
        env["UNMIX_PLUGIN_PATH"] = nil
        env["HOME"] = home.path
        // One registry file for the whole test process, so that each library is scanned once.
        env["UNMIX_REGISTRY"] = sharedRegistryFile
        for (key, value) in environment { env[key] = value }

        let process = Process()
        process.executableURL = unmixExecutable()
        process.arguments = args
        process.environment = env
        if let input {
            let inURL = scratch.appendingPathComponent("stdin")
            try Data(input.utf8).write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()

        let status = process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
        return (status,
                (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

/// The dynamic-library products of the first-party plugins, as `Package.swift` declares them in
/// its `firstPartyPlugins` table (`("VCA", "unmix_vca")` → `"unmix_vca"`), in table order.
/// Read from the manifest itself, so the list is never kept twice; throws when the table cannot
/// be found or holds no entry.
public func firstPartyPluginProducts() throws -> [String] {
    let manifest = try String(contentsOf: repositoryRoot().appendingPathComponent("Package.swift"), encoding: .utf8)
    guard let start = manifest.range(of: "let firstPartyPlugins"),
          let end = manifest.range(of: "\n]", range: start.upperBound..<manifest.endIndex) else {
        throw ManifestError("Package.swift has no 'let firstPartyPlugins … ]' table")
    }
    // Each entry is one line: ("Folder", "product"),
    var products = [String]()
    for line in manifest[start.upperBound..<end.lowerBound].split(separator: "\n") {
        let quoted = line.split(separator: "\"", omittingEmptySubsequences: false)
        // ` ("VCA", "unmix_vca"),` splits into 5 pieces: the product is the fourth.
        if line.trimmingCharacters(in: .whitespaces).hasPrefix("("), quoted.count == 5 { products.append(String(quoted[3])) }
    }
    guard !products.isEmpty else { throw ManifestError("Package.swift's firstPartyPlugins table has no entry this parser reads") }
    return products
}

/// Package.swift could not be read as `firstPartyPluginProducts()` expects.
public struct ManifestError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
