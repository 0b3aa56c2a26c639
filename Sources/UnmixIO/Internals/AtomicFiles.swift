import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing a set of files that belong together (a header and its raw data) so that none of
/// them is ever seen half written: every file goes first to a temporary sibling, and only when
/// all are complete are they renamed over their names, in the order given (the data first, so
/// that a new header never describes an old data file).
enum AtomicFiles {
    /// Writes each `(bytes, url)` pair as described above.
    ///
    /// - Throws: `UnmixError` naming the file that could not be written; temporary files are
    ///   removed on failure.
    static func write(_ files: [(data: Data, url: URL)]) throws {
        var temporaries = [URL]()
        defer { for url in temporaries { try? FileManager.default.removeItem(at: url) } }
        for file in files {
            let folder = file.url.deletingLastPathComponent()
            let temporary = folder.appendingPathComponent(
                ".\(file.url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            do {
                try file.data.write(to: temporary)
            } catch {
                throw UnmixError("cannot write \(file.url.path): \(oneLineReason(error))")
            }
            temporaries.append(temporary)
        }
        for (index, file) in files.enumerated() {
            guard rename(temporaries[index].path, file.url.path) == 0 else {
                throw UnmixError("cannot write \(file.url.path): \(errnoText())")
            }
        }
        temporaries = []
    }
}
