import Foundation
import Testing
import UnmixIO
import _TestSupport

/// `RawLayout.decode`: every interleave, pixel order, sample type and byte order against a
/// cube whose values say where they belong, encoded by the index formulas of each layout.
@Suite struct RawLayoutTests {
    /// The value of (row, col, band) in the reference cube: distinct and exact in every type.
    static func value(_ r: Int, _ c: Int, _ b: Int) -> Int { r * 100 + c * 10 + b + 1 }

    /// The sample index of (r, c, b) in a `rows` × `cols` × `bands` block, written out per layout.
    static func index(_ r: Int, _ c: Int, _ b: Int, rows: Int, cols: Int, bands: Int,
                      _ interleave: RawLayout.Interleave, _ order: RawLayout.PixelOrder) -> Int {
        switch (interleave, order) {
        case (.bip, .rowMajor): return (r * cols + c) * bands + b
        case (.bil, .rowMajor): return (r * bands + b) * cols + c
        case (.bsq, .rowMajor): return (b * rows + r) * cols + c
        case (.bip, .columnMajor): return (c * rows + r) * bands + b
        case (.bil, .columnMajor): return (c * bands + b) * rows + r
        case (.bsq, .columnMajor): return (b * cols + c) * rows + r
        }
    }

    static func bytes(of v: Int, _ type: SampleType, _ order: ByteOrder) -> [UInt8] {
        var little: [UInt8]
        switch type {
        case .int8, .uint8: little = [UInt8(truncatingIfNeeded: v)]
        case .int16, .uint16: little = withUnsafeBytes(of: UInt16(v).littleEndian, Array.init)
        case .int32, .uint32: little = withUnsafeBytes(of: UInt32(v).littleEndian, Array.init)
        case .int64, .uint64: little = withUnsafeBytes(of: UInt64(v).littleEndian, Array.init)
        case .float16: little = withUnsafeBytes(of: Float16(Float(v)).bitPattern.littleEndian, Array.init)
        case .float32: little = withUnsafeBytes(of: Float(v).bitPattern.littleEndian, Array.init)
        case .float64: little = withUnsafeBytes(of: Double(v).bitPattern.littleEndian, Array.init)
        }
        return order == .little ? little : little.reversed()
    }

    static let cases: [(RawLayout.Interleave, RawLayout.PixelOrder)] = [
        (.bip, .rowMajor), (.bil, .rowMajor), (.bsq, .rowMajor), (.bip, .columnMajor), (.bil, .columnMajor), (.bsq, .columnMajor),
    ]

    @Test(arguments: SampleType.allCases)
    func everyLayoutOrderAndByteOrderDecodes(_ type: SampleType) throws {
        // Values the type holds exactly.
        let modulus = type.size == 1 ? 100 : (type == .float16 ? 2048 : 1 << 30)
        // A non-square map, more columns than 256 in one case so that the tiled path splits.
        for (rows, cols, bands) in [(3, 5, 7), (2, 300, 3), (1, 1, 70)] {
            for (interleave, pixelOrder) in Self.cases {
                for byteOrder in [ByteOrder.little, .big] {
                    let offset = 3 // unaligned on purpose
                    var block = [UInt8](repeating: 0xAB, count: offset + rows * cols * bands * type.size)
                    for r in 0..<rows { for c in 0..<cols { for b in 0..<bands {
                        let v = Self.value(r, c, b) % modulus
                        let i = Self.index(r, c, b, rows: rows, cols: cols, bands: bands, interleave, pixelOrder)
                        block.replaceSubrange((offset + i * type.size)..<(offset + (i + 1) * type.size), with: Self.bytes(of: v, type, byteOrder))
                    } } }
                    let layout = RawLayout(type: type, order: byteOrder, rows: rows, cols: cols, bands: bands, offset: offset,
                                           interleave: interleave, pixelOrder: pixelOrder)
                    let cube = try block.withUnsafeBytes { try layout.decode($0, name: "block").cube }
                    var expected = [Float]()
                    for r in 0..<rows { for c in 0..<cols { for b in 0..<bands {
                        expected.append(Float(Self.value(r, c, b) % modulus))
                    } } }
                    #expect(cube.rows == rows && cube.cols == cols && cube.bands == bands)
                    expectClose(cube.values, expected, tolerance: 0, "\(type) \(interleave) \(pixelOrder) \(byteOrder) \(rows)×\(cols)×\(bands)")
                }
            }
        }
    }

    @Test func nativeFloat32PixelMajorIsUsedInPlace() throws {
        try withTemporaryDirectory { dir in
            let values = (0..<(4 * 6 * 5)).map { Float($0) * 0.5 }
            let url = dir.appendingPathComponent("cube.bin")
            var data = Data(repeating: 0, count: 16)
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            try data.write(to: url)
            let file = try MappedFile(url.path)
            let layout = RawLayout(type: .float32, order: .native, rows: 4, cols: 6, bands: 5, offset: 16, interleave: .bip)
            let mapped = try layout.decode(file.bytes, file: file, name: url.path).cube
            #expect(mapped.storage.isMapped)
            #expect(mapped.values == values)
            // The same block read another way is a copy with the same values.
            let copied = try layout.decode(file.bytes, name: url.path).cube
            #expect(!copied.storage.isMapped && copied.values == values)
            // Unaligned: copied.
            let shifted = RawLayout(type: .float32, order: .native, rows: 1, cols: 1, bands: 4, offset: 15, interleave: .bip)
            #expect(try !shifted.decode(file.bytes, file: file, name: url.path).cube.storage.isMapped)
            #expect(try !RawLayout(type: .float32, order: .big, rows: 4, cols: 6, bands: 5, offset: 16, interleave: .bip)
                .decode(file.bytes, file: file, name: url.path).cube.storage.isMapped)
        }
    }

    @Test func blocksThatDoNotFitAreRefused() {
        let bytes = [UInt8](repeating: 0, count: 100)
        bytes.withUnsafeBytes { raw in
            expectUnmixError(containing: ["f.raw", "truncated", "needs 104 bytes, found 100"]) {
                _ = try RawLayout(type: .float32, order: .little, rows: 2, cols: 13, bands: 1, offset: 0, interleave: .bip).decode(raw, name: "f.raw")
            }
            expectUnmixError(containing: ["f.raw", "overflows"]) {
                _ = try RawLayout(type: .float64, order: .little, rows: 1 << 40, cols: 1 << 30, bands: 8, offset: 0, interleave: .bsq)
                    .decode(raw, name: "f.raw")
            }
            expectUnmixError(containing: ["f.raw", "negative"]) {
                _ = try RawLayout(type: .uint8, order: .little, rows: 2, cols: 2, bands: 2, offset: -4, interleave: .bip).decode(raw, name: "f.raw")
            }
        }
    }

    @Test func wideIntegersAboveTwoToThe24WarnOnce() throws {
        let values: [Int64] = [1, 16_777_217, 5, -40_000_000]
        let bytes = values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        let decoded = try bytes.withUnsafeBytes {
            try RawLayout(type: .int64, order: .little, rows: 1, cols: 1, bands: 4, offset: 0, interleave: .bip).decode($0, name: "w")
        }
        #expect(decoded.warnings.count == 1 && decoded.warnings[0].contains("2^24"), "\(decoded.warnings)")
        let small = try ([7, 0, 0, 0] as [UInt8] + [UInt8](repeating: 0, count: 12)).withUnsafeBytes {
            try RawLayout(type: .uint32, order: .little, rows: 1, cols: 1, bands: 4, offset: 0, interleave: .bip).decode($0, name: "s")
        }
        #expect(small.warnings.isEmpty)
    }
}
