import Foundation

/// A Lispix ripple `.rpl` header: the keys that say where the samples of the companion `.raw`
/// file lie, and the calibration keys HyperSpy writes (`depth-origin`, `depth-scale`, …).
///
/// The text is one `key value` pair a line, separated by a tab (Lispix, HyperSpy) or spaces;
/// keys are case-insensitive; `;` starts a comment; Oxford INCA's `(MLX::key : value)` lines are
/// accepted too. Unknown keys are kept in `entries` and otherwise ignored.
public struct RippleHeader: Sendable {
    /// How samples are grouped: `vector` stores each pixel's spectrum contiguously (BIP),
    /// `image` stores one whole image per channel (BSQ), `dont-care` a single image (depth 1).
    public enum RecordBy: String, Sendable { case vector, image, dontCare = "dont-care" }

    public var width: Int
    public var height: Int
    public var depth: Int
    /// Bytes to skip at the start of the `.raw` file.
    public var offset: Int
    public var type: SampleType
    /// nil for `dont-care` (the machine's order, as HyperSpy reads it).
    public var byteOrder: ByteOrder?
    public var recordBy: RecordBy
    /// Every key (lower case) and its value as written, in file order.
    public var entries: [(key: String, value: String)]

    /// The value of `key` (lower case), the last one when repeated; nil when absent.
    public func value(_ key: String) -> String? { entries.last(where: { $0.key == key })?.value }

    /// Parses the header text; `name` (the `.rpl` path) is used in error messages.
    ///
    /// - Throws: `UnmixError` when a size key is missing or not a positive integer, or the data
    ///   type, length, byte order or record-by is not one the format defines.
    public init(parsing text: String, name: String) throws {
        var entries = [(key: String, value: String)]()
        for rawLine in TextHeader.lines(text) {
            var line = rawLine[...]
            if let comment = line.firstIndex(of: ";") { line = line[..<comment] }
            line = line.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("(") {
                // Oxford INCA: (MLX::width : 256)
                line = line.dropFirst()
                if line.lowercased().hasPrefix("mlx::") { line = line.dropFirst(5) }
                if let close = line.lastIndex(of: ")") { line = line[..<close] }
            }
            guard let split = line.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == ":" }) else {
                if !line.isEmpty { entries.append((line.lowercased(), "")) }
                continue
            }
            let key = line[..<split].lowercased()
            let value = line[split...].drop(while: { $0 == " " || $0 == "\t" || $0 == ":" })
                .trimmingCharacters(in: .whitespaces)
            entries.append((key, value))
        }
        self.entries = entries
        let lookup = { (key: String) in entries.last(where: { $0.key == key })?.value }

        func size(_ key: String, allowZero: Bool = false) throws -> Int {
            guard let text = lookup(key) else { throw UnmixError("\(name): not a ripple header: no '\(key)' key") }
            guard let value = Int(text), value >= (allowZero ? 0 : 1) else {
                throw UnmixError("\(name): '\(key)' is '\(text)', not a \(allowZero ? "non-negative" : "positive") integer")
            }
            return value
        }
        width = try size("width")
        height = try size("height")
        depth = try size("depth")
        offset = lookup("offset") == nil ? 0 : try size("offset", allowZero: true)

        guard let lengthText = lookup("data-length") else { throw UnmixError("\(name): not a ripple header: no 'data-length' key") }
        guard let length = Int(lengthText), [1, 2, 4, 8].contains(length) else {
            throw UnmixError("\(name): 'data-length' is '\(lengthText)', expected 1, 2, 4 or 8 (bytes per sample)")
        }
        guard let kindText = lookup("data-type") else { throw UnmixError("\(name): not a ripple header: no 'data-type' key") }
        switch (kindText.lowercased(), length) {
        case ("signed", 1): type = .int8
        case ("signed", 2): type = .int16
        case ("signed", 4): type = .int32
        case ("signed", 8): type = .int64
        case ("unsigned", 1): type = .uint8
        case ("unsigned", 2): type = .uint16
        case ("unsigned", 4): type = .uint32
        case ("unsigned", 8): type = .uint64
        case ("float", 4): type = .float32
        case ("float", 8): type = .float64
        case ("float", _): throw UnmixError("\(name): 'data-length' \(length) for float data: expected 4 or 8")
        default: throw UnmixError("\(name): 'data-type' is '\(kindText)', expected signed, unsigned or float")
        }
        switch lookup("byte-order")?.lowercased() {
        case nil, "dont-care": byteOrder = nil
        case "little-endian": byteOrder = .little
        case "big-endian": byteOrder = .big
        case let other?: throw UnmixError("\(name): 'byte-order' is '\(other)', expected little-endian, big-endian or dont-care")
        }
        guard let recordText = lookup("record-by") else { throw UnmixError("\(name): not a ripple header: no 'record-by' key") }
        guard let recordBy = RecordBy(rawValue: recordText.lowercased()) else {
            throw UnmixError("\(name): 'record-by' is '\(recordText)', expected vector, image or dont-care")
        }
        if recordBy == .dontCare && depth != 1 {
            throw UnmixError("\(name): 'record-by' dont-care is for a single image, but 'depth' is \(depth)")
        }
        self.recordBy = recordBy
    }

    /// The calibration of one dimension (`depth`, `width` or `height`): `<dim>-origin`,
    /// `-scale`, `-units` and `-name` as HyperSpy writes them, the origin being the value of
    /// the first index (HyperSpy's axis offset). The depth falls back on Lispix's
    /// `ev-per-chan` (then in eV). Names and units `<undefined>` or `None` count as absent.
    public func axis(_ dimension: String, size: Int, defaultName: String, name fileName: String,
                     problems: inout [String]) -> Axis {
        func number(_ key: String) -> Double? {
            guard let text = value(key) else { return nil }
            guard let number = TextHeader.finite(text[...]) else {
                problems.append("\(fileName): '\(key)' is '\(text)', not a finite number: ignored")
                return nil
            }
            return number
        }
        func text(_ key: String) -> String? {
            // HyperSpy writes an axis without name or units as "<undefined>" or (RosettaSciIO
            // 0.15) Python's "None".
            guard let text = value(key), !text.isEmpty, text != "<undefined>", text != "None" else { return nil }
            return text
        }
        var scale = number("\(dimension)-scale")
        var units = text("\(dimension)-units")
        if dimension == "depth", scale == nil, let perChannel = number("ev-per-chan") {
            scale = perChannel
            if units == nil { units = "eV" }
        }
        return Axis(name: text("\(dimension)-name") ?? defaultName, size: size, offset: number("\(dimension)-origin") ?? 0,
                    scale: scale ?? 1, units: units ?? "")
    }
}
