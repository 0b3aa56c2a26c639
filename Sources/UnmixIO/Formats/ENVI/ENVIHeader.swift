import Foundation

/// An ENVI `.hdr` header: `ENVI` on the first line, then `key = value` lines, where a value in
/// braces (`{ 400.5, 410, … }`) may span several lines; keys are case-insensitive; `;` starts a
/// comment line.
///
/// Read: `samples`, `lines`, `bands`, `header offset`, `data type`, `interleave`,
/// `byte order`, `file type`, `wavelength`, `wavelength units`, `band names`, `description`,
/// and the frame offsets (refused when non-zero). Every key is kept in `entries`.
public struct ENVIHeader: Sendable {
    /// One header value: text, or a brace list split at commas.
    public enum Value: Sendable, Equatable {
        case text(String)
        case list([String])

        /// The text, or the list joined back with ", ".
        public var text: String {
            switch self {
            case .text(let t): return t
            case .list(let items): return items.joined(separator: ", ")
            }
        }
    }

    /// Every key (lower case, spaces collapsed) and its value, the last one when repeated.
    public var entries: [String: Value]
    public var samples: Int
    public var lines: Int
    public var bands: Int
    public var headerOffset: Int
    /// ENVI's data type code (1, 2, 3, 4, 5, 12, 13, 14 or 15).
    public var dataType: Int
    public var type: SampleType
    public var interleave: RawLayout.Interleave
    public var byteOrder: ByteOrder
    /// `ENVI Standard`, `ENVI Spectral Library`, … ("" when absent).
    public var fileType: String
    /// The band centres, when the header lists one finite number per band.
    public var wavelengths: [Double]?
    /// `wavelength units` in the short form ("Nanometers" → "nm"); "" when absent or unknown.
    public var wavelengthUnits: String
    public var bandNames: [String]?
    public var description: String
    /// Keys that could not be used, one line each (for the dataset's warnings).
    public var problems: [String]

    /// Whether the file is a spectral library: one spectrum of `samples` channels per line.
    public var isSpectralLibrary: Bool { fileType.lowercased().contains("spectral library") }

    /// The sample types of ENVI's `data type` codes (6 and 9 are complex and not read).
    public static let sampleTypes: [Int: SampleType] = [
        1: .uint8, 2: .int16, 3: .int32, 4: .float32, 5: .float64,
        12: .uint16, 13: .uint32, 14: .int64, 15: .uint64,
    ]

    /// Whether `head` (the first bytes of a file) starts like an ENVI header.
    public static func hasSignature(_ head: [UInt8]) -> Bool {
        var body = head[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        body = body.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        return body.starts(with: Array("ENVI".utf8))
    }

    /// Parses the header text; `name` (the header's path) is used in error messages.
    ///
    /// - Throws: `UnmixError` when the first line is not `ENVI`, a brace list is not closed, a
    ///   size is missing or not a positive integer, or the data type, interleave or byte order
    ///   is not one the format defines (complex data is refused with its own line).
    public init(parsing text: String, name: String) throws {
        let allLines = TextHeader.lines(text)
        guard let first = allLines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }),
              first.trimmingCharacters(in: .whitespaces).hasPrefix("ENVI") else {
            throw UnmixError("\(name): not an ENVI header (its first line is not 'ENVI')")
        }
        var entries = [String: Value]()
        var index = allLines.startIndex
        var seenFirst = false
        while index < allLines.endIndex {
            let line = allLines[index]
            index += 1
            if !seenFirst {
                if !line.trimmingCharacters(in: .whitespaces).isEmpty { seenFirst = true }
                continue
            }
            guard !line.hasPrefix(";"), let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ").lowercased()
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard value.hasPrefix("{") else {
                entries[key] = .text(value)
                continue
            }
            var closed = value.contains("}")
            while !closed {
                guard index < allLines.endIndex else {
                    throw UnmixError("\(name): the brace list of '\(key)' is not closed")
                }
                let next = allLines[index].trimmingCharacters(in: .whitespaces)
                closed = next.contains("}")
                value += "\n" + next
                index += 1
            }
            let open = value.index(after: value.startIndex)
            let inner = value[open..<(value.firstIndex(of: "}") ?? value.endIndex)]
            if key == "description" {
                entries[key] = .text(inner.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                entries[key] = .list(inner.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
            }
        }
        self.entries = entries
        var problems = [String]()

        func integer(_ key: String, default fallback: Int? = nil, minimum: Int = 1) throws -> Int {
            guard let value = entries[key] else {
                if let fallback { return fallback }
                throw UnmixError("\(name): no '\(key)' in the ENVI header")
            }
            guard case .text(let text) = value, let number = Int(text), number >= minimum else {
                throw UnmixError("\(name): '\(key)' is '\(value.text)', not a\(minimum > 0 ? " positive" : " non-negative") integer")
            }
            return number
        }
        samples = try integer("samples")
        lines = try integer("lines")
        bands = try integer("bands")
        headerOffset = try integer("header offset", default: 0, minimum: 0)
        dataType = try integer("data type")
        if dataType == 6 || dataType == 9 {
            throw UnmixError("\(name): complex samples (ENVI data type \(dataType)) are not supported: unmix reads real-valued cubes")
        }
        guard let type = Self.sampleTypes[dataType] else {
            throw UnmixError("\(name): data type \(dataType) is not an ENVI data type (1, 2, 3, 4, 5, 12, 13, 14, 15)")
        }
        self.type = type
        switch entries["interleave"]?.text.lowercased() {
        case "bsq": interleave = .bsq
        case "bil": interleave = .bil
        case "bip": interleave = .bip
        case nil:
            interleave = .bsq
            problems.append("\(name): no 'interleave' in the ENVI header: bsq assumed")
        case let other?: throw UnmixError("\(name): interleave '\(other)' is not bsq, bil or bip")
        }
        switch entries["byte order"]?.text {
        case "0": byteOrder = .little
        case "1": byteOrder = .big
        case nil:
            byteOrder = .little
            if type.size > 1 { problems.append("\(name): no 'byte order' in the ENVI header: little-endian (0) assumed") }
        case let other?: throw UnmixError("\(name): byte order '\(other)' is not 0 (little-endian) or 1 (big-endian)")
        }
        for key in ["major frame offsets", "minor frame offsets"] {
            guard let value = entries[key] else { continue }
            let numbers: [String]
            switch value {
            case .text(let t): numbers = [t]
            case .list(let items): numbers = items
            }
            if numbers.contains(where: { Int($0) != 0 }) {
                throw UnmixError("\(name): '\(key)' \(value.text): frame offsets (padding around each line or band) are not supported")
            }
        }
        fileType = entries["file type"]?.text ?? ""
        description = entries["description"]?.text ?? ""
        if case .list(let names)? = entries["band names"] { bandNames = names }
        wavelengthUnits = Self.shortUnits(entries["wavelength units"]?.text ?? "")
        let channels = fileType.lowercased().contains("spectral library") ? samples : bands
        if let value = entries["wavelength"] {
            let items: [String]
            switch value {
            case .text(let t): items = [t]
            case .list(let list): items = list
            }
            let numbers = items.compactMap { TextHeader.finite($0[...]) }
            if numbers.count == items.count, numbers.count == channels {
                wavelengths = numbers
            } else {
                problems.append("\(name): the wavelength list (\(items.count) values) is not one finite number per channel (\(channels)): ignored")
            }
        }
        self.problems = problems
    }

    /// ENVI's unit names in their short form; unknown names are kept as written.
    public static func shortUnits(_ units: String) -> String {
        switch units.trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "index", "unknown": return ""
        case "nanometers", "nanometer", "nm": return "nm"
        case "micrometers", "micrometer", "microns", "micron", "um", "µm", "μm": return "µm"
        case "millimeters", "millimeter", "mm": return "mm"
        case "centimeters", "centimeter", "cm": return "cm"
        case "meters", "meter", "m": return "m"
        case "wavenumber", "wavenumbers": return "cm⁻¹"
        case "ghz": return "GHz"
        case "mhz": return "MHz"
        default: return units.trimmingCharacters(in: .whitespaces)
        }
    }

    /// Our short units as ENVI names them, for writing ("nm" → "Nanometers").
    public static func enviUnits(_ units: String) -> String {
        switch units {
        case "nm": return "Nanometers"
        case "µm": return "Micrometers"
        case "mm": return "Millimeters"
        case "cm": return "Centimeters"
        case "m": return "Meters"
        case "cm⁻¹": return "Wavenumber"
        default: return units
        }
    }
}
