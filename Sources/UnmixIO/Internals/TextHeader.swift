import Foundation

/// Helpers for the text headers of raw formats (ripple `.rpl`, ENVI `.hdr`): reading a small
/// text file whatever its encoding, and finding companion files beside a path.
enum TextHeader {
    /// The largest text header read (a wavelength list of tens of thousands of bands fits).
    static let maximumSize = 16 << 20

    /// The file at `path` as text: UTF-8 when it is valid UTF-8, otherwise Latin-1 (every byte
    /// one character), so that no header is refused for its encoding alone.
    ///
    /// - Throws: `UnmixError` naming the file when it cannot be read, is larger than
    ///   `maximumSize`, or holds NUL bytes (a binary file, not a text header).
    static func read(_ path: String, format: String) throws -> String {
        let file = try MappedFile(path)
        guard file.bytes.count <= maximumSize else {
            throw UnmixError("\(path): not a \(format) header: \(file.bytes.count) bytes, more than a text header holds (at most \(maximumSize))")
        }
        let bytes = Array(file.bytes)
        if bytes.contains(0) {
            throw UnmixError("\(path): not a \(format) header: it holds binary data (NUL bytes)")
        }
        return decode(bytes)
    }

    /// Bytes as text: UTF-8 when valid (a leading byte-order mark dropped), Latin-1 otherwise.
    static func decode(_ bytes: [UInt8]) -> String {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if let text = String(validating: body, as: UTF8.self) { return text }
        return String(String.UnicodeScalarView(body.map { Unicode.Scalar($0) }))
    }

    /// The lines of `text`, split at LF, CR LF or CR.
    static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    }

    /// Whether a regular file exists at `path`.
    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// `path` without its last extension ("a/b.rpl" → "a/b"; "a/b" stays).
    static func stem(_ path: String) -> String { (path as NSString).deletingPathExtension }

    /// The file name of `path` without folder and last extension, for titles.
    static func baseName(_ path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// A value for a one-line `key<sep>value` header: line breaks and the characters in
    /// `forbidden` become spaces, leading and trailing spaces go.
    static func sanitized(_ value: String, forbidden: Set<Character>) -> String {
        String(value.map { $0.isNewline || $0 == "\t" || forbidden.contains($0) ? " " : $0 })
            .trimmingCharacters(in: .whitespaces)
    }

    /// A Double as text that reads back to the same Double ("1.5", "300.0", "1e-05").
    static func number(_ value: Double) -> String { "\(value)" }

    /// A finite number, or nil (NaN and infinities are not calibrations).
    static func finite(_ text: Substring) -> Double? {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else { return nil }
        return value
    }
}
