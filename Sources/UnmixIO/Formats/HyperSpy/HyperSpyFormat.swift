import Foundation

/// Facts of the HyperSpy HDF5 format (`.hspy`) shared by the reader and the writer, as
/// RosettaSciIO's `hspy` plugin reads and writes them.
///
/// Root attributes `file_format = "HyperSpy"` and `file_format_version` ("3.3" for HyperSpy
/// 2.5; older files wrote "1.2", "2.0", … or a float; 1.0 files may have none). Signals are the
/// groups `Experiments/<title>/` holding a dataset `data` (C order: navigation axes, then
/// signal axes), groups `axis-0`, `axis-1`, … (one per dimension, in array order) and the
/// groups `metadata` (`mapped_parameters` before 1.2) and `original_metadata`.
enum HyperSpyFormat {
    /// The HDF5 superblock signature, at offset 0 in HyperSpy's files (no user block).
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The format version HyperSpy 2.5 (RosettaSciIO 0.15) writes, which we write too.
    static let writtenVersion = "3.3"

    /// The newest major version whose layout we know.
    static let newestKnownMajor = 3

    /// A format version, "major.minor".
    struct Version: Comparable, CustomStringConvertible {
        var major: Int
        var minor: Int

        static func < (a: Version, b: Version) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
        var description: String { "\(major).\(minor)" }

        /// Parses "3.1", "2", "1.3.0"; nil when the text is not a version.
        init?(_ text: String) {
            let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
            guard let first = parts.first, let major = Int(first), major >= 0, parts.count <= 3 else { return nil }
            var minor = 0
            if parts.count > 1 {
                guard let value = Int(parts[1]), value >= 0 else { return nil }
                minor = value
            }
            self.major = major
            self.minor = minor
        }

        init(major: Int, minor: Int) {
            self.major = major
            self.minor = minor
        }
    }

    /// The name HyperSpy gives the experiment group of a signal titled `title`: the title with
    /// '/' replaced by '-', or "__unnamed__" for an empty title.
    static func groupName(forTitle title: String) -> String {
        guard !title.isEmpty else { return "__unnamed__" }
        let name = title.replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: "\0", with: "")
        return name == "." ? "-" : name
    }

    /// HyperSpy writes Python's `None` as the string "_None_".
    static let none = "_None_"
}
