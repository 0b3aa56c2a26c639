import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The metadata an FEI/Thermo TIA `.emi` file keeps for its series: one XML block
/// `<ObjectInfo>…</ObjectInfo>` per series (the i-th block describes `<name>_i.ser`), among
/// binary records we do not read. Each block has the acquisition date, the microscope's
/// description as `<Data><Label>…</Label><Value>…</Value><Unit>…</Unit></Data>` entries
/// (microscope, mode, high tension, …) and the acquisition settings.
public struct EMIMetadata: Sendable {
    /// The XML text of every `<ObjectInfo>` block, in file order.
    public var objects: [String]

    /// The largest number of blocks and the largest block read (a real `.emi` has a few of
    /// a few KiB).
    static let maximumObjects = 4096
    static let maximumObjectSize = 4 << 20

    /// Finds the metadata blocks of the `.emi` file at `path`.
    ///
    /// - Throws: `UnmixError` naming the file when it cannot be read or holds no block.
    public init(path: String) throws {
        let file = try MappedFile(path)
        let bytes = file.bytes
        let open = Array("<ObjectInfo>".utf8), close = Array("</ObjectInfo>".utf8)
        var objects = [String]()
        var position = 0
        while objects.count < Self.maximumObjects, let start = Self.find(open, in: bytes, from: position) {
            guard let end = Self.find(close, in: bytes, from: start + open.count) else { break }
            let stop = end + close.count
            if stop - start <= Self.maximumObjectSize {
                objects.append(TextHeader.decode(Array(bytes[start..<stop])))
            }
            position = stop
        }
        guard !objects.isEmpty else { throw UnmixError("\(path): no <ObjectInfo> metadata block") }
        self.objects = objects
    }

    /// The first index at or after `from` where `needle` starts in `bytes`, or nil.
    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard let base = bytes.baseAddress, let first = needle.first, from >= 0 else { return nil }
        var i = from
        while bytes.count - i >= needle.count {
            guard let hit = memchr(base + i, Int32(first), bytes.count - i - needle.count + 1) else { return nil }
            let at = UnsafeRawPointer(hit) - base
            let same = needle.withUnsafeBytes { n in n.baseAddress.map { memcmp(base + at, $0, needle.count) == 0 } ?? false }
            if same { return at }
            i = at + 1
        }
        return nil
    }

    /// The text of the first `<tag>…</tag>` inside `xml`, entities decoded, trimmed; nil when absent.
    public static func element(_ tag: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(tag)>"),
              let end = xml.range(of: "</\(tag)>", range: start.upperBound..<xml.endIndex) else { return nil }
        return decodeEntities(String(xml[start.upperBound..<end.lowerBound])).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The `<ExperimentalDescription>` entries of `xml`: label → value (with the unit after a
    /// space when there is one), e.g. "Mode" → "STEM nP SA Zoom Diffraction", "High tension" → "200 kV".
    public static func experimentalDescription(in xml: String) -> [String: String] {
        guard let section = element("ExperimentalDescription", in: xml) else { return [:] }
        var entries = [String: String]()
        for data in section.components(separatedBy: "<Data>").dropFirst() {
            guard let label = element("Label", in: data) else { continue }
            let value = element("Value", in: data) ?? ""
            let unit = element("Unit", in: data) ?? ""
            entries[label] = unit.isEmpty ? value : "\(value) \(unit)"
        }
        return entries
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` decoded.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
