// Test support only: writes FEI/Thermo TIA `.ser` files with known values, so that the reader's
// pixel order, types, offsets and calibrations can be proved (the real file's counts are all 0).
import Foundation

/// A `.ser` file to write: the series header, its dimension array, the offset arrays, then
/// every element (its header, its samples) followed by its tag, with `padding` bytes after each.
struct SERTestWriter {
    enum Kind { case spectra, images }

    struct Dimension {
        var size: Int
        var offset = 0.0
        var delta = 1.0
        var element: UInt32 = 0
        var description = ""
        var units = ""
    }

    var kind: Kind = .spectra
    /// 0x0210 writes 4-byte offsets, 0x0220 8-byte ones.
    var version: UInt16 = 0x0220
    var dimensions: [Dimension] = []
    /// The samples of every valid element (images: sizeX × sizeY, x fastest, as stored).
    var elements: [[Double]] = []
    /// TIA data type code of each element (1–8; 9, 10 complex); one code for all when a single one.
    var types: [UInt16] = [2]
    /// The element calibration (spectra: energy; images: x).
    var calibration = (offset: 0.0, delta: 1.0, element: UInt32(0))
    var calibrationY = (offset: 0.0, delta: 1.0, element: UInt32(0))
    var imageSize = (x: 1, y: 1)
    /// Beam positions per element: tag type 0x4142; nil: time tags (0x4152).
    var positions: [(x: Double, y: Double)]?
    /// TotalNumberElements; the element count when nil.
    var totalElements: Int?
    /// Bytes after every element's tag (to make element strides whole samples or not).
    var padding = 0
    /// The channel count written in element `i`'s header, when it should lie.
    var lengthOverride: [Int: Int] = [:]

    func type(of element: Int) -> UInt16 { types.count == 1 ? types[0] : types[element % types.count] }

    static func sampleSize(_ code: UInt16) -> Int {
        switch code {
        case 1, 4: return 1
        case 2, 5: return 2
        case 3, 6, 7: return 4
        default: return 8
        }
    }

    func bytes() -> [UInt8] {
        let wide = version > 0x0210
        let total = totalElements ?? elements.count
        let tagged = positions != nil
        var head = ByteWriter()
        head.append(UInt16(0x4949))
        head.append(UInt16(0x0197))
        head.append(version)
        head.append(UInt32(kind == .spectra ? 0x4120 : 0x4122))
        head.append(UInt32(tagged ? 0x4142 : 0x4152))
        head.append(UInt32(total))
        head.append(UInt32(elements.count))
        let arraysAtPlaceholder = head.bytes.count
        if wide { head.append(UInt64(0)) } else { head.append(UInt32(0)) }
        head.append(UInt32(dimensions.count))
        for d in dimensions {
            head.append(UInt32(d.size))
            head.append(d.offset)
            head.append(d.delta)
            head.append(d.element)
            head.append(UInt32(d.description.utf8.count))
            head.append(d.description)
            head.append(UInt32(d.units.utf8.count))
            head.append(d.units)
        }
        let arraysAt = head.bytes.count
        let width = wide ? 8 : 4
        let cursor = arraysAt + 2 * total * width
        var dataOffsets = [Int](), tagOffsets = [Int]()
        var body = ByteWriter()
        for (i, samples) in elements.enumerated() {
            dataOffsets.append(cursor + body.bytes.count)
            body.append(calibration.offset)
            body.append(calibration.delta)
            body.append(calibration.element)
            if kind == .images {
                body.append(calibrationY.offset)
                body.append(calibrationY.delta)
                body.append(calibrationY.element)
            }
            let code = type(of: i)
            body.append(code)
            if kind == .spectra {
                body.append(UInt32(lengthOverride[i] ?? samples.count))
            } else {
                body.append(UInt32(imageSize.x))
                body.append(UInt32(imageSize.y))
            }
            for v in samples {
                switch code {
                case 1: body.append(UInt8(v))
                case 2: body.append(UInt16(v))
                case 3: body.append(UInt32(v))
                case 4: body.append(Int8(v))
                case 5: body.append(Int16(v))
                case 6: body.append(Int32(v))
                case 7: body.append(Float(v))
                case 8: body.append(v)
                default: body.append(Float(v)); body.append(Float(0))   // complex: (re, im)
                }
            }
            tagOffsets.append(cursor + body.bytes.count)
            body.append(UInt16(tagged ? 0x4142 : 0x4152))
            body.append(UInt16(0))
            body.append(UInt32(1_456_169_585 + i))
            if let positions, i < positions.count {
                body.append(positions[i].x)
                body.append(positions[i].y)
            }
            body.bytes += [UInt8](repeating: 0xAB, count: padding)
        }
        var arrays = ByteWriter()
        for list in [dataOffsets, tagOffsets] {
            for k in 0..<total {
                let value = k < list.count ? list[k] : 0
                if wide { arrays.append(UInt64(value)) } else { arrays.append(UInt32(value)) }
            }
        }
        var out = head.bytes
        let placeholder = wide ? withUnsafeBytes(of: UInt64(arraysAt).littleEndian) { Array($0) }
                               : withUnsafeBytes(of: UInt32(arraysAt).littleEndian) { Array($0) }
        out.replaceSubrange(arraysAtPlaceholder..<(arraysAtPlaceholder + width), with: placeholder)
        return out + arrays.bytes + body.bytes
    }

    /// A spectrum image of `rows` × `cols` pixels of `bands` channels whose sample (r, c, b) is
    /// `value(r, c, b)`, scanned row by row (x fastest) with beam positions, dimension 1 = x.
    static func map(rows: Int, cols: Int, bands: Int, version: UInt16 = 0x0220, types: [UInt16] = [2],
                    value: (Int, Int, Int) -> Double) -> SERTestWriter {
        var w = SERTestWriter()
        w.version = version
        w.types = types
        w.dimensions = [
            Dimension(size: cols, offset: 1e-9, delta: 2e-9, element: 0, description: "Position", units: "meters"),
            Dimension(size: rows, offset: 5e-9, delta: -1e-9, element: 3, description: "Position", units: "meters"),
        ]
        w.calibration = (offset: 100, delta: 0.5, element: 0)
        for r in 0..<rows { for c in 0..<cols { w.elements.append((0..<bands).map { value(r, c, $0) }) } }
        w.positions = (0..<(rows * cols)).map { e in (x: Double(e % cols) * 2e-9, y: -Double(e / cols) * 1e-9) }
        return w
    }
}
