import UnmixNumerics

/// Little-endian `Double` arrays as bytes: the simplest state format for plugins whose model
/// is a few matrices (write the shapes first, then the values).
public enum StateCoder {
    public static func encode(_ values: [Double]) -> [UInt8] {
        #if _endian(big)
        let values = values.map { Double(bitPattern: $0.bitPattern.littleEndian) }
        #endif
        return values.withUnsafeBytes { Array($0) }
    }

    /// A matrix as its shape, then its values (row-major): what `StateReader.matrix()` reads.
    public static func encode(_ matrix: Matrix) -> [UInt8] {
        encode([Double(matrix.rows), Double(matrix.cols)] + matrix.storage)
    }

    public static func decode(_ bytes: [UInt8]) throws -> [Double] {
        guard bytes.count % 8 == 0 else {
            throw PluginError.invalidArgument("state of \(bytes.count) bytes is not a list of doubles")
        }
        var values = [Double](repeating: 0, count: bytes.count / 8)
        bytes.withUnsafeBytes { source in values.withUnsafeMutableBytes { $0.copyMemory(from: source) } }
        #if _endian(big)
        values = values.map { Double(bitPattern: UInt64(littleEndian: $0.bitPattern)) }
        #endif
        return values
    }
}

/// Reads a state written by `StateCoder.encode` front to back. Whatever does not fit — too few
/// values, a size that is not a positive integer, values left over — throws
/// `PluginError.invalidArgument` naming the plugin: a truncated or altered model file is refused
/// with one line, never a trap.
///
///     var state = try StateReader(bytes, plugin: "VCA")
///     let (rows, cols) = (try state.size(), try state.size())
///     endmembers = Matrix(rows: rows, cols: cols, storage: try state.values(rows * cols))
///     try state.finish()
public struct StateReader {
    private let values: [Double]
    /// The plugin's name, for error messages.
    public let plugin: String
    private var position = 0

    public init(_ bytes: [UInt8], plugin: String) throws {
        values = try StateCoder.decode(bytes)
        self.plugin = plugin
    }

    private func refuse(_ what: String) -> PluginError {
        PluginError.invalidArgument("\(plugin) state: \(what) at value \(position + 1) of \(values.count); not a state this plugin saved")
    }

    /// The next value as an integer in `range`.
    public mutating func integer(in range: ClosedRange<Int>) throws -> Int {
        guard position < values.count, let v = Int(exactly: values[position]), range.contains(v) else {
            throw refuse("expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        position += 1
        return v
    }

    /// The next value as a size: a positive integer no larger than the number of values in the
    /// state (so products of sizes cannot overflow).
    public mutating func size() throws -> Int { try integer(in: 1...max(1, values.count)) }

    /// The next two values as a number of bands and a number of endmembers R, 1 ≤ R < bands (as
    /// `fit` requires).
    public mutating func bandsAndEndmembers() throws -> (bands: Int, r: Int) {
        let bands = try size()
        return (bands, try integer(in: 1...max(1, bands - 1)))
    }

    /// The next value, which must be finite and positive (a scale).
    public mutating func positive() throws -> Double {
        guard position < values.count, values[position].isFinite, values[position] > 0 else {
            throw refuse("expected a positive number")
        }
        position += 1
        return values[position - 1]
    }

    /// The next `count` values.
    public mutating func values(_ count: Int) throws -> [Double] {
        guard count >= 0, count <= values.count - position else { throw refuse("expected \(count) more values") }
        position += count
        return Array(values[(position - count)..<position])
    }

    /// A matrix written by `StateCoder.encode(_: Matrix)`: its two sizes, then its values.
    public mutating func matrix() throws -> Matrix {
        let (rows, cols) = (try size(), try size())
        return Matrix(rows: rows, cols: cols, storage: try values(rows * cols))
    }

    /// The values not read yet.
    public var unread: ArraySlice<Double> { values[position...] }

    /// Every value not read yet (consumes them).
    public mutating func rest() -> [Double] {
        defer { position = values.count }
        return Array(unread)
    }

    /// Throws when values are left over.
    public func finish() throws {
        guard position == values.count else { throw refuse("\(values.count - position) values left over") }
    }
}
