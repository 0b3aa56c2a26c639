import Foundation

/// The structure of an FEI/Thermo TIA `.ser` file: a series of elements (spectra or images),
/// one per scan position, with the dimension array that says how the positions are arranged.
///
/// Layout (little-endian; every field read through `ByteCursor`): byte order `0x4949`, series
/// id `0x0197`, version (`0x0210`: 4-byte offsets, `0x0220`: 8-byte offsets), data type id
/// (`0x4120` 1-D arrays, `0x4122` 2-D arrays), tag type id (`0x4152` time, `0x4142` time and
/// position), total and valid element counts, the offset of the offset arrays, the number of
/// dimensions, then per dimension: size, calibration offset, delta and element, description
/// and units (length-prefixed strings). The offset arrays list, for every element, where its
/// data and its tag start; each element carries its own calibration, data type and size.
public struct SERFile {
    /// What one element holds.
    public enum Kind: Sendable, Equatable {
        case spectra
        case images
    }

    /// A navigation dimension of the series (the scan's rows or columns, or a time series).
    public struct Dimension: Sendable, Equatable {
        public var size: Int
        public var calibrationOffset: Double
        public var calibrationDelta: Double
        /// The index whose value is `calibrationOffset`.
        public var calibrationElement: Int
        public var description: String
        public var units: String

        /// The value of index 0.
        public var firstValue: Double { calibrationOffset - Double(calibrationElement) * calibrationDelta }
    }

    /// One calibration of an element's array: value of index i = offset + (i − element) · delta.
    public struct Calibration: Sendable, Equatable {
        public var offset: Double
        public var delta: Double
        public var element: Int

        /// The value of index 0.
        public var firstValue: Double { offset - Double(element) * delta }
    }

    /// An element's header: where its samples are, their type, and its calibration(s).
    public struct Element: Sendable, Equatable {
        /// Byte offset of the first sample.
        public var dataOffset: Int
        public var type: SampleType
        /// Spectra: channels (sizeY = 1). Images: columns × rows.
        public var sizeX: Int
        public var sizeY: Int
        public var calibrationX: Calibration
        /// Images only (the calibration of spectra is `calibrationX`).
        public var calibrationY: Calibration?
    }

    /// What an element's tag says of where the beam was (tag type `0x4142`).
    public struct Position: Sendable, Equatable {
        public var x: Double
        public var y: Double
    }

    public static let byteOrderMark: UInt16 = 0x4949
    public static let seriesID: UInt16 = 0x0197
    public static let spectrumTypeID: UInt32 = 0x4120
    public static let imageTypeID: UInt32 = 0x4122
    public static let timeTagID: UInt32 = 0x4152
    public static let positionTagID: UInt32 = 0x4142

    /// TIA's element data types: 1–3 unsigned 8/16/32-bit, 4–6 signed 8/16/32-bit, 7–8 float
    /// 32/64-bit (9 and 10 are complex and not read).
    public static let sampleTypes: [UInt16: SampleType] = [
        1: .uint8, 2: .uint16, 3: .uint32, 4: .int8, 5: .int16, 6: .int32, 7: .float32, 8: .float64,
    ]

    public var version: Int
    public var kind: Kind
    public var tagType: UInt32
    public var totalElements: Int
    public var validElements: Int
    public var dimensions: [Dimension]
    /// The start of every valid element, in acquisition order.
    public var dataOffsets: [Int]
    /// The start of every valid element's tag.
    public var tagOffsets: [Int]
    /// Width of the offsets: 4 (version 0x0210) or 8 (0x0220).
    public var offsetSize: Int

    /// Whether `head` starts like a `.ser` file.
    public static func hasSignature(_ head: [UInt8]) -> Bool {
        head.count >= 6 && head[0] == 0x49 && head[1] == 0x49 && head[2] == 0x97 && head[3] == 0x01 && head[5] == 0x02
    }

    /// Parses the series header, its dimensions and its offset arrays.
    ///
    /// - Throws: `UnmixError` naming `name` when a field lies past the end, the byte order,
    ///   series id or data type is not TIA's, or the counts contradict each other.
    public init(_ bytes: UnsafeRawBufferPointer, name: String) throws {
        var cursor = ByteCursor(bytes, name: name)
        let mark = try cursor.integer(UInt16.self, "the byte order")
        guard mark == Self.byteOrderMark else {
            throw UnmixError("\(name): not a TIA .ser file (byte order mark 0x\(String(mark, radix: 16)), expected 0x4949)")
        }
        let series = try cursor.integer(UInt16.self, "the series id")
        guard series == Self.seriesID else {
            throw UnmixError("\(name): not a TIA .ser file (series id 0x\(String(series, radix: 16)), expected 0x197)")
        }
        version = Int(try cursor.integer(UInt16.self, "the version"))
        offsetSize = version <= 0x0210 ? 4 : 8
        let dataType = try cursor.integer(UInt32.self, "the data type id")
        switch dataType {
        case Self.spectrumTypeID: kind = .spectra
        case Self.imageTypeID: kind = .images
        default:
            throw UnmixError("\(name): TIA data type id 0x\(String(dataType, radix: 16)) is neither 0x4120 (spectra) nor 0x4122 (images)")
        }
        tagType = try cursor.integer(UInt32.self, "the tag type id")
        totalElements = Int(try cursor.integer(UInt32.self, "the total number of elements"))
        validElements = Int(try cursor.integer(UInt32.self, "the number of valid elements"))
        guard validElements <= totalElements else {
            throw UnmixError("\(name): \(validElements) valid elements of \(totalElements): more valid elements than elements")
        }
        guard validElements > 0 else {
            throw UnmixError("\(name): the series holds no valid element (a single spectrum kept in the .emi is not read)")
        }
        let width = offsetSize
        let arraysAt = try Self.readOffset(&cursor, width: width, "the offset array's offset")
        let count = Int(try cursor.integer(UInt32.self, "the number of dimensions"))
        guard count <= 8 else { throw UnmixError("\(name): \(count) dimensions: a TIA series has at most a few") }
        var dimensions = [Dimension]()
        for d in stride(from: 1, through: count, by: 1) {
            let size = Int(try cursor.integer(UInt32.self, "dimension \(d)'s size"))
            let offset = try cursor.float64("dimension \(d)'s calibration")
            let delta = try cursor.float64("dimension \(d)'s calibration")
            let element = Int(try cursor.integer(UInt32.self, "dimension \(d)'s calibration element"))
            let description = try Self.string(&cursor, "dimension \(d)'s description")
            let units = try Self.string(&cursor, "dimension \(d)'s units")
            dimensions.append(Dimension(size: size, calibrationOffset: offset, calibrationDelta: delta, calibrationElement: element,
                                        description: description, units: units))
        }
        self.dimensions = dimensions

        // The data offsets of all elements, then their tag offsets.
        let arrayBytes = try totalElements.checkedTimes(offsetSize, name)
        try cursor.require(try arrayBytes.checkedTimes(2, name), at: arraysAt, "the offset arrays of \(totalElements) elements")
        let valid = validElements
        func offsets(at start: Int, _ what: String) throws -> [Int] {
            try cursor.seek(to: start)
            return try (0..<valid).map { i in try Self.readOffset(&cursor, width: width, "\(what) \(i)") }
        }
        dataOffsets = try offsets(at: arraysAt, "the data offset of element")
        tagOffsets = try offsets(at: arraysAt + arrayBytes, "the tag offset of element")
    }

    /// Reads an offset of the version's width; refused when it does not fit an Int.
    private static func readOffset(_ cursor: inout ByteCursor, width: Int, _ what: String) throws -> Int {
        if width == 4 { return Int(try cursor.integer(UInt32.self, what)) }
        let wide = try cursor.integer(UInt64.self, what)
        guard wide <= UInt64(Int.max) else { throw UnmixError("\(cursor.name): \(what) \(wide) lies past any file") }
        return Int(wide)
    }

    /// A string preceded by its length (UInt32), as Latin-1.
    private static func string(_ cursor: inout ByteCursor, _ what: String) throws -> String {
        let length = Int(try cursor.integer(UInt32.self, "\(what)'s length"))
        return TextHeader.decode(try cursor.array(length, what)).trimmingCharacters(in: CharacterSet(charactersIn: "\0"))
    }

    /// Reads the header of element `index` (its calibration, type and size).
    ///
    /// - Throws: `UnmixError` when the header lies past the end or names a type TIA does not
    ///   define (complex types are refused with their own line).
    public func element(_ index: Int, in bytes: UnsafeRawBufferPointer, name: String) throws -> Element {
        guard dataOffsets.indices.contains(index) else { throw UnmixError("\(name): no element \(index)") }
        var cursor = ByteCursor(bytes, name: name)
        try cursor.seek(to: dataOffsets[index], "element \(index)")
        func calibration() throws -> Calibration {
            let offset = try cursor.float64("element \(index)'s calibration")
            let delta = try cursor.float64("element \(index)'s calibration")
            let element = Int(try cursor.integer(UInt32.self, "element \(index)'s calibration element"))
            return Calibration(offset: offset, delta: delta, element: element)
        }
        let x = try calibration()
        let y = kind == .images ? try calibration() : nil
        let code = try cursor.integer(UInt16.self, "element \(index)'s data type")
        if code == 9 || code == 10 {
            throw UnmixError("\(name): element \(index) holds complex samples (TIA data type \(code)): unmix reads real-valued data")
        }
        guard let type = Self.sampleTypes[code] else {
            throw UnmixError("\(name): element \(index) has data type \(code), not one of TIA's (1–8)")
        }
        let sizeX = Int(try cursor.integer(UInt32.self, "element \(index)'s size"))
        let sizeY = kind == .images ? Int(try cursor.integer(UInt32.self, "element \(index)'s size")) : 1
        return Element(dataOffset: cursor.position, type: type, sizeX: sizeX, sizeY: sizeY, calibrationX: x, calibrationY: y)
    }

    /// The beam positions of every valid element, when the tags carry them (tag type
    /// `0x4142`) and all lie inside the file; nil otherwise.
    public func positions(in bytes: UnsafeRawBufferPointer, name: String, limit: Int? = nil) -> [Position]? {
        guard tagType == Self.positionTagID else { return nil }
        var cursor = ByteCursor(bytes, name: name)
        var positions = [Position]()
        for offset in tagOffsets.prefix(limit ?? tagOffsets.count) {
            guard (try? cursor.seek(to: offset)) != nil,
                  let id = try? cursor.integer(UInt16.self), UInt32(id) == Self.positionTagID,
                  (try? cursor.skip(6)) != nil,
                  let x = try? cursor.float64(), let y = try? cursor.float64() else { return nil }
            positions.append(Position(x: x, y: y))
        }
        return positions
    }
}
