import Foundation

/// Writes a dataset as a Lispix ripple pair that HyperSpy and Lispix read: `<stem>.rpl` (the
/// tab-separated header in Latin-1, with HyperSpy's calibration keys for the three axes and
/// the title)
/// and `<stem>.raw` (float32, little-endian, `record-by vector`: each pixel's spectrum
/// contiguous, pixels row by row).
///
/// The write is atomic: both files go to temporary siblings first, then the `.raw` is renamed
/// into place, then the `.rpl`.
public enum RippleWriter: DatasetWriter {
    public static let formatName = "ripple"
    public static let fileExtension = "rpl"

    /// Writes `dataset` beside `path` (`x.rpl`, `x.raw` or `x`: the pair is `x.rpl` + `x.raw`).
    public static func write(_ dataset: Dataset, to path: String) throws {
        var warnings = [String]()
        try write(dataset, to: path, warnings: &warnings)
    }

    /// The same, adding to `warnings` what the user should know (a non-uniform signal axis,
    /// which ripple cannot hold, is written as its first value and mean step).
    ///
    /// - Throws: `UnmixError` naming the file that could not be written.
    public static func write(_ dataset: Dataset, to path: String, warnings: inout [String]) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        let stem = ext == "rpl" || ext == "raw" ? TextHeader.stem(path) : path
        let text = header(for: dataset, warnings: &warnings)
        let raw = try AtomicFile(stem + ".raw")
        try raw.write(dataset.cube, interleave: .bip)
        // Latin-1, the encoding HyperSpy reads and writes headers in ("µm" is one byte); UTF-8
        // when some character has no Latin-1 form (the reader takes either).
        let headerBytes = text.data(using: .isoLatin1) ?? Data(text.utf8)
        let rpl = try AtomicFile(stem + ".rpl")
        try headerBytes.withUnsafeBytes { try rpl.write($0) }
        try AtomicFile.commit([raw, rpl])
    }

    /// The `.rpl` text for `dataset`: HyperSpy's layout (a comment, `key\tvalue`, keys sorted).
    public static func header(for dataset: Dataset, warnings: inout [String]) -> String {
        let cube = dataset.cube
        var keys: [String: String] = [
            "width": "\(cube.cols)", "height": "\(cube.rows)", "depth": "\(cube.bands)", "offset": "0",
            "data-length": "4", "data-type": "float", "byte-order": "little-endian", "record-by": "vector",
            "title": clean(dataset.title), "signal": "",
        ]
        for (dimension, axis) in [("depth", dataset.signalAxis), ("height", dataset.rowAxis), ("width", dataset.colAxis)] {
            var (offset, scale) = (axis.offset, axis.scale)
            if let values = axis.values, let first = values.first, let last = values.last {
                offset = first
                scale = values.count > 1 ? (last - first) / Double(values.count - 1) : axis.scale
                warnings.append("ripple holds only uniform axes: the \(axis.name) axis is written as \(TextHeader.number(offset)) + i × \(TextHeader.number(scale))")
            }
            keys["\(dimension)-origin"] = TextHeader.number(offset)
            keys["\(dimension)-scale"] = TextHeader.number(scale)
            keys["\(dimension)-name"] = clean(axis.name).isEmpty ? dimension : clean(axis.name)
            if !clean(axis.units).isEmpty { keys["\(dimension)-units"] = clean(axis.units) }
        }
        var text = ";File written by unmix\nkey\tvalue\n"
        for key in keys.keys.sorted() { text += "\(key)\t\(keys[key] ?? "")\n" }
        return text
    }

    /// A value on one header line: no tab, line break or `;` (which would start a comment).
    static func clean(_ value: String) -> String { TextHeader.sanitized(value, forbidden: [";"]) }
}
