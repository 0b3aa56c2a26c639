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

    /// Writes the folder `destination` and the `files` beside it together: each file is staged
    /// first (so that a folder in the way, a read-only place or a full disk fails before
    /// anything appears), then the folder is written and moved into place, then the files are
    /// renamed into theirs. SIGINT or SIGTERM meanwhile removes every staging copy.
    public static func write(_ destination: String, files: [(path: String, data: Data)], _ body: (URL) throws -> Void) throws {
        try Interrupts.deferring {
            var staged = [StagedFile]()
            defer { for file in staged { file.discard() } }
            for file in files { staged.append(try StagedFile(file.path, file.data)) }
            try writeFolder(destination, body)
            for file in staged { try file.commit() }
        }
    }

    public static func write(_ destination: String, _ body: (URL) throws -> Void) throws {
        try write(destination, files: [], body)
    }

    private static func writeFolder(_ destination: String, _ body: (URL) throws -> Void) throws {
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
            throw UnmixError("cannot create \(parent.path): \(describe(error))")
        }
        let staging = parent.appendingPathComponent(stagingPrefix(dest.path, pid: getpid()) + "\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw UnmixError("cannot write in \(parent.path): \(describe(error))")
        }
        defer { try? fm.removeItem(at: staging) }
        do {
            try body(staging)
        } catch let error as UnmixError {
            throw error
        } catch let error as RunFailure {
            throw error
        } catch {
            throw UnmixError("cannot write \(destination): \(describe(error))")
        }
        try Interrupts.check()
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
    /// `removeLeftovers` finds it), then rename(2). A path that exists and is not a regular file
    /// (a device, a FIFO, a folder) is never replaced.
    public static func writeFile(_ path: String, _ data: Data) throws {
        try Interrupts.deferring {
            let file = try StagedFile(path, data)
            defer { file.discard() }
            try file.commit()
        }
    }
}

/// A file written beside its destination under a staging name, renamed into place by `commit`.
final class StagedFile {
    let path: String
    private let staging: String
    private var done = false

    init(_ path: String, _ data: Data) throws {
        self.path = path
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var info = stat()
        if lstat(url.path, &info) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFLNK {
            throw UnmixError("cannot write \(path): it exists and is \(fileKind(info.st_mode)), not a regular file")
        }
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            throw UnmixError("cannot write \(path): it exists and is \(fileKind(info.st_mode)), not a regular file")
        }
        staging = url.deletingLastPathComponent()
            .appendingPathComponent(OutputDirectory.stagingPrefix(url.path, pid: getpid()) + "\(UInt32.random(in: 0...UInt32.max))").path
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: staging))
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw UnmixError("cannot write \(path): \(describe(error))")
        }
    }

    func commit() throws {
        guard rename(staging, URL(fileURLWithPath: path).standardizedFileURL.path) == 0 else {
            throw UnmixError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        done = true
    }

    func discard() {
        if !done { unlink(staging) }
    }
}

/// An error as one line: a Foundation file error by its POSIX reason when it has one.
func describe(_ error: Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if let e = error as? UnmixError { return e.message }
    return oneLine(ns.localizedDescription)
}
