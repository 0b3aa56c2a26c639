import Foundation

/// A Lispix ripple pair: the `.rpl` text header and the `.raw` samples beside it (same name,
/// extension `raw` or `RAW`). Either file's path may be given.
///
/// `record-by vector` is read as band-interleaved by pixel, `image` as band-sequential,
/// `dont-care` as a single image (one channel). The depth is the signal axis, the height the
/// rows and the width the columns; their calibration is read as HyperSpy reads it (origin =
/// value of the first index, scale, units, name).
public enum RippleReader: DatasetReader {
    public static let formatName = "Lispix ripple"
    public static let extensions = ["rpl", "raw"]

    /// Words every ripple header has, one of which must appear in the first KiB of a `.rpl`.
    static let headerWords = ["record-by", "data-type", "data-length", "width", "height", "depth"]

    public static func recognizes(_ head: [UInt8], path: String) -> Bool? {
        switch (path as NSString).pathExtension.lowercased() {
        case "rpl":
            if head.contains(0) { return false }
            let text = TextHeader.decode(head).lowercased()
            return headerWords.contains(where: { text.contains($0) })
        case "raw":
            return header(besideData: path) != nil
        default:
            return false
        }
    }

    /// The `.rpl` beside a `.raw` path, or nil.
    static func header(besideData path: String) -> String? {
        let stem = TextHeader.stem(path)
        return ["rpl", "RPL", "Rpl"].lazy.map { "\(stem).\($0)" }.first(where: TextHeader.isFile)
    }

    /// The `.raw` beside a `.rpl` path, or nil.
    static func data(besideHeader path: String) -> String? {
        let stem = TextHeader.stem(path)
        return ["raw", "RAW", "Raw"].lazy.map { "\(stem).\($0)" }.first(where: TextHeader.isFile)
    }

    /// The header and data paths of the pair `path` belongs to.
    static func pair(_ path: String) throws -> (header: String, data: String) {
        if (path as NSString).pathExtension.lowercased() == "rpl" {
            guard let data = data(besideHeader: path) else {
                throw UnmixError("\(path): no data file \(TextHeader.stem(path)).raw beside the ripple header")
            }
            return (path, data)
        }
        guard let header = header(besideData: path) else {
            throw UnmixError("\(path): no ripple header \(TextHeader.stem(path)).rpl beside the data file")
        }
        return (header, path)
    }

    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        let (headerPath, dataPath) = try pair(path)
        let header = try RippleHeader(parsing: try TextHeader.read(headerPath, format: formatName), name: headerPath)
        // Sizes multiplied with overflow checks before any stride is computed from them.
        _ = try header.height.checkedTimes(header.width, "\(headerPath): a \(header.height) × \(header.width) × \(header.depth) cube")
            .checkedTimes(header.depth, "\(headerPath): a \(header.height) × \(header.width) × \(header.depth) cube")
        let interleave: RawLayout.Interleave = header.recordBy == .vector ? .bip : .bsq
        let layout = RawLayout(type: header.type, order: header.byteOrder ?? .native, rows: header.height,
                               cols: header.width, bands: header.depth, offset: header.offset, interleave: interleave)
        let file = try MappedFile(dataPath)
        let decoded = try layout.decode(file.bytes, file: file, name: dataPath)
        var warnings = decoded.warnings
        let extent = try layout.extent(dataPath)
        if extent < file.bytes.count {
            warnings.append("\(dataPath): \(file.bytes.count - extent) bytes after the \(header.height) × \(header.width) × \(header.depth) \(header.type.rawValue) cube are ignored")
        }
        let signal = header.axis("depth", size: header.depth, defaultName: "depth", name: headerPath, problems: &warnings)
        let rows = header.axis("height", size: header.height, defaultName: "height", name: headerPath, problems: &warnings)
        let cols = header.axis("width", size: header.width, defaultName: "width", name: headerPath, problems: &warnings)
        let title = header.value("title").flatMap { $0.isEmpty ? nil : $0 } ?? TextHeader.baseName(headerPath)
        return Dataset(path: path, format: "\(formatName) (\(header.recordBy.rawValue))", cube: decoded.cube,
                       dtype: header.type, signalAxis: signal, rowAxis: rows, colAxis: cols, title: title,
                       warnings: warnings)
    }
}
