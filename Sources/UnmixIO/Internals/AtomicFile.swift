import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file written in full or not at all: bytes go to a hidden temporary sibling, which
/// `commit` renames over the destination; a writer that fails (or is dropped without
/// committing) leaves nothing behind. Writes are plain `write(2)` calls from the caller's
/// buffers, so a 2 GiB cube is written without a second copy in memory.
public final class AtomicFile {
    public let path: String
    private let temporary: String
    private var fd: Int32
    private var committed = false

    public init(_ path: String) throws {
        self.path = path
        temporary = Self.temporarySibling(of: path)
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UnmixError("cannot write \(path): \(errnoText())") }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporary) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, min(bytes.count - done, 1 << 30))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw UnmixError("cannot write \(path): \(n < 0 ? errnoText() : "nothing written")") }
            done += n
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Float32 samples, little endian.
    public func write(littleEndian values: UnsafeBufferPointer<Float>) throws {
        if ByteOrder.native == .little { return try write(UnsafeRawBufferPointer(values)) }
        let chunk = 1 << 16
        for start in stride(from: 0, to: values.count, by: chunk) {
            let swapped = values[start..<min(values.count, start + chunk)].map { $0.bitPattern.littleEndian }
            try swapped.withUnsafeBytes { try write($0) }
        }
    }

    /// A cube's samples as little-endian float32 in `interleave` (rows row-major), written a
    /// row at a time so that no second copy of the cube is made.
    public func write(_ cube: CubeData, interleave: RawLayout.Interleave) throws {
        let (rows, cols, bands) = (cube.rows, cube.cols, cube.bands)
        try cube.withUnsafeValues { values in
            if interleave == .bip { return try write(littleEndian: values) }
            var line = [Float](repeating: 0, count: cols)
            func emit() throws { try line.withUnsafeBufferPointer { try write(littleEndian: $0) } }
            if interleave == .bil {
                for r in 0..<rows {
                    for b in 0..<bands {
                        for c in 0..<cols { line[c] = values[(r * cols + c) * bands + b] }
                        try emit()
                    }
                }
            } else {
                for b in 0..<bands {
                    for r in 0..<rows {
                        for c in 0..<cols { line[c] = values[(r * cols + c) * bands + b] }
                        try emit()
                    }
                }
            }
        }
    }

    /// Commits `files` in order (a pair's data before its header, so that a new header never
    /// describes an old data file); the ones not committed yet are dropped on failure.
    public static func commit(_ files: [AtomicFile]) throws {
        for file in files { try file.commit() }
    }

    /// A hidden, unused name in the folder of `path`, for its temporary file.
    static func temporarySibling(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    }

    /// The same guarantee for a file that a library writes by name (libhdf5, libmatio):
    /// `body` writes the temporary path it is given, which is then renamed over `path`; when
    /// `body` throws, the temporary file is removed and `path` is untouched.
    public static func replace(_ path: String, _ body: (_ temporary: String) throws -> Void) throws {
        let temporary = temporarySibling(of: path)
        do {
            try body(temporary)
            guard rename(temporary, path) == 0 else { throw UnmixError("cannot write \(path): \(errnoText())") }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Closes the file and renames it over `path`.
    public func commit() throws {
        let rc = close(fd)
        fd = -1
        guard rc == 0 else { throw UnmixError("cannot write \(path): \(errnoText())") }
        guard rename(temporary, path) == 0 else { throw UnmixError("cannot write \(path): \(errnoText())") }
        committed = true
    }
}
