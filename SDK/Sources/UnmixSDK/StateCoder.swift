/// Little-endian `Double` arrays as bytes: the simplest state format for plugins whose model
/// is a few matrices (write the shapes first, then the values).
public enum StateCoder {
    public static func encode(_ values: [Double]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> [Double] {
        guard bytes.count % 8 == 0 else {
            throw PluginError.invalidArgument("state of \(bytes.count) bytes is not a list of doubles")
        }
        return stride(from: 0, to: bytes.count, by: 8).map { i in
            bytes[i..<(i + 8)].withUnsafeBytes { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        }
    }
}
