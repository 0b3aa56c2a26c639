import Foundation

/// Where plugins are looked for, in order (the first library to declare an id wins):
/// each `--plugin-path DIR`; each folder of the colon-separated `UNMIX_PLUGIN_PATH`; the
/// first-party plugins beside the executable (the build folder, or `../lib/unmix/plugins` of an
/// installed `bin/unmix`); `~/.local/lib/unmix/plugins`; `/usr/local/lib/unmix/plugins`.
/// The current directory is never searched unless named.
public struct PluginSearchPath: Sendable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    public static func standard(explicit: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                                executable: String = executablePath()) -> PluginSearchPath {
        var dirs = explicit
        if let env = environment["UNMIX_PLUGIN_PATH"] {
            dirs += env.split(separator: ":", omittingEmptySubsequences: true).map(String.init)
        }
        let exeDir = (executable as NSString).deletingLastPathComponent
        dirs.append(exeDir)
        dirs.append((exeDir as NSString).appendingPathComponent("../lib/unmix/plugins"))
        if let home = environment["HOME"] { dirs.append((home as NSString).appendingPathComponent(".local/lib/unmix/plugins")) }
        dirs.append("/usr/local/lib/unmix/plugins")
        return PluginSearchPath(directories: dirs)
    }

    /// The running executable, resolved through /proc/self/exe.
    public static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// True for the file names the host loads: `libunmix_*.so` and `unmix_*.so`.
    public static func isPluginFileName(_ name: String) -> Bool {
        (name.hasPrefix("libunmix_") || name.hasPrefix("unmix_")) && name.hasSuffix(".so")
    }
}

/// A library that could not be used, and why.
public struct PluginFailure: Sendable, Equatable {
    public var path: String
    public var reason: String
}

/// The plugins found on a search path, and the libraries that failed.
public struct PluginRegistry: Sendable {
    public var plugins: [PluginLibrary]
    public var failures: [PluginFailure]

    /// Loads every plugin file of every folder (missing folders are skipped silently: most of
    /// the standard ones do not exist). A failure never stops the others from loading.
    public static func discover(_ searchPath: PluginSearchPath) -> PluginRegistry {
        var plugins = [PluginLibrary]()
        var failures = [PluginFailure]()
        var seenDirs = Set<String>(), seenFiles = Set<String>()
        let fm = FileManager.default
        for dir in searchPath.directories {
            let real = (dir as NSString).resolvingSymlinksInPath
            guard seenDirs.insert(real).inserted,
                  let names = try? fm.contentsOfDirectory(atPath: real) else { continue }
            for name in names.sorted() where PluginSearchPath.isPluginFileName(name) {
                let path = (real as NSString).appendingPathComponent(name)
                guard seenFiles.insert((path as NSString).resolvingSymlinksInPath).inserted else { continue }
                do {
                    let library = try PluginLibrary.load(path: path)
                    if let first = plugins.first(where: { $0.descriptor.id == library.descriptor.id }) {
                        failures.append(PluginFailure(path: path, reason: "plugin id '\(library.descriptor.id)' is already provided by \(first.path)"))
                    } else {
                        plugins.append(library)
                    }
                } catch {
                    failures.append(PluginFailure(path: path, reason: "\(error)"))
                }
            }
        }
        return PluginRegistry(plugins: plugins, failures: failures)
    }

    /// The plugin whose id or name is `name`, case-insensitively.
    public func find(_ name: String) throws -> PluginLibrary {
        let key = name.lowercased()
        if let p = plugins.first(where: { $0.descriptor.id.lowercased() == key || $0.descriptor.name.lowercased() == key }) {
            return p
        }
        let known = plugins.map(\.descriptor.id).joined(separator: ", ")
        throw UnmixError("no plugin named '\(name)' (found: \(known.isEmpty ? "none" : known); see 'unmix list')")
    }
}
