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

/// The SDK's wrapping of a plugin's state: what `unmix.state/2`'s `save` writes and `load`
/// accepts, so that the SDK knows R and the bands of a restored model without asking the plugin,
/// and refuses altered bytes before the plugin parses them.
///
///     offset  0  4 bytes  magic "UXST"
///             4  u32      envelope version (1)
///             8  u32      R, ≥ 1
///            12  u32      bands, > R
///            16  u64      payload length n
///            24  n bytes  the plugin's own state (`StatefulUnmixer.saveState()`)
///        24 + n  u64      FNV-1a (64-bit) of the plugin's id, a zero byte, then bytes 0 ..< 24 + n
///
/// All numbers are little-endian. The envelope is checked whole before the plugin sees the
/// payload: a truncated or extended state, an altered byte anywhere, or a state saved by another
/// plugin (whose id seeds a different checksum) is refused without reading further.
struct StateEnvelope: Equatable {
    var r: Int
    var bands: Int
    var payload: [UInt8]

    static let magic: [UInt8] = Array("UXST".utf8)
    static let version: UInt32 = 1
    static let headerSize = 24
    static let trailerSize = 8

    init(r: Int, bands: Int, payload: [UInt8]) {
        self.r = r
        self.bands = bands
        self.payload = payload
    }

    /// FNV-1a over `id`, a zero byte, then `bytes`: a checksum that any single changed byte
    /// changes (each step is a bijection of the running value).
    static func checksum(id: String, _ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in Array(id.utf8) + [0] { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    func encoded(plugin id: String) -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.headerSize + payload.count + Self.trailerSize)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        put(Self.version)
        put(UInt32(r))
        put(UInt32(bands))
        put(UInt64(payload.count))
        out += payload
        put(Self.checksum(id: id, out[...]))
        return out
    }

    /// The envelope in `bytes`, saved by the plugin `id` (named `name` in messages), or a
    /// `PluginError.invalidArgument` saying what is wrong.
    init(decoding bytes: [UInt8], plugin id: String, name: String) throws {
        func refuse(_ what: String) -> PluginError {
            PluginError.invalidArgument("\(name) state: \(what); not a state this plugin saved")
        }
        func integer(at offset: Int, width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
        }
        let overhead = Self.headerSize + Self.trailerSize
        guard bytes.count >= overhead else { throw refuse("\(bytes.count) bytes, shorter than the SDK's envelope") }
        guard Array(bytes[0..<4]) == Self.magic else { throw refuse("no SDK envelope") }
        let (version, r, bands) = (integer(at: 4, width: 4), integer(at: 8, width: 4), integer(at: 12, width: 4))
        let length = integer(at: 16, width: 8)
        guard version == UInt64(Self.version) else { throw refuse("envelope version \(version), this SDK reads \(Self.version)") }
        guard r >= 1, bands > r else { throw refuse("R = \(r) and \(bands) bands (need 1 ≤ R < bands)") }
        let available = UInt64(bytes.count - overhead)
        guard length == available else { throw refuse("a payload of \(length) bytes announced, \(available) present") }
        let end = bytes.count - Self.trailerSize
        guard integer(at: end, width: 8) == Self.checksum(id: id, bytes[..<end]) else {
            throw refuse("the checksum does not match (altered, or saved by another plugin)")
        }
        self.r = Int(r)
        self.bands = Int(bands)
        self.payload = Array(bytes[Self.headerSize..<end])
    }
}
