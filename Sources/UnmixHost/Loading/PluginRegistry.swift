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
public struct PluginFailure: Sendable, Equatable, Codable {
    public var path: String
    public var reason: String
}

/// A plugin found on the search path: its library and what it declared when a worker loaded
/// it. The host itself never loads it; workers do, by path.
public struct InstalledPlugin: Sendable, Equatable, Codable {
    public var path: String
    public var descriptor: PluginDescriptor
}

/// The plugins found on a search path, and the libraries that failed.
///
/// Each library is loaded by a worker process (`Worker`, job `.scan`), never by the host: a
/// library whose constructor or entry function crashes, hangs or declares a bad table is listed
/// as failed, with the loader's text or the signal, and costs nothing else. What each worker
/// found is kept in a registry file (`RegistryCache`) keyed by the library's path, size and
/// times, so that later commands scan only what changed.
public struct PluginRegistry: Sendable {
    public var plugins: [InstalledPlugin]
    public var failures: [PluginFailure]
    /// Lines for `list`: which plugin a name means when a name is also another plugin's id.
    public var notes: [String] = []

    public init(plugins: [InstalledPlugin], failures: [PluginFailure]) {
        self.plugins = plugins
        self.failures = failures
        notes = Self.shadowingNotes(plugins)
    }

    /// Seconds a library may take to load and describe itself before it is listed as failed
    /// (`UNMIX_SCAN_TIMEOUT` overrides).
    public static var scanTimeout: Double {
        ProcessInfo.processInfo.environment["UNMIX_SCAN_TIMEOUT"].flatMap(Double.init) ?? 10
    }

    /// Scans every plugin file of every folder (missing folders are skipped silently: most of
    /// the standard ones do not exist). Only regular files are scanned; a failure never stops
    /// the others. The first library to declare an id wins.
    public static func discover(_ searchPath: PluginSearchPath, cache: RegistryCache? = .standard) -> PluginRegistry {
        var plugins = [InstalledPlugin]()
        var failures = [PluginFailure]()
        var seenDirs = Set<String>(), seenFiles = Set<String>()
        let fm = FileManager.default
        var entries = cache?.load() ?? [:]
        var changed = false
        for dir in searchPath.directories {
            let real = (dir as NSString).resolvingSymlinksInPath
            guard seenDirs.insert(real).inserted,
                  let names = try? fm.contentsOfDirectory(atPath: real) else { continue }
            for name in names.sorted() where PluginSearchPath.isPluginFileName(name) {
                let path = (real as NSString).appendingPathComponent(name)
                let resolved = (path as NSString).resolvingSymlinksInPath
                guard seenFiles.insert(resolved).inserted else { continue }
                var info = stat()
                guard stat(resolved, &info) == 0 else {
                    failures.append(PluginFailure(path: path, reason: "cannot read: \(errnoText())"))
                    continue
                }
                guard info.st_mode & S_IFMT == S_IFREG else {
                    failures.append(PluginFailure(path: path, reason: "not a regular file (\(fileKind(info.st_mode)))"))
                    continue
                }
                let key = RegistryCache.Key(info)
                let entry: RegistryCache.Entry
                if let cached = entries[resolved], cached.key == key {
                    entry = cached
                } else {
                    entry = scan(path, key: key)
                    entries[resolved] = entry
                    changed = true
                }
                if let failure = entry.failure {
                    failures.append(PluginFailure(path: path, reason: failure))
                } else if let descriptor = entry.descriptor {
                    if let first = plugins.first(where: { $0.descriptor.id == descriptor.id }) {
                        failures.append(PluginFailure(path: path, reason: "plugin id '\(descriptor.id)' is already provided by \(first.path)"))
                    } else {
                        plugins.append(InstalledPlugin(path: path, descriptor: descriptor))
                    }
                }
            }
        }
        if changed { cache?.save(entries) }
        return PluginRegistry(plugins: plugins, failures: failures)
    }

    /// Loads `path` in a worker and describes it.
    static func scan(_ path: String, key: RegistryCache.Key) -> RegistryCache.Entry {
        do {
            let answer = try Worker.run(WorkerRequest(library: path, job: .scan), limits: WorkerLimits(timeout: scanTimeout))
            if case .scanned(let descriptor) = answer.event { return RegistryCache.Entry(key: key, descriptor: descriptor) }
            return RegistryCache.Entry(key: key, failure: "the worker gave no description")
        } catch let failure as WorkerFailure {
            return RegistryCache.Entry(key: key, failure: failure.kind == .failed ? failure.reason : "loading it \(failure.reason)")
        } catch {
            // Interrupted (or no worker could start): stop here, as every command would.
            if let e = error as? UnmixError, e.kind == .interrupted || e.kind == .terminated {
                writeStderr("unmix: error: \(e.message)\n")
                exit(e.kind.rawValue)
            }
            return RegistryCache.Entry(key: key, failure: "\(error)", cacheable: false)
        }
    }

    /// The plugin `name` means: the plugin of that id, case-insensitively; else the one plugin
    /// of that display name. Ids win over names, so a plugin cannot take another's id as its name.
    public func find(_ name: String) throws -> InstalledPlugin {
        let key = name.lowercased()
        if let p = plugins.first(where: { $0.descriptor.id.lowercased() == key }) { return p }
        let named = plugins.filter { $0.descriptor.name.lowercased() == key }
        if named.count == 1 { return named[0] }
        if named.count > 1 {
            throw UnmixError("'\(name)' is the name of several plugins (\(named.map(\.descriptor.id).joined(separator: ", "))): use an id")
        }
        let known = plugins.map(\.descriptor.id).joined(separator: ", ")
        throw UnmixError("no plugin named '\(name)' (found: \(known.isEmpty ? "none" : known); see 'unmix list')")
    }

    /// "name 'VCA' of evil is the id of vca: 'vca' means vca (ids win over names)", and the like.
    static func shadowingNotes(_ plugins: [InstalledPlugin]) -> [String] {
        var notes = [String]()
        for p in plugins {
            let key = p.descriptor.name.lowercased()
            if key != p.descriptor.id.lowercased(), let owner = plugins.first(where: { $0.descriptor.id.lowercased() == key }) {
                notes.append("the name '\(p.descriptor.name)' of \(p.descriptor.id) is the id of \(owner.descriptor.id): '\(key)' means \(owner.descriptor.id) (ids win over names)")
            }
        }
        return notes
    }
}

/// "a FIFO", "a directory", …
func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: return "a directory"
    case S_IFIFO: return "a FIFO"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "not a file"
    }
}
