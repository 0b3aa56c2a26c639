import Foundation

/// Writing a command's output folder so that a failure never leaves half of it behind.
///
/// Files are written into a hidden staging folder beside the destination, then renamed into the
/// destination (created if needed) one by one; rename(2) replaces an older file of the same
/// name atomically. When `body` throws, the staging folder is removed and the destination is
/// untouched.
public enum OutputDirectory {
    /// The start of the staging folder's name of process `pid` writing `destination`.
    static func stagingPrefix(_ destination: String, pid: pid_t) -> String {
        ".\(URL(fileURLWithPath: destination).standardizedFileURL.lastPathComponent).partial-\(pid)-"
    }

    /// Removes what a process `pid` that died while writing `destination` left behind.
    public static func removeLeftovers(_ destination: String, pid: pid_t) {
        let parent = URL(fileURLWithPath: destination).standardizedFileURL.deletingLastPathComponent()
        let prefix = stagingPrefix(destination, pid: pid)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }

    public static func write(_ destination: String, _ body: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let dest = URL(fileURLWithPath: destination).standardizedFileURL
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dest.path, isDirectory: &isDir), !isDir.boolValue {
            throw UnmixError("cannot write \(destination): exists and is not a directory")
        }
        let parent = dest.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw UnmixError("cannot create \(parent.path): \(error.localizedDescription)")
        }
        let staging = parent.appendingPathComponent(stagingPrefix(dest.path, pid: getpid()) + "\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw UnmixError("cannot write in \(parent.path): \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(at: staging) }
        try body(staging)
        if !fm.fileExists(atPath: dest.path) {
            if rename(staging.path, dest.path) == 0 { return }
            try fm.createDirectory(at: dest, withIntermediateDirectories: true)
        }
        for name in try fm.contentsOfDirectory(atPath: staging.path) {
            let from = staging.appendingPathComponent(name).path
            let to = dest.appendingPathComponent(name).path
            if fm.fileExists(atPath: to, isDirectory: &isDir), isDir.boolValue { try? fm.removeItem(atPath: to) }
            guard rename(from, to) == 0 else {
                throw UnmixError("cannot move \(name) into \(dest.path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Writes one file atomically: a staging file beside it (named as the staging folders, so
    /// `removeLeftovers` finds it), then rename(2).
    public static func writeFile(_ path: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let staging = url.deletingLastPathComponent()
            .appendingPathComponent(stagingPrefix(url.path, pid: getpid()) + "\(UInt32.random(in: 0...UInt32.max))")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: staging)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw UnmixError("cannot write \(path): \(error.localizedDescription)")
        }
        guard rename(staging.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: staging)
            throw UnmixError("cannot write \(path): \(reason)")
        }
    }
}
