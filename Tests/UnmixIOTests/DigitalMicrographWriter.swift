import Foundation
import UnmixIO

/// A small writer of DigitalMicrograph DM3 and DM4 files, for tests only (no public tool writes
/// the format): a tag tree of groups and data tags, encoded as `DMTagTree` documents it, and a
/// minimal image document (a thumbnail, the image with its `ImageData`, calibrations and
/// `ImageTags`, and the `Thumbnails` list) like those GMS writes.
enum DMWriter {
    /// A tag to write: a group of named tags, or data (its type description words and its
    /// bytes, already in the document's byte order).
    enum Node {
        case list([Named])
        case data(words: [Int], bytes: [UInt8])

        /// A group of the named tags.
        static func group(_ entries: [(String, Node)]) -> Node { .list(entries.map { Named(name: $0.0, node: $0.1) }) }

        /// The group's tags as (name, tag) pairs; nil for data.
        var entries: [(String, Node)]? {
            if case .list(let named) = self { return named.map { ($0.name, $0.node) } }
            return nil
        }
    }

    /// A tag of a group.
    struct Named {
        var name: String
        var node: Node
    }

    // MARK: - Data tags

    static func int32(_ v: Int32, _ order: ByteOrder) -> Node { .data(words: [3], bytes: encode(UInt32(bitPattern: v), order)) }
    static func uint32(_ v: UInt32, _ order: ByteOrder) -> Node { .data(words: [5], bytes: encode(v, order)) }
    static func float32(_ v: Float, _ order: ByteOrder) -> Node { .data(words: [6], bytes: encode(v.bitPattern, order)) }
    static func float64(_ v: Double, _ order: ByteOrder) -> Node { .data(words: [7], bytes: encode(v.bitPattern, order)) }
    static func bool(_ v: Bool) -> Node { .data(words: [8], bytes: [v ? 1 : 0]) }

    /// Text as DM stores it: an array of uint16 (UTF-16).
    static func text(_ s: String, _ order: ByteOrder) -> Node {
        let units = Array(s.utf16)
        return .data(words: [20, 4, units.count], bytes: units.flatMap { encode($0, order) })
    }

    /// A struct of simple fields (type codes and their bytes).
    static func structure(_ fields: [(code: Int, bytes: [UInt8])]) -> Node {
        .data(words: [15, 0, fields.count] + fields.flatMap { [0, $0.code] }, bytes: fields.flatMap(\.bytes))
    }

    /// The tag element type code of a sample type, and DM's image DataType code.
    static func codes(_ type: SampleType) -> (element: Int, dataType: Int) {
        switch type {
        case .int8: return (9, 9)
        case .uint8: return (10, 6)
        case .int16: return (2, 1)
        case .uint16: return (4, 10)
        case .int32: return (3, 7)
        case .uint32: return (5, 11)
        case .int64: return (11, 39)
        case .uint64: return (12, 40)
        case .float32: return (6, 2)
        case .float64: return (7, 12)
        case .float16: fatalError("DM has no float16 images")
        }
    }

    /// `values` stored as `type` in `order` (integers truncated toward zero).
    static func samples(_ values: [Double], _ type: SampleType, _ order: ByteOrder) -> [UInt8] {
        values.flatMap { v -> [UInt8] in
            switch type {
            case .int8: return [UInt8(bitPattern: Int8(v))]
            case .uint8: return [UInt8(v)]
            case .int16: return encode(UInt16(bitPattern: Int16(v)), order)
            case .uint16: return encode(UInt16(v), order)
            case .int32: return encode(UInt32(bitPattern: Int32(v)), order)
            case .uint32: return encode(UInt32(v), order)
            case .int64: return encode(UInt64(bitPattern: Int64(v)), order)
            case .uint64: return encode(UInt64(v), order)
            case .float32: return encode(Float(v).bitPattern, order)
            case .float64: return encode(v.bitPattern, order)
            case .float16: fatalError("DM has no float16 images")
            }
        }
    }

    static func encode<T: FixedWidthInteger>(_ v: T, _ order: ByteOrder) -> [UInt8] {
        let bytes = (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
        return order == .little ? bytes : bytes.reversed()
    }

    // MARK: - Images

    /// One image: its sizes (fastest first, as DM lists them), samples in file order, and
    /// what DM records about it.
    struct Image {
        var dims: [Int]
        var type: SampleType = .float32
        var values: [Double]
        /// Origin, scale and units per dimension (fewer than `dims` leaves the rest out).
        var calibrations: [(origin: Double, scale: Double, units: String)] = []
        var name = "synthetic"
        /// `ImageTags › Meta Data › Format` and `› Signal`, when given.
        var format: String? = "Spectrum image"
        var signal: String? = "EELS"
        /// Other `ImageTags` groups (Orsay's `spim`, …).
        var extraTags: [(String, Node)] = []
        /// Writes this DataType instead of the sample type's.
        var dataType: Int?
        /// Bytes of an unused tag written just before `Data` (to move the samples' offset).
        var padding = 0

        init(dims: [Int], type: SampleType = .float32, values: [Double]) {
            self.dims = dims
            self.type = type
            self.values = values
        }
    }

    /// The thumbnail GMS writes first: a small RGB (DataType 23) image.
    static func thumbnail(_ order: ByteOrder) -> Node {
        .group([
            ("ImageData", .group([
                ("Calibrations", .group([
                    ("Dimension", .group([("", .group([("Origin", float32(0, order)), ("Scale", float32(1, order)), ("Units", text("", order))]))])),
                ])),
                ("Data", .data(words: [20, 5, 4], bytes: (0..<4).flatMap { encode(UInt32(0xFF10_2030 &+ UInt32($0)), order) })),
                ("DataType", int32(23, order)),
                ("Dimensions", .group([("", uint32(2, order)), ("", uint32(2, order))])),
            ])),
            ("Name", text("Image Of thumbnail", order)),
        ])
    }

    /// The image group of the `ImageList`.
    static func imageGroup(_ image: Image, _ order: ByteOrder) -> Node {
        let codes = codes(image.type)
        let calibrations: [(String, Node)] = image.calibrations.map { c in
            ("", .group([("Origin", float32(Float(c.origin), order)), ("Scale", float32(Float(c.scale), order)), ("Units", text(c.units, order))]))
        }
        var metaData = [(String, Node)]()
        if let format = image.format { metaData.append(("Format", text(format, order))) }
        if let signal = image.signal { metaData.append(("Signal", text(signal, order))) }
        var imageTags = [(String, Node)]()
        if !metaData.isEmpty { imageTags.append(("Meta Data", .group(metaData))) }
        imageTags += image.extraTags
        let padding: [(String, Node)] = image.padding == 0 ? [] : [("Padding", .data(words: [20, 10, image.padding], bytes: [UInt8](repeating: 0xAB, count: image.padding)))]
        return .group([
            ("ImageData", .group([
                ("Calibrations", .group([
                    ("Brightness", .group([("Origin", float32(0, order)), ("Scale", float32(0.5, order)), ("Units", text("e-", order))])),
                    ("Dimension", .group(calibrations)),
                    ("DisplayCalibratedUnits", bool(true)),
                ])),
            ] + padding + [
                ("Data", .data(words: [20, codes.element, image.values.count], bytes: samples(image.values, image.type, order))),
                ("DataType", int32(Int32(image.dataType ?? codes.dataType), order)),
                ("Dimensions", .group(image.dims.map { ("", uint32(UInt32($0), order)) })),
                ("PixelDepth", uint32(UInt32(image.type.size), order)),
            ])),
            ("ImageTags", .group(imageTags)),
            ("Name", text(image.name, order)),
            ("UniqueID", structure([(5, encode(UInt32(1), order)), (5, encode(UInt32(2), order))])),
        ])
    }

    /// A whole document: the images (after a thumbnail, when asked), and the lists that name them.
    static func document(_ images: [Image], version: Int = 4, order: ByteOrder = .little, thumbnail withThumbnail: Bool = true) -> [UInt8] {
        var list = [(String, Node)]()
        if withThumbnail { list.append(("", thumbnail(order))) }
        list += images.map { ("", imageGroup($0, order)) }
        var root: [(String, Node)] = [
            ("ApplicationBounds", structure((0..<4).map { _ in (3, encode(UInt32(0), order)) })),
            ("ImageList", .group(list)),
        ]
        if withThumbnail {
            root.append(("Thumbnails", .group([("", .group([("ImageIndex", uint32(0, order))]))])))
        }
        return file(root, version: version, order: order)
    }

    // MARK: - Encoding

    /// The bytes of a file holding the root group `root`.
    static func file(_ root: [(String, Node)], version: Int, order: ByteOrder) -> [UInt8] {
        let wide = version == 4
        var body = [UInt8]([1, 0]) + word(root.count, wide)
        for (name, tag) in root { body += entry(name, tag, wide) }
        let trailer = [UInt8](repeating: 0, count: wide ? 16 : 8)
        let headerSize = wide ? 16 : 12
        let total = headerSize + body.count + trailer.count
        let header = encode(UInt32(version), .big) + (wide ? encode(UInt64(total - 24), .big) : encode(UInt32(total - 16), .big))
            + encode(UInt32(order == .little ? 1 : 0), .big)
        return header + body + trailer
    }

    /// A big-endian count or type word: 4 bytes in DM3, 8 in DM4.
    static func word(_ v: Int, _ wide: Bool) -> [UInt8] {
        wide ? encode(UInt64(v), .big) : encode(UInt32(truncatingIfNeeded: v), .big)
    }

    /// One tag: kind, name, (DM4) size, then the group or the data.
    static func entry(_ name: String, _ tag: Node, _ wide: Bool) -> [UInt8] {
        let content: [UInt8]
        let kind: UInt8
        switch tag {
        case .list(let entries):
            kind = 20
            content = [0, 1] + word(entries.count, wide) + entries.flatMap { entry($0.name, $0.node, wide) }
        case .data(let words, let bytes):
            kind = 21
            content = Array("%%%%".utf8) + word(words.count, wide) + words.flatMap { word($0, wide) } + bytes
        }
        let nameBytes = Array(name.utf8)
        return [kind] + encode(UInt16(nameBytes.count), .big) + nameBytes + (wide ? encode(UInt64(content.count), .big) : []) + content
    }

    /// A file whose root holds one group nested `depth` levels deep, written without recursion.
    static func nested(depth: Int, version: Int) -> [UInt8] {
        let wide = version == 4
        let levelHeader = 3 + (wide ? 8 : 0)
        let levelBody = 2 + (wide ? 8 : 4)
        var body = [UInt8]([1, 0]) + word(1, wide)
        body.reserveCapacity(depth * (levelHeader + levelBody) + 64)
        for level in 0..<depth {
            let inner = (depth - level) * levelBody + (depth - level - 1) * levelHeader
            body += [20, 0, 0] + (wide ? encode(UInt64(inner), .big) : [])
            body += [0, 1] + word(level == depth - 1 ? 0 : 1, wide)
        }
        let header = encode(UInt32(version), .big) + word(body.count, wide) + encode(UInt32(1), .big)
        return header + body + [UInt8](repeating: 0, count: 8)
    }
}
