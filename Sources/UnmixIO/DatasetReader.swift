import Foundation

/// How to read a file, where the file alone cannot say.
public struct ReadOptions: Sendable {
    /// The map size of a 2-D (pixels × bands) array, for formats that store no map size.
    public var shape: (rows: Int, cols: Int)?

    public init(shape: (rows: Int, cols: Int)? = nil) {
        self.shape = shape
    }
}

/// One file format: how to recognise its files and how to read one into a `Dataset`.
///
/// A reader never traps and never reads past the end of a file: every size it reads is checked
/// (through `ByteCursor` and `RawLayout.decode`) and every failure is an `UnmixError` of one
/// line that names the file and what is wrong.
public protocol DatasetReader {
    /// What users call the format ("DigitalMicrograph", "HyperSpy", …), for messages.
    static var formatName: String { get }
    /// The file-name extensions of the format, lower case, without the dot.
    static var extensions: [String] { get }
    /// Whether the file at `path`, whose first bytes (up to 1 KiB) are `head`, is of this
    /// format: by its signature, or by the header file beside it (ripple's `.raw` beside a
    /// `.rpl`, ENVI's data beside a `.hdr`); nil when the format has no signature to check and
    /// only the extension can tell.
    static func recognizes(_ head: [UInt8], path: String) -> Bool?
    static func read(_ path: String, options: ReadOptions) throws -> Dataset
    /// Whether the format is parsed by a C library of its own (libhdf5, libmatio), whose
    /// robustness against corrupt files is not ours to guarantee: the host reads such files in
    /// a child process first, so that a crash inside the library cannot take it down.
    static var parsesWithExternalLibrary: Bool { get }
}

extension DatasetReader {
    public static var parsesWithExternalLibrary: Bool { false }
}

/// Opening any file `unmix` reads.
public enum Datasets {
    /// Every reader, in the order detection tries them.
    public static let readers: [any DatasetReader.Type] = [
        NPYReader.self, DigitalMicrographReader.self, HyperSpyReader.self, MATLABReader.self, TIAReader.self,
        RippleReader.self, ENVIReader.self,
    ]

    /// What `unmix` reads, for messages: ".npy, .dm3, …".
    public static var supportedList: String {
        var seen = Set<String>()
        let extensions = readers.flatMap { $0.extensions }.filter { !$0.isEmpty && seen.insert($0).inserted }
        return (extensions.map { ".\($0)" } + ["a folder written by 'unmix synth'"]).joined(separator: ", ")
    }

    /// Opens `path`: a folder written by `unmix synth`, or a file of any supported format,
    /// chosen by its extension and checked against its signature (a file whose content says it
    /// is something else is refused with both names). The cube must be non-empty and finite.
    public static func open(_ path: String, options: ReadOptions = ReadOptions()) throws -> Dataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw UnmixError("cannot read \(path): no such file or directory")
        }
        var dataset: Dataset
        if isDirectory.boolValue {
            dataset = try SynthFolderReader.read(path, options: options)
        } else {
            dataset = try reader(for: path).read(path, options: options)
        }
        for keyPath in [\Dataset.signalAxis, \Dataset.rowAxis, \Dataset.colAxis] {
            let axis = dataset[keyPath: keyPath]
            if !axis.offset.isFinite || !axis.scale.isFinite || axis.scale == 0 || !(axis.values?.allSatisfy(\.isFinite) ?? true) {
                dataset.warnings.append("\(path): the \(axis.name) axis has no usable calibration (offset \(axis.offset), scale \(axis.scale)): channels are numbered instead")
                dataset[keyPath: keyPath] = .index(axis.name, size: axis.size)
            }
        }
        let cube = dataset.cube
        guard cube.pixels > 0, cube.bands > 0 else {
            throw UnmixError("\(path) is empty (\(cube.rows) × \(cube.cols) pixels × \(cube.bands) channels)")
        }
        if !dataset.dtype.isInteger, let bad = cube.firstNonFinite() {
            throw UnmixError("\(path) holds a non-finite value (NaN or infinity) at pixel \(bad.pixel), band \(bad.band)")
        }
        if let truth = dataset.truth { try truth.validate(pixels: cube.pixels, bands: cube.bands) }
        return dataset
    }

    /// The reader for the file at `path`: by extension, confirmed by signature; by signature
    /// alone when the extension is unknown.
    public static func reader(for path: String) throws -> any DatasetReader.Type {
        let head = fileHead(path, count: 1024)
        let ext = (path as NSString).pathExtension.lowercased()
        let byExtension = readers.filter { $0.extensions.contains(ext) }
        let bySignature = readers.filter { $0.recognizes(head, path: path) == true }
        if let reader = byExtension.first(where: { $0.recognizes(head, path: path) != false }) { return reader }
        if let named = byExtension.first {
            if let actual = bySignature.first {
                throw UnmixError("\(path) is named .\(ext) but is not \(withArticle(named.formatName)) file: its content is \(actual.formatName)")
            }
            throw UnmixError("\(path): not \(withArticle(named.formatName)) file (its first bytes are not the format's signature)")
        }
        if let reader = bySignature.first { return reader }
        throw UnmixError("\(path): unknown format\(ext.isEmpty ? "" : " .\(ext)") (unmix reads \(supportedList))")
    }
}

/// A format `unmix` also writes: the cube, its axes and title, in a file the format's own tools
/// read. Writes are atomic (nothing is left behind on failure).
public protocol DatasetWriter {
    static var formatName: String { get }
    /// The extension of the file `write` makes (the header's, for formats of two files).
    static var fileExtension: String { get }
    static func write(_ dataset: Dataset, to path: String) throws
}

extension Datasets {
    /// Every writer, for benchmarks and round-trip tests.
    public static let writers: [any DatasetWriter.Type] = [NPYWriter.self, HyperSpyWriter.self, MATLABWriter.self, RippleWriter.self, ENVIWriter.self]
}

/// "a DigitalMicrograph", "an ENVI".
func withArticle(_ name: String) -> String {
    let vowel = name.first.map { "AEIOUaeiou".contains($0) } ?? false
    return (vowel ? "an " : "a ") + name
}
