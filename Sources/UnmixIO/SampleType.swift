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

extension SampleType {
    /// The warning for integers of this type read as float32 when the largest magnitude read
    /// reaches 2²⁴ (above it, not every integer has a float32), or nil. Every reader uses this
    /// one wording.
    public func precisionWarning(largest: Float, file: String) -> String? {
        guard isInteger, mayLosePrecision, largest >= 16_777_216 else { return nil }
        return "\(file): \(rawValue) values reach \(formatNumber(Double(largest))): integers above 2^24 lose precision as float32"
    }

    /// The same, after scanning `values` for their largest magnitude (only for the types that
    /// can lose precision).
    public func precisionWarning(_ values: UnsafeBufferPointer<Float>, file: String) -> String? {
        guard isInteger, mayLosePrecision else { return nil }
        return precisionWarning(largest: values.reduce(Float(0)) { Swift.max($0, abs($1)) }, file: file)
    }
}

/// The order of the bytes of a multi-byte sample.
public enum ByteOrder: String, Codable, Sendable {
    case little, big

    /// This machine's order.
    public static var native: ByteOrder { 1.littleEndian == 1 ? .little : .big }
}
