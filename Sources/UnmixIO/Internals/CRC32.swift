/// CRC-32 as zlib, PNG and Ethernet compute it (IEEE 802.3: the reflected polynomial
/// 0xEDB88320, initial value and final xor 0xFFFFFFFF), one byte at a time from a 256-entry
/// table. Check value: CRC-32 of the ASCII bytes "123456789" is 0xCBF43926.
///
/// Used for the trailing checksum of model files: any burst of up to 32 flipped bits, so any
/// single damaged byte, changes it.
struct CRC32: Sendable {
    private(set) var value: UInt32 = 0

    init() {}

    /// The table of the reflected polynomial: entry n is the CRC register after shifting the
    /// byte n through it.
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// Feeds `bytes` (in order; the checksum of a file fed in pieces is the checksum of the whole).
    mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if bytes.withContiguousStorageIfAvailable({ update(buffer: $0) }) != nil { return }
        var c = ~value
        Self.table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        value = ~c
    }

    /// The loop over contiguous bytes (arrays, slices, `Data`): no generic iteration.
    private mutating func update(buffer: UnsafeBufferPointer<UInt8>) {
        var c = ~value
        Self.table.withUnsafeBufferPointer { t in
            for b in buffer { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        value = ~c
    }

    /// The CRC-32 of `bytes`.
    static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
