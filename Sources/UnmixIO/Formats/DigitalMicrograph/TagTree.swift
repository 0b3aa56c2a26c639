import Foundation

/// The tag tree of a Gatan DigitalMicrograph file (DM3 or DM4), parsed from a mapped file.
///
/// The format, as RosettaSciIO's reader and the public descriptions of it have it: a header of
/// three big-endian fields (the version, 3 or 4; the file size, 4 bytes in DM3 and 8 in DM4;
/// and whether the tag *data* is little-endian, 1, or big-endian, 0), then the root tag group.
/// A group is "sorted" and "open" bytes and a tag count; each tag is a kind byte (20 a group,
/// 21 data), a big-endian 2-byte name length and the name, in DM4 an 8-byte size of what
/// follows, then the group, or the data: `%%%%`, the length of a type description and its
/// words, then the bytes the description says. Counts, sizes and type words are big-endian, 4
/// bytes in DM3 and 8 in DM4; only the data itself is in the header's byte order.
///
/// Type descriptions: a simple type (2 int16, 3 int32, 4 uint16, 5 uint32, 6 float32,
/// 7 float64, 8 bool, 9 char, 10 octet, 11 int64, 12 uint64); `18 length` a string of
/// `length` bytes; `15 nameLength fieldCount (nameLength type)…` a struct of simple fields;
/// `20 element… count` an array of any of these.
///
/// Nothing is copied: data tags record where their bytes lie (the image array of a spectrum
/// image may be most of the file), and are decoded on demand. Every size is checked against
/// the end of the file, nesting is capped at `maximumDepth` groups (a corrupt file cannot
/// overflow the stack) and the tree at `maximumTags` tags. Parsing only moves forward, so a
/// file cannot make it loop; DM4's per-tag sizes are not needed to parse and are ignored.
public struct DMTagTree {
    /// The simple types of tag data.
    public enum ElementType: Int, Sendable, CaseIterable {
        case int16 = 2, int32 = 3, uint16 = 4, uint32 = 5, float32 = 6, float64 = 7
        case bool = 8, char = 9, octet = 10, int64 = 11, uint64 = 12

        /// Bytes per value.
        public var size: Int {
            switch self {
            case .bool, .char, .octet: return 1
            case .int16, .uint16: return 2
            case .int32, .uint32, .float32: return 4
            case .float64, .int64, .uint64: return 8
            }
        }
    }

    /// Where a data tag's bytes lie in the file, and what they are.
    public enum Value: Sendable, Equatable {
        /// One value of a simple type.
        case simple(ElementType, offset: Int)
        /// A string (type 18) of `length` bytes.
        case string(offset: Int, length: Int)
        /// An array of `count` values of a simple type (DM stores text as arrays of uint16).
        case array(ElementType, count: Int, offset: Int)
        /// A struct, or an array of structs, strings or arrays: kept as a byte range only.
        case composite(offset: Int, length: Int)
    }

    /// A tag: a group or data, and its name ("" for the unnamed entries of lists).
    public struct Entry: Sendable {
        public enum Content: Sendable {
            case group(Group)
            case data(Value)
        }
        public var name: String
        public var content: Content
    }

    /// A tag group: its tags in file order.
    public struct Group: Sendable {
        public var entries: [Entry]

        /// The first tag named `name`.
        public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

        /// The group at `path` (names of nested groups), or nil.
        public func group(_ path: String...) -> Group? { group(path) }

        func group(_ path: [String]) -> Group? {
            var current = self
            for name in path {
                guard let entry = current.entry(name), case .group(let next) = entry.content else { return nil }
                current = next
            }
            return current
        }

        /// The data tag at `path` (names of nested groups, then the tag's name), or nil.
        public func value(_ path: String...) -> Value? {
            guard let last = path.last, let parent = group(Array(path.dropLast())),
                  let entry = parent.entry(last), case .data(let value) = entry.content else { return nil }
            return value
        }

        /// The groups among the tags, in order (the unnamed items of DM's lists).
        public var groups: [Group] {
            entries.compactMap { entry in
                if case .group(let group) = entry.content { return group }
                return nil
            }
        }

        /// The data tags, in order.
        public var values: [Value] {
            entries.compactMap { entry in
                if case .data(let value) = entry.content { return value }
                return nil
            }
        }
    }

    /// The deepest nesting of groups accepted (real files nest about a dozen).
    public static let maximumDepth = 128
    /// The most tags accepted in one file (real files hold thousands).
    public static let maximumTags = 1 << 20
    /// The longest text `text(_:)` decodes, in stored units.
    public static let maximumTextLength = 1 << 16

    /// 3 (DM3) or 4 (DM4).
    public let version: Int
    /// The byte order of the tag data (the header's flag).
    public let byteOrder: ByteOrder
    public let root: Group
    /// The mapping the values lie in.
    public let file: MappedFile
    /// The file name, for messages.
    public let name: String

    /// Parses the tag tree of `file`; `name` is used in error messages.
    ///
    /// - Throws: `UnmixError` naming the file: not DM3/DM4, truncated, a type description
    ///   that makes no sense, sizes that lie, nesting deeper than `maximumDepth`.
    public init(_ file: MappedFile, name: String) throws {
        self.file = file
        self.name = name
        var cursor = ByteCursor(file.bytes, name: name, order: .big)
        let version = try cursor.integer(UInt32.self, "the DigitalMicrograph version")
        guard version == 3 || version == 4 else {
            throw UnmixError("\(name): not a DigitalMicrograph 3 or 4 file (version field \(version))")
        }
        self.version = Int(version)
        _ = version == 3 ? UInt64(try cursor.integer(UInt32.self, "the file size")) : try cursor.integer(UInt64.self, "the file size")
        let flag = try cursor.integer(UInt32.self, "the byte-order flag")
        switch flag {
        case 0: byteOrder = .big
        case 1: byteOrder = .little
        default: throw UnmixError("\(name): corrupt DigitalMicrograph header: byte-order flag \(flag) (expected 0 or 1)")
        }
        var parser = Parser(cursor: cursor, wide: version == 4, name: name)
        root = try parser.group(depth: 0)
    }

    // MARK: - Values

    /// A simple value as a number (integers, floats and booleans), or nil.
    public func number(_ value: Value?) -> Double? {
        guard case .simple(let type, let offset) = value else { return nil }
        var cursor = ByteCursor(file.bytes, name: name, order: byteOrder, position: offset)
        return try? Self.load(type, &cursor)
    }

    /// A simple value of an integer type (or a float holding an integer) as an Int, or nil.
    public func integer(_ value: Value?) -> Int? {
        guard case .simple(let type, let offset) = value else { return nil }
        var cursor = ByteCursor(file.bytes, name: name, order: byteOrder, position: offset)
        switch type {
        case .int64: return (try? cursor.integer(Int64.self)).flatMap { Int(exactly: $0) }
        case .uint64: return (try? cursor.integer(UInt64.self)).flatMap { Int(exactly: $0) }
        default: return (try? Self.load(type, &cursor)).flatMap { Int(exactly: $0) }
        }
    }

    /// Text: an array of uint16 (UTF-16, DM's way), a string or an array of bytes (UTF-8, or
    /// Latin-1 when not UTF-8); trailing NULs dropped. Nil for other values and for text
    /// longer than `maximumTextLength`.
    public func text(_ value: Value?) -> String? {
        let bytes: UnsafeRawBufferPointer
        switch value {
        case .array(.uint16, let count, let offset)?:
            guard count <= Self.maximumTextLength else { return nil }
            var cursor = ByteCursor(file.bytes, name: name, order: byteOrder, position: offset)
            var units = [UInt16]()
            units.reserveCapacity(count)
            for _ in 0..<count {
                guard let unit = try? cursor.integer(UInt16.self) else { return nil }
                units.append(unit)
            }
            while units.last == 0 { units.removeLast() }
            return String(decoding: units, as: UTF16.self)
        case .array(let type, let count, let offset)? where type.size == 1:
            guard count <= Self.maximumTextLength, let slice = range(at: offset, count: count) else { return nil }
            bytes = slice
        case .array(_, 0, _)?:
            return ""
        case .string(let offset, let length)?:
            guard length <= Self.maximumTextLength, let slice = range(at: offset, count: length) else { return nil }
            bytes = slice
        default:
            return nil
        }
        var raw = Array(bytes)
        while raw.last == 0 { raw.removeLast() }
        if let utf8 = String(validating: raw, as: UTF8.self) { return utf8 }
        return String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))
    }

    /// `text` fit for a one-line message: control characters as "?", at most 64 characters.
    public static func printable(_ text: String) -> String {
        let breaking: Set<Unicode.GeneralCategory> = [.control, .lineSeparator, .paragraphSeparator]
        let clean = String(String.UnicodeScalarView(text.unicodeScalars.map { breaking.contains($0.properties.generalCategory) ? "?" : $0 }))
        return clean.count > 64 ? String(clean.prefix(64)) + "…" : clean
    }

    /// `count` bytes of the file at `offset`, or nil when they are not all inside it.
    private func range(at offset: Int, count: Int) -> UnsafeRawBufferPointer? {
        var cursor = ByteCursor(file.bytes, name: name, position: offset)
        return try? cursor.slice(count)
    }

    private static func load(_ type: ElementType, _ cursor: inout ByteCursor) throws -> Double {
        switch type {
        case .int16: return Double(try cursor.integer(Int16.self))
        case .int32: return Double(try cursor.integer(Int32.self))
        case .uint16: return Double(try cursor.integer(UInt16.self))
        case .uint32: return Double(try cursor.integer(UInt32.self))
        case .float32: return Double(try cursor.float32())
        case .float64: return try cursor.float64()
        case .bool, .octet: return Double(try cursor.integer(UInt8.self))
        case .char: return Double(try cursor.integer(Int8.self))
        case .int64: return Double(try cursor.integer(Int64.self))
        case .uint64: return Double(try cursor.integer(UInt64.self))
        }
    }
}

// MARK: - Parsing

extension DMTagTree {
    /// A type description, decoded from its words.
    indirect enum TypeDescription {
        case simple(ElementType)
        case string(length: Int)
        case structure([ElementType])
        case array(TypeDescription, count: Int)

        /// The bytes one value of this type takes, or an `UnmixError` on overflow.
        func byteCount(_ what: @autoclosure () -> String) throws -> Int {
            switch self {
            case .simple(let type): return type.size
            case .string(let length): return length
            case .structure(let fields): return fields.reduce(0) { $0 + $1.size }
            case .array(let element, let count): return try count.checkedTimes(try element.byteCount(what()), what())
            }
        }
    }

    /// The deepest nesting of array and struct descriptions accepted.
    static let maximumTypeDepth = 8

    /// Reads groups and tags forward from the root group.
    struct Parser {
        var cursor: ByteCursor
        /// DM4: 8-byte counts and sizes, and a size after every tag name.
        let wide: Bool
        let name: String
        var tagCount = 0

        init(cursor: ByteCursor, wide: Bool, name: String) {
            self.cursor = cursor
            self.wide = wide
            self.name = name
        }

        func corrupt(_ what: String) -> UnmixError {
            UnmixError("\(name): corrupt DigitalMicrograph tag tree: \(what)")
        }

        /// A big-endian count, size or type word: 4 bytes in DM3, 8 in DM4.
        mutating func word(_ what: String) throws -> Int {
            if !wide { return Int(try cursor.integer(UInt32.self, what)) }
            let at = cursor.position
            let raw = try cursor.integer(UInt64.self, what)
            guard let value = Int(exactly: raw) else {
                throw corrupt("\(what) at offset \(at) is \(raw)")
            }
            return value
        }

        /// A tag group (the cursor after the tag's name and, in DM4, its size).
        mutating func group(depth: Int) throws -> Group {
            guard depth <= DMTagTree.maximumDepth else {
                throw corrupt("groups nested deeper than \(DMTagTree.maximumDepth) levels at offset \(cursor.position)")
            }
            _ = try cursor.array(2, "a tag group's flags")
            let countAt = cursor.position
            let count = try word("a tag group's tag count")
            // Every tag takes at least 3 bytes: a count beyond that is a lie, told at once.
            guard count <= cursor.remaining / 3 else {
                throw corrupt("a group at offset \(countAt) claims \(count) tags in the \(cursor.remaining) bytes left")
            }
            var entries = [Entry]()
            entries.reserveCapacity(Swift.min(count, 256))
            for _ in 0..<count {
                entries.append(try entry(depth: depth))
            }
            return Group(entries: entries)
        }

        /// One tag of a group at `depth`.
        mutating func entry(depth: Int) throws -> Entry {
            tagCount += 1
            guard tagCount <= DMTagTree.maximumTags else {
                throw corrupt("more than \(DMTagTree.maximumTags) tags")
            }
            let at = cursor.position
            let kind = try cursor.integer(UInt8.self, "a tag's kind")
            let nameLength = Int(try cursor.integer(UInt16.self, "a tag's name length"))
            let tagName = Self.decodeName(try cursor.slice(nameLength, "a tag name"))
            if wide { _ = try cursor.integer(UInt64.self, "a tag's size") }
            switch kind {
            case 20:
                return Entry(name: tagName, content: .group(try group(depth: depth + 1)))
            case 21:
                return Entry(name: tagName, content: .data(try data(tagName)))
            default:
                throw corrupt("tag kind \(kind) at offset \(at) (expected 20, a group, or 21, data)")
            }
        }

        /// A data tag's type description and the place of its bytes.
        mutating func data(_ tagName: String) throws -> Value {
            let at = cursor.position
            guard Array(try cursor.slice(4, "a data tag's %%%% mark")) == Array("%%%%".utf8) else {
                throw corrupt("data tag '\(DMTagTree.printable(tagName))' at offset \(at) lacks its %%%% mark")
            }
            let width = wide ? 8 : 4
            let wordCount = try word("the length of a type description")
            guard wordCount >= 1, wordCount <= cursor.remaining / width else {
                throw corrupt("data tag '\(DMTagTree.printable(tagName))' at offset \(at) has a type description of \(wordCount) words")
            }
            var words = [Int]()
            words.reserveCapacity(wordCount)
            for _ in 0..<wordCount { words.append(try word("a type description word")) }
            var index = 0
            let type = try description(words, &index, depth: 0, tagName)
            guard index == words.count else {
                throw corrupt("data tag '\(DMTagTree.printable(tagName))' has a type description of \(words.count) words, of which \(index) describe its type")
            }
            let length = try type.byteCount("\(name): data tag '\(DMTagTree.printable(tagName))'")
            let offset = cursor.position
            try cursor.skip(length, "the data of tag '\(DMTagTree.printable(tagName))'")
            switch type {
            case .simple(let element): return .simple(element, offset: offset)
            case .string(let length): return .string(offset: offset, length: length)
            case .array(.simple(let element), let count): return .array(element, count: count, offset: offset)
            default: return .composite(offset: offset, length: length)
            }
        }

        /// Decodes the type description starting at `words[index]`.
        func description(_ words: [Int], _ index: inout Int, depth: Int, _ tagName: String) throws -> TypeDescription {
            guard depth <= DMTagTree.maximumTypeDepth else {
                throw corrupt("data tag '\(DMTagTree.printable(tagName))' nests its type deeper than \(DMTagTree.maximumTypeDepth) levels")
            }
            func next() throws -> Int {
                guard index < words.count else {
                    throw corrupt("data tag '\(DMTagTree.printable(tagName))' has a type description cut short after \(words.count) words")
                }
                defer { index += 1 }
                return words[index]
            }
            func simple(_ code: Int) throws -> ElementType {
                guard let type = ElementType(rawValue: code) else {
                    throw corrupt("data tag '\(DMTagTree.printable(tagName))' has an unknown type \(code)")
                }
                return type
            }
            let code = try next()
            switch code {
            case 15:
                _ = try next() // the struct's name length (names are not stored)
                let fieldCount = try next()
                guard fieldCount <= (words.count - index) / 2 else {
                    throw corrupt("data tag '\(DMTagTree.printable(tagName))' claims a struct of \(fieldCount) fields in a description of \(words.count) words")
                }
                var fields = [ElementType]()
                for _ in 0..<fieldCount {
                    _ = try next() // the field's name length
                    fields.append(try simple(try next()))
                }
                return .structure(fields)
            case 18:
                return .string(length: try next())
            case 20:
                let element = try description(words, &index, depth: depth + 1, tagName)
                return .array(element, count: try next())
            default:
                return .simple(try simple(code))
            }
        }

        /// A tag name: UTF-8, or Latin-1 when it is not UTF-8.
        static func decodeName(_ bytes: UnsafeRawBufferPointer) -> String {
            if let utf8 = String(validating: bytes, as: UTF8.self) { return utf8 }
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
    }
}
