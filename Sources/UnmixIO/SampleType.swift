/// The type of one stored sample, as a file declares it. Every type is converted to Float32
/// when read (the type plugins see); `Dataset.dtype` keeps what the file held.
public enum SampleType: String, Codable, CaseIterable, Sendable {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64
    case float16, float32, float64

    /// Bytes per sample.
    public var size: Int {
        switch self {
        case .int8, .uint8: return 1
        case .int16, .uint16, .float16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    public var isInteger: Bool {
        switch self {
        case .float16, .float32, .float64: return false
        default: return true
        }
    }

    /// Whether some values of this type cannot be held exactly by a Float32 (integers above
    /// 2²⁴ in magnitude, and float64).
    public var mayLosePrecision: Bool {
        switch self {
        case .int32, .uint32, .int64, .uint64, .float64: return true
        default: return false
        }
    }
}

/// The order of the bytes of a multi-byte sample.
public enum ByteOrder: String, Codable, Sendable {
    case little, big

    /// This machine's order.
    public static var native: ByteOrder { 1.littleEndian == 1 ? .little : .big }
}
