import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An array read from a NumPy `.npy` file: its shape, its values in C (row-major) order, and
/// the dtype string exactly as the file declared it.
public struct NPYArray: Equatable, Sendable {
    /// The dimensions, outermost first; `[]` for a 0-d array (one value).
    public var shape: [Int]
    /// The values in C order, converted to `Float` whatever the stored dtype.
    public var values: [Float]
    /// The `descr` of the file's header, e.g. `"<f8"`.
    public var dtype: String

    public init(shape: [Int], values: [Float], dtype: String) {
        self.shape = shape
        self.values = values
        self.dtype = dtype
    }
}

/// Reading and writing NumPy's `.npy` format
/// (<https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>).
///
/// Design notes: the reader takes every integer dtype (int8 … uint64), float16, float32 and
/// float64, either byte order, C or Fortran order, and converts them to Float32 through
/// `RawLayout` (one conversion path for every raw format); a cube stored as little-endian
/// float32 in C order is used in place from the mapped file. Booleans, complex numbers,
/// structured and object arrays are refused. The writer always produces format 1.0, `'<f4'`,
/// C order, which every NumPy since 1.0 reads.
public enum NPY {
    /// The largest number of elements the reader accepts (2^31).
    public static let maximumElementCount = 1 << 31

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // "\x93NUMPY"

    // MARK: - Reading

    /// Reads a `.npy` file (format 1.0, 2.0 or 3.0) of any supported dtype; Fortran-ordered
    /// data is returned in C order, every value as Float32.
    ///
    /// - Throws: `UnmixError` with one line naming the file and the problem: a missing or
    ///   unreadable file, bad magic, an unsupported version or dtype, a malformed header, a
    ///   negative or oversized shape, or data shorter or longer than the shape says.
    public static func read(_ url: URL) throws -> NPYArray {
        let file = try MappedFile(url.path)
        return try decode(file.bytes, name: url.path)
    }

    /// Decodes the bytes of a `.npy` file; `name` is used in error messages.
    public static func decode(_ data: Data, name: String) throws -> NPYArray {
        try data.withUnsafeBytes { try decode($0, name: name) }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws -> NPYArray {
        let (header, dataStart) = try parse(bytes, name: name)
        // Any shape, as one run of values in C order (Fortran order: the reversed shape).
        let shape = header.fortranOrder ? Array(header.shape.reversed()) : header.shape
        let layout = RawLayout(type: header.type, order: header.order, rows: 1, cols: 1, bands: header.count,
                               offset: dataStart, interleave: .bip)
        var values = try layout.decode(bytes, name: name).cube.values
        if header.fortranOrder && shape.count > 1 { values = reverseAxes(values, shape: shape) }
        return NPYArray(shape: header.shape, values: values, dtype: header.descr)
    }

    /// Parses the preamble and header of `.npy` bytes; returns the header and the offset of the
    /// data, after checking that the data is exactly as long as the shape says.
    static func parse(_ bytes: UnsafeRawBufferPointer, name: String) throws -> (Header, Int) {
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            throw UnmixError("\(name): not an npy file (bad magic)")
        }
        let major = bytes[6], minor = bytes[7]
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default:
            throw UnmixError("\(name): unsupported npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
        }
        guard bytes.count >= 8 + lengthSize else {
            throw UnmixError("\(name): truncated: expected \(8 + lengthSize) bytes of preamble, found \(bytes.count)")
        }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let headerStart = 8 + lengthSize
        guard bytes.count - headerStart >= headerLength else {
            throw UnmixError(
                "\(name): truncated: expected \(headerLength) bytes of header, found \(bytes.count - headerStart)")
        }
        // Version 3.0 headers are UTF-8; earlier versions are Latin-1 (in practice ASCII).
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        guard let headerText = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw UnmixError("\(name): malformed header (not valid text)")
        }
        let header = try Header(parsing: headerText, name: name)

        let dataStart = headerStart + headerLength
        let expected = header.count * header.type.size
        let found = bytes.count - dataStart
        guard found >= expected else {
            throw UnmixError("\(name): truncated: expected \(expected) bytes of data, found \(found)")
        }
        guard found == expected else {
            throw UnmixError("\(name): \(found - expected) unexpected bytes after the data (shape \(header.shapeText) needs \(expected))")
        }
        return (header, dataStart)
    }

    /// Transposes values stored in C order for `shape` into C order for the reversed shape
    /// (how Fortran-ordered data becomes C-ordered).
    static func reverseAxes(_ values: [Float], shape: [Int]) -> [Float] {
        let rank = shape.count
        // Strides of the stored (C-ordered, `shape`) array.
        var stride = [Int](repeating: 1, count: rank)
        for axis in stride.indices.reversed().dropFirst() { stride[axis] = stride[axis + 1] * shape[axis + 1] }
        // Walk the target in C order (its last axis = the stored first axis runs fastest).
        let target = Array(shape.reversed()), targetStride = Array(stride.reversed())
        var result = [Float](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        for t in 0..<values.count {
            result[t] = values[source]
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                source += targetStride[axis]
                if index[axis] < target[axis] { break }
                source -= targetStride[axis] * target[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    // MARK: - Writing

    /// The bytes of a format 1.0 `.npy` file holding `values` as little-endian float32 in
    /// C order; the header is padded with spaces and ends in `\n` so that the data starts at a
    /// multiple of 64 bytes.
    public static func encode(_ values: [Float], shape: [Int]) -> Data {
        precondition(shape.allSatisfy { $0 >= 0 }, "NPY.encode: negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == values.count,
                     "NPY.encode: shape \(shape) holds \(shape.reduce(1, *)) values, got \(values.count)")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(pythonTuple(shape)), }"
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        precondition(header.utf8.count <= Int(UInt16.max), "NPY.encode: header too long for format 1.0")
        var data = Data(capacity: 10 + header.utf8.count + 4 * values.count)
        data.append(contentsOf: magic)
        data.append(contentsOf: [1, 0])
        data.append(UInt8(header.utf8.count & 0xFF))
        data.append(UInt8(header.utf8.count >> 8))
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { buffer in
            let littleEndian = buffer.map { $0.bitPattern.littleEndian }
            littleEndian.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes `values` (C order) with `shape` to `url` as a format 1.0 `'<f4'` file. The write
    /// is atomic: the bytes go to a temporary file in the same folder, which is then renamed.
    ///
    /// - Throws: `UnmixError` naming the file if it cannot be written.
    public static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        try writeAtomically(encode(values, shape: shape), to: url)
    }

    /// Writes a cube as a rows × cols × bands `'<f4'` file, atomically, straight from its
    /// storage (no copy of the samples).
    public static func write(_ cube: CubeData, to path: String) throws {
        let file = try AtomicFile(path)
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(pythonTuple([cube.rows, cube.cols, cube.bands])), }"
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        try file.write(magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8))
        try cube.withUnsafeValues { try file.write(littleEndian: $0) }
        try file.commit()
    }

    /// Writes `data` to a temporary sibling of `url`, then renames it over `url`.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let file = try AtomicFile(url.path)
        try data.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    public static func pythonTuple(_ shape: [Int]) -> String {
        switch shape.count {
        case 0: return "()"
        case 1: return "(\(shape[0]),)"
        default: return "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
    }
}

/// A one-line reason for a Foundation error (its POSIX cause when there is one).
public func oneLineReason(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
    return nsError.localizedDescription.replacingOccurrences(of: "\n", with: " ")
}

// MARK: - Header

extension NPY {
    /// The parsed header dictionary: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
    /// with keys in any order, any spacing, single or double quotes and an optional trailing comma.
    struct Header {
        var descr: String
        var fortranOrder: Bool
        var shape: [Int]
        var type: SampleType
        var order: ByteOrder
        var count: Int

        var shapeText: String { NPY.pythonTuple(shape) }

        init(parsing text: String, name: String) throws {
            var parser = LiteralParser(text: text, name: name)
            guard case .dictionary(let entries) = try parser.parseTop() else {
                throw UnmixError("\(name): malformed header (expected a dictionary)")
            }
            func entry(_ key: String) throws -> Literal {
                guard let value = entries.first(where: { $0.key == key })?.value else {
                    throw UnmixError("\(name): malformed header (no '\(key)' key)")
                }
                return value
            }
            switch try entry("descr") {
            case .string(let descr): self.descr = descr
            case .list:
                throw UnmixError("\(name): structured dtypes are not supported (supported: int8 … uint64, float16, float32, float64)")
            default: throw UnmixError("\(name): malformed header ('descr' is not a string)")
            }
            guard case .bool(let fortranOrder) = try entry("fortran_order") else {
                throw UnmixError("\(name): malformed header ('fortran_order' is not True or False)")
            }
            self.fortranOrder = fortranOrder
            guard case .tuple(let items) = try entry("shape") else {
                throw UnmixError("\(name): malformed header ('shape' is not a tuple)")
            }
            var shape: [Int] = []
            for item in items {
                guard case .integer(let dimension) = item else {
                    throw UnmixError("\(name): malformed header ('shape' holds a non-integer)")
                }
                guard dimension >= 0 else {
                    throw UnmixError("\(name): negative dimension \(dimension) in shape")
                }
                shape.append(dimension)
            }
            self.shape = shape

            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow else {
                    throw UnmixError("\(name): shape \(NPY.pythonTuple(shape)) is too large (element count overflows)")
                }
                count = product
            }
            guard count <= NPY.maximumElementCount else {
                throw UnmixError("\(name): shape \(NPY.pythonTuple(shape)) has \(count) elements (at most 2^31 supported)")
            }
            self.count = count

            (type, order) = try Header.sampleType(descr, name: name)
        }

        /// The sample type and byte order of a `descr` such as `'<f4'`, `'>u2'` or `'|i1'`.
        static func sampleType(_ descr: String, name: String) throws -> (SampleType, ByteOrder) {
            var code = Substring(descr)
            var order = ByteOrder.native
            if let mark = code.first, "<>=|".contains(mark) {
                if mark == "<" { order = .little } else if mark == ">" { order = .big }
                code = code.dropFirst()
            }
            let types: [Substring: SampleType] = [
                "i1": .int8, "u1": .uint8, "i2": .int16, "u2": .uint16, "i4": .int32, "u4": .uint32,
                "i8": .int64, "u8": .uint64, "f2": .float16, "f4": .float32, "f8": .float64,
                "b": .int8, "B": .uint8, "h": .int16, "H": .uint16, "i": .int32, "I": .uint32,
                "l": .int64, "L": .uint64, "q": .int64, "Q": .uint64, "e": .float16, "f": .float32, "d": .float64,
            ]
            if let type = types[code] { return (type, order) }
            let supported = "int8 … uint64, float16, float32, float64"
            if code == "O" {
                throw UnmixError("\(name): object arrays are not supported (dtype '\(descr)'; supported: \(supported))")
            }
            throw UnmixError("\(name): unsupported dtype '\(descr)' (supported: \(supported))")
        }
    }

    /// The subset of Python literals an `.npy` header uses.
    enum Literal {
        case string(String)
        case integer(Int)
        case bool(Bool)
        case none
        case tuple([Literal])
        case list([Literal])
        case dictionary([(key: String, value: Literal)])
    }

    /// A recursive-descent parser for Python literals, over Unicode scalars.
    struct LiteralParser {
        let scalars: [Unicode.Scalar]
        let name: String
        var position = 0
        /// How deep tuples, lists and dictionaries nest so far; a header nested deeper than
        /// `maximumDepth` is refused before the recursion can exhaust the stack.
        var depth = 0
        static let maximumDepth = 32

        init(text: String, name: String) {
            scalars = Array(text.unicodeScalars)
            self.name = name
        }

        func error(_ problem: String) -> UnmixError {
            UnmixError("\(name): malformed header (\(problem) at character \(position))")
        }

        mutating func skipSpace() {
            while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
        }

        mutating func parseTop() throws -> Literal {
            let value = try parseValue()
            skipSpace()
            guard position == scalars.count else { throw error("unexpected text after the dictionary") }
            return value
        }

        mutating func peek() -> Unicode.Scalar? {
            skipSpace()
            return position < scalars.count ? scalars[position] : nil
        }

        mutating func parseValue() throws -> Literal {
            guard let c = peek() else { throw error("unexpected end") }
            if c == "{" || c == "(" || c == "[" {
                depth += 1
                guard depth <= Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
            }
            defer { if c == "{" || c == "(" || c == "[" { depth -= 1 } }
            switch c {
            case "'", "\"": return .string(try parseString())
            case "{":
                position += 1
                var entries: [(key: String, value: Literal)] = []
                while true {
                    if peek() == "}" { position += 1; break }
                    guard let q = peek(), q == "'" || q == "\"" else { throw error("expected a quoted key") }
                    let key = try parseString()
                    guard peek() == ":" else { throw error("expected ':'") }
                    position += 1
                    entries.append((key, try parseValue()))
                    let next = peek()
                    if next == "," { position += 1 } else if next != "}" { throw error("expected ',' or '}'") }
                }
                return .dictionary(entries)
            case "(", "[":
                let close: Unicode.Scalar = c == "(" ? ")" : "]"
                position += 1
                var items: [Literal] = []
                while true {
                    if peek() == close { position += 1; break }
                    items.append(try parseValue())
                    let next = peek()
                    if next == "," { position += 1 } else if next != close { throw error("expected ',' or '\(close)'") }
                }
                return c == "(" ? .tuple(items) : .list(items)
            default:
                var word = ""
                while position < scalars.count,
                      scalars[position].properties.isAlphabetic || ("0"..."9").contains(scalars[position])
                        || scalars[position] == "-" || scalars[position] == "+" || scalars[position] == "_" {
                    word.unicodeScalars.append(scalars[position])
                    position += 1
                }
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return .none
                case "": throw error("unexpected '\(c)'")
                default:
                    // Python 2 headers may carry a long suffix: (3L, 4L).
                    let digits = word.hasSuffix("L") ? String(word.dropLast()) : word
                    if let value = Int(digits) { return .integer(value) }
                    if digits.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }) && digits.contains(where: \.isNumber) {
                        throw UnmixError("\(name): shape dimension \(digits) is too large")
                    }
                    throw error("unexpected '\(word)'")
                }
            }
        }

        mutating func parseString() throws -> String {
            let quote = scalars[position]
            position += 1
            var result = ""
            while position < scalars.count {
                let c = scalars[position]
                position += 1
                if c == quote { return result }
                if c == "\\", position < scalars.count {
                    result.unicodeScalars.append(scalars[position])
                    position += 1
                } else {
                    result.unicodeScalars.append(c)
                }
            }
            throw error("unterminated string")
        }
    }
}
