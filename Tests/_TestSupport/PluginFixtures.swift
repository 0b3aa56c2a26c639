import Foundation
import Testing
import UnmixHost

/// The C source of a test-fixture plugin: `Tests/Fixtures/plugins/<name>.c`.
public func fixtureSource(_ name: String) -> URL {
    repositoryRoot().appendingPathComponent("Tests/Fixtures/plugins/\(name).c")
}

/// Builds the fixture plugin `name` into `directory` as `fileName` (by default
/// `libunmix_<name>.so`, a name the host loads) and returns the library's URL.
@discardableResult
public func buildFixturePlugin(_ name: String, into directory: URL, fileName: String? = nil) throws -> URL {
    let output = directory.appendingPathComponent(fileName ?? "libunmix_\(name).so")
    try buildCPlugin(source: fixtureSource(name), output: output)
    return output
}

/// Builds the C example plugin (`Examples/c-plugin/atgp_nnls.c`, id "atgp") into `directory`
/// as `libunmix_atgp.so` and returns the library's URL.
@discardableResult
public func buildExampleCPlugin(into directory: URL) throws -> URL {
    let output = directory.appendingPathComponent("libunmix_atgp.so")
    try buildCPlugin(source: repositoryRoot().appendingPathComponent("Examples/c-plugin/atgp_nnls.c"), output: output)
    return output
}

/// libltdl keeps process-wide state without locks (its list of open handles, `lt_dlerror`).
/// The CLI loads plugins from one thread; tests run in parallel, so every in-process load goes
/// through this lock.
private let loaderLock = NSLock()

/// Runs `body` (which loads plugins in this process) while no other test loads any.
public func withPluginLoaderLock<T>(_ body: () throws -> T) rethrows -> T {
    loaderLock.lock()
    defer { loaderLock.unlock() }
    return try body()
}

/// A plugin the conformance suite checks: a library the package built, the C example, or a
/// fixture. Libraries are built (for C) and loaded through the real loader once per process.
public enum PluginUnderTest: Sendable, Hashable, CustomTestStringConvertible {
    /// A `libunmix_*.so` from the built-products folder.
    case built(path: String)
    /// `Examples/c-plugin/atgp_nnls.c`.
    case cExample
    /// `Tests/Fixtures/plugins/<name>.c`.
    case fixture(String)

    /// Every first-party plugin the package built, the C example and the `minimal` fixture.
    public static var all: [PluginUnderTest] {
        builtPluginLibraries().map { .built(path: $0.path) } + [.cExample, .fixture("minimal")]
    }

    public var testDescription: String {
        switch self {
        case .built(let path): return (path as NSString).lastPathComponent
        case .cExample: return "C example (atgp)"
        case .fixture(let name): return "fixture \(name)"
        }
    }

    /// The loaded library (through `PluginLibrary.load(path:)`), built first for C sources.
    /// C libraries are compiled into a temporary folder, loaded, then their files removed (the
    /// host keeps libraries loaded for the life of the process).
    public func load() throws -> PluginLibrary {
        try withPluginLoaderLock {
            if let cached = PluginUnderTest.cache[self] { return cached }
            let library: PluginLibrary
            switch self {
            case .built(let path):
                library = try PluginLibrary.load(path: path)
            case .cExample, .fixture:
                library = try withTemporaryDirectory { dir in
                    let url = try {
                        if case .fixture(let name) = self { return try buildFixturePlugin(name, into: dir) }
                        return try buildExampleCPlugin(into: dir)
                    }()
                    return try PluginLibrary.load(path: url.path)
                }
            }
            PluginUnderTest.cache[self] = library
            return library
        }
    }

    /// Guarded by `loaderLock`.
    nonisolated(unsafe) private static var cache: [PluginUnderTest: PluginLibrary] = [:]
}

/// A small cube for exercising plugins quickly: the top-left `side` × `side` pixels and the
/// first `bands` channels (all 200 by default) of the eels3 synthetic scene drawn with `seed`.
public func smallSyntheticCube(seed: UInt64, side: Int = 16, bands: Int? = nil) -> CubeData {
    let scene = SyntheticDataset.generate(.eels3, seed: seed)
    let b = bands ?? scene.bands
    precondition(side <= scene.rows && side <= scene.cols && b <= scene.bands, "smallSyntheticCube: crop too large")
    var values = [Float]()
    values.reserveCapacity(side * side * b)
    for row in 0..<side {
        for col in 0..<side {
            let start = (row * scene.cols + col) * scene.bands
            values += scene.cube[start..<(start + b)]
        }
    }
    return CubeData(rows: side, cols: side, bands: b, values: values)
}

/// Builds `Tests/Fixtures/plugins/hostile.c` in one of its compiled modes into `directory` as
/// `mode.fileName` (`libunmix_hostile_<mode>.so`; `libunmix_needs.so` for
/// `.missingDependency`, whose helper library is built beside it in a folder of its own and
/// then deleted) and returns the library's URL. The odd files (`.notELF`, `.empty`, `.fifo`) are
/// not builds: see `installHostileLibraries(_:into:)`.
@discardableResult
public func buildHostilePlugin(_ mode: HostileMode, into directory: URL) throws -> URL {
    guard let name = mode.compiledMode else {
        throw CPluginBuildError(command: [], status: -1, output: "\(mode) is not built from hostile.c")
    }
    let output = directory.appendingPathComponent(mode.fileName)
    let source = fixtureSource("hostile")
    guard mode == .missingDependency else {
        try buildCPlugin(source: source, output: output, defines: ["-DHOSTILE_MODE=\(name)"])
        return output
    }
    // Linked against a helper in a private folder that is removed afterwards (no rpath: the
    // loader looks for the helper on the default path and finds nothing).
    let helperFolder = directory.appendingPathComponent(".hostile-helper-\(UUID().uuidString)", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: helperFolder) }
    try buildCPlugin(source: source, output: helperFolder.appendingPathComponent(HostileMode.helperLibrary),
                     defines: ["-DHOSTILE_HELPER"])
    try buildCPlugin(source: source, output: output, defines: ["-DHOSTILE_MODE=\(name)"],
                     libraries: ["-L", helperFolder.path, "-l:\(HostileMode.helperLibrary)"])
    return output
}
