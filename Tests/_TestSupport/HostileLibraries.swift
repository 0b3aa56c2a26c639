import Foundation
import Testing

/// One hostile library for the search path: a build of `Tests/Fixtures/plugins/hostile.c` in one
/// mode (each a correct plugin but for the behaviour it is named after; hostile.c describes them),
/// or an odd file under a plugin's name. `installHostileLibraries(_:into:)` places them.
public enum HostileMode: String, CaseIterable, Sendable, Hashable, CustomTestStringConvertible {
    // Plugin code that kills, ends or holds the process.
    case crashFit = "crash_fit"
    case abortFit = "abort_fit"
    case exitFit = "exit_fit"
    case loopFit = "loop_fit"
    case sleepCreate = "sleep_create"
    case crashEntry = "crash_entry"
    case crashConstructor = "crash_constructor"
    // Results that must not be believed.
    case nanEndmembers = "nan_endmembers"
    case infAbundances = "inf_abundances"
    case nanAbundances = "nan_abundances"
    case overrun
    case hugeAlloc = "huge_alloc"
    case stdoutFit = "stdout_fit"
    case forgedError = "forged_error"
    case wrongShape = "wrong_shape"
    // Tables that must be refused, or names that must not win.
    case lyingChoices = "lying_choices"
    case hugeDefault = "huge_default"
    case nanBounds = "nan_bounds"
    case shadow
    case stateFlag = "state_flag"
    // Files that are not loadable plugins.
    /// A text file, `libunmix_text.so`.
    case notELF = "text"
    /// `libunmix_empty.so`, 0 bytes.
    case empty
    /// A FIFO, `libunmix_fifo.so`: opening it for reading blocks until a writer comes.
    case fifo
    /// `libunmix_needs.so`, linked against a helper library that no longer exists.
    case missingDependency = "needs"

    /// The file the library is placed as.
    public var fileName: String {
        compiledMode == nil || self == .missingDependency ? "libunmix_\(rawValue).so" : "libunmix_hostile_\(rawValue).so"
    }

    /// The `-DHOSTILE_MODE=` value it is built with, or nil for the odd files that are not builds.
    public var compiledMode: String? {
        switch self {
        case .notELF, .empty, .fifo: return nil
        case .missingDependency: return "missing_dependency"
        default: return rawValue
        }
    }

    /// The id its descriptor declares, or nil when it has none a host could read.
    public var pluginID: String? {
        switch self {
        case .shadow: return "evil"
        case .notELF, .empty, .fifo, .missingDependency: return nil
        default: return "hostile_\(rawValue)"
        }
    }

    /// The modes built from hostile.c.
    public static var compiled: [HostileMode] { allCases.filter { $0.compiledMode != nil } }

    /// The helper `.missingDependency` links against (deleted after linking).
    static let helperLibrary = "libhostile_helper.so"

    public var testDescription: String { fileName }
}

/// Places the hostile libraries `modes` in `directory` (created when needed) under their
/// `fileName`s and returns where each one is. Builds run `cc` once per compiled mode.
public func installHostileLibraries(_ modes: [HostileMode], into directory: URL) throws -> [HostileMode: URL] {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var placed = [HostileMode: URL]()
    for mode in modes {
        let url = directory.appendingPathComponent(mode.fileName)
        switch mode {
        case .notELF:
            // Longer than an ELF header, so the loader reads one and finds no ELF magic.
            let line = "This is a text file named like a plugin, not a shared library.\n"
            try Data(String(repeating: line, count: 8).utf8).write(to: url)
        case .empty:
            try Data().write(to: url)
        case .fifo:
            guard mkfifo(url.path, 0o644) == 0 else {
                throw CPluginBuildError(command: ["mkfifo", url.path], status: errno, output: String(cString: strerror(errno)))
            }
        default:
            try buildHostilePlugin(mode, into: directory)
        }
        placed[mode] = url
    }
    return placed
}
