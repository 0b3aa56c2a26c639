import Foundation

/// The registry file: what a worker found in each plugin library, keyed by the library's
/// resolved path, device, inode, size and modification and change times, so that `unmix list`
/// and every command read one small file instead of starting a worker per library (GStreamer's
/// registry is the model). A changed library (any of those) is scanned again; a different
/// `unmix` executable (rebuilt, upgraded) discards the whole file, since its checks may differ.
///
/// Where: `UNMIX_REGISTRY` (a file path), else `$XDG_CACHE_HOME/unmix/registry.json`, else
/// `~/.cache/unmix/registry.json`. A file that cannot be read or written is ignored: the cost is
/// a scan, never an error.
public struct RegistryCache: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    public static var standard: RegistryCache? {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["UNMIX_REGISTRY"], !explicit.isEmpty { return RegistryCache(path: explicit) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return RegistryCache(path: xdg + "/unmix/registry.json") }
        if let home = env["HOME"], !home.isEmpty { return RegistryCache(path: home + "/.cache/unmix/registry.json") }
        return nil
    }

    /// What identifies one version of a library file.
    public struct Key: Codable, Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        }
    }

    /// What a scan found: a descriptor or a failure.
    public struct Entry: Codable, Sendable {
        var key: Key
        var descriptor: PluginDescriptor?
        var failure: String?
        /// False for failures of the host rather than of the library (not written to the file).
        var cacheable = true

        init(key: Key, descriptor: PluginDescriptor? = nil, failure: String? = nil, cacheable: Bool = true) {
            self.key = key
            self.descriptor = descriptor
            self.failure = failure
            self.cacheable = cacheable
        }
    }

    private struct File: Codable {
        var format: Int
        var host: String
        var libraries: [String: Entry]
    }

    /// Who wrote the file: the unmix version, plugin ABI and the executable's size and time.
    static var hostIdentity: String {
        var info = stat()
        let exe = Worker.executable
        let stamp = stat(exe, &info) == 0 ? "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)" : "?"
        return "unmix \(unmixVersion) \(exe) \(stamp)"
    }

    func load() -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: path),
              let file = try? JSONDecoder().decode(File.self, from: data),
              file.format == 1, file.host == Self.hostIdentity else { return [:] }
        return file.libraries
    }

    func save(_ entries: [String: Entry]) {
        // Libraries that are gone are forgotten.
        let kept = entries.filter { $0.value.cacheable && FileManager.default.fileExists(atPath: $0.key) }
        let file = File(format: 1, host: Self.hostIdentity, libraries: kept)
        guard let data = try? JSONEncoder().encode(file) else { return }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? OutputDirectory.writeFile(path, data)
    }
}
