/// An attribute value (or a small dataset's content), as far as our readers and writers need
/// one: strings, numbers, booleans and 1-D number arrays; anything else is `other`, described
/// for messages.
enum HDF5Value: Equatable {
    case string(String)
    case integer(Int64)
    case double(Double)
    /// Written as h5py writes NumPy booleans (an 8-bit enum FALSE = 0, TRUE = 1); read back as
    /// `integer` (an enum is read as its integer value).
    case bool(Bool)
    case doubles([Double])
    /// A value of a kind we do not read (a compound, a reference, several strings, …).
    case other(String)

    /// The value as a string, when it is one.
    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as a number: integers, doubles, booleans, and one-element arrays.
    var number: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .double(let value): return value
        case .bool(let value): return value ? 1 : 0
        case .doubles(let values) where values.count == 1: return values[0]
        default: return nil
        }
    }

    /// How the value reads in a message.
    var description: String {
        switch self {
        case .string(let text): return "'\(text)'"
        case .integer(let value): return String(value)
        case .double(let value): return formatNumber(value)
        case .bool(let value): return value ? "True" : "False"
        case .doubles(let values): return "an array of \(values.count) numbers"
        case .other(let what): return what
        }
    }
}
