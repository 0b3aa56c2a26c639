/// A position in a block of bytes, reading fixed-width values in a chosen byte order.
/// Every read is checked against the end: a file that lies about its sizes gets an
/// `UnmixError` naming it, never a read past the end.
public struct ByteCursor {
    public let bytes: UnsafeRawBufferPointer
    /// Where the next read starts, from the start of `bytes`.
    public var position: Int
    public var order: ByteOrder
    /// The file name, for error messages.
    public let name: String

    public init(_ bytes: UnsafeRawBufferPointer, name: String, order: ByteOrder = .little, position: Int = 0) {
        self.bytes = bytes
        self.name = name
        self.order = order
        self.position = position
    }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position >= bytes.count }

    /// Throws unless `count` bytes can be read at `offset`.
    public func require(_ count: Int, at offset: Int, _ what: String) throws {
        guard count >= 0, offset >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw UnmixError("\(name): truncated or corrupt: \(what) needs \(count) bytes at offset \(offset), the file has \(bytes.count)")
        }
    }

    public mutating func seek(to offset: Int, _ what: String = "a seek") throws {
        try require(0, at: offset, what)
        position = offset
    }

    public mutating func skip(_ count: Int, _ what: String = "skipped bytes") throws {
        try require(count, at: position, what)
        position += count
    }

    public mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self, _ what: String = "a field") throws -> T {
        try require(MemoryLayout<T>.size, at: position, what)
        let raw = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
        position += MemoryLayout<T>.size
        return order == .little ? T(littleEndian: raw) : T(bigEndian: raw)
    }

    public mutating func float32(_ what: String = "a field") throws -> Float {
        Float(bitPattern: try integer(UInt32.self, what))
    }

    public mutating func float64(_ what: String = "a field") throws -> Double {
        Double(bitPattern: try integer(UInt64.self, what))
    }

    /// The next `count` bytes, in place.
    public mutating func slice(_ count: Int, _ what: String = "a block") throws -> UnsafeRawBufferPointer {
        try require(count, at: position, what)
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    /// The next `count` bytes as an array.
    public mutating func array(_ count: Int, _ what: String = "a block") throws -> [UInt8] {
        Array(try slice(count, what))
    }
}

extension Int {
    /// `self · other`, or an `UnmixError` naming `what` when the product overflows or a factor
    /// is negative (sizes read from files go through this before anything is allocated).
    public func checkedTimes(_ other: Int, _ what: @autoclosure () -> String) throws -> Int {
        guard self >= 0, other >= 0 else { throw UnmixError("\(what()): negative size (\(self) × \(other))") }
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard !overflow else { throw UnmixError("\(what()): size \(self) × \(other) overflows") }
        return product
    }
}
