import Dispatch

/// Where the samples of a cube lie in a block of bytes: their type and byte order, the byte
/// offset of sample (row 0, col 0, band 0), and the step, in samples, from one row, one column
/// and one band to the next. Every raw format (NumPy, ripple, ENVI, DigitalMicrograph, …)
/// reduces to one of these, and `decode` turns any of them into the cube plugins see:
/// Float32, pixel-major, band-contiguous.
public struct RawLayout: Sendable, Equatable {
    public var type: SampleType
    public var order: ByteOrder
    public var rows: Int
    public var cols: Int
    public var bands: Int
    /// Bytes from the start of the block to the first sample.
    public var offset: Int
    public var rowStride: Int
    public var colStride: Int
    public var bandStride: Int

    /// How a file interleaves bands and pixels (ENVI's and ripple's words).
    public enum Interleave: String, Sendable {
        /// Band-interleaved by pixel: every pixel's spectrum is contiguous (ripple `vector`).
        case bip
        /// Band-interleaved by line: one line of the first band, the same line of the next band…
        case bil
        /// Band-sequential: one whole image per band (ripple `image`; DigitalMicrograph's
        /// spectrum images, whose energy axis is the slowest).
        case bsq
    }

    /// The order of pixels within the map: row-major (C, NumPy) or column-major (MATLAB,
    /// Fortran: the row index runs fastest).
    public enum PixelOrder: String, Sendable { case rowMajor, columnMajor }

    public init(type: SampleType, order: ByteOrder, rows: Int, cols: Int, bands: Int, offset: Int,
                interleave: Interleave, pixelOrder: PixelOrder = .rowMajor) {
        // Strides of the faster pixel index (cols in row-major order), the slower one and the band.
        let fast = pixelOrder == .rowMajor ? cols : rows
        // Products saturate at Int.max (sizes read from a file may be absurd): `extent` then
        // reports the overflow instead of this initialiser trapping.
        func times(_ a: Int, _ b: Int) -> Int {
            let (p, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? .max : p
        }
        let pixelFast: Int, pixelSlow: Int, band: Int
        switch interleave {
        case .bip: (pixelFast, pixelSlow, band) = (bands, times(fast, bands), 1)
        case .bil: (pixelFast, pixelSlow, band) = (1, times(bands, fast), fast)
        case .bsq: (pixelFast, pixelSlow, band) = (1, fast, times(rows, cols))
        }
        let (rowStride, colStride) = pixelOrder == .rowMajor ? (pixelSlow, pixelFast) : (pixelFast, pixelSlow)
        self.init(type: type, order: order, rows: rows, cols: cols, bands: bands, offset: offset,
                  rowStride: rowStride, colStride: colStride, bandStride: band)
    }

    public init(type: SampleType, order: ByteOrder, rows: Int, cols: Int, bands: Int, offset: Int,
                rowStride: Int, colStride: Int, bandStride: Int) {
        self.type = type
        self.order = order
        self.rows = rows
        self.cols = cols
        self.bands = bands
        self.offset = offset
        self.rowStride = rowStride
        self.colStride = colStride
        self.bandStride = bandStride
    }

    /// Whether the block already is the cube plugins see (native float32, pixel-major,
    /// band-contiguous), so that it can be used in place.
    var isNativeFloat32PixelMajor: Bool {
        type == .float32 && order == .native && bandStride == 1 && colStride == bands && rowStride == cols &* bands
    }

    /// The number of bytes from the start of the block that the samples span, or an
    /// `UnmixError` when the sizes overflow or are negative.
    public func extent(_ name: String) throws -> Int {
        guard rows > 0, cols > 0, bands > 0 else { return offset }
        let what = "\(name): a \(rows) × \(cols) × \(bands) cube"
        guard offset >= 0, rowStride >= 0, colStride >= 0, bandStride >= 0 else {
            throw UnmixError("\(what) has a negative offset or stride")
        }
        let last = try (rows - 1).checkedTimes(rowStride, what)
            .addingChecked(try (cols - 1).checkedTimes(colStride, what), what)
            .addingChecked(try (bands - 1).checkedTimes(bandStride, what), what)
        return try (last + 1).checkedTimes(type.size, what).addingChecked(offset, what)
    }

    /// Reads the cube out of `bytes`. When `file` is the mapping `bytes` lie in and the layout
    /// is already native float32 pixel-major, the cube uses the file's pages in place;
    /// otherwise samples are converted to Float32 on all cores.
    ///
    /// - Throws: `UnmixError` naming `name` when the samples would lie past the end of `bytes`.
    public func decode(_ bytes: UnsafeRawBufferPointer, file: MappedFile? = nil, name: String) throws -> DecodedCube {
        let needed = try extent(name)
        guard needed <= bytes.count else {
            throw UnmixError("\(name): truncated: a \(rows) × \(cols) × \(bands) \(type.rawValue) cube needs \(needed) bytes, found \(bytes.count)")
        }
        let count = try rows.checkedTimes(cols, name).checkedTimes(bands, name)
        if let file, isNativeFloat32PixelMajor, let base = bytes.baseAddress, let fileBase = file.bytes.baseAddress,
           base >= fileBase, base + bytes.count <= fileBase + file.bytes.count, (base - fileBase + offset) % 4 == 0 {
            let storage = SampleStorage(mapping: file, offset: base - fileBase + offset, count: count)
            return DecodedCube(cube: CubeData(rows: rows, cols: cols, bands: bands, storage: storage), warnings: [])
        }
        var largest: Float = 0
        let storage = SampleStorage(count: count) { out in
            largest = convert(bytes, into: out)
        }
        var warnings = [String]()
        if let warning = type.precisionWarning(largest: largest, file: name) { warnings.append(warning) }
        return DecodedCube(cube: CubeData(rows: rows, cols: cols, bands: bands, storage: storage), warnings: warnings)
    }

    /// Converts every sample into `out` (pixel-major); returns the largest magnitude met.
    private func convert(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) -> Float {
        switch type {
        case .int8: return fill(Int8.self, bytes, out)
        case .uint8: return fill(UInt8.self, bytes, out)
        case .int16: return fill(Int16.self, bytes, out)
        case .uint16: return fill(UInt16.self, bytes, out)
        case .int32: return fill(Int32.self, bytes, out)
        case .uint32: return fill(UInt32.self, bytes, out)
        case .int64: return fill(Int64.self, bytes, out)
        case .uint64: return fill(UInt64.self, bytes, out)
        case .float16: return fill(Half.self, bytes, out)
        case .float32: return fill(Single.self, bytes, out)
        case .float64: return fill(DoubleSample.self, bytes, out)
        }
    }

    /// The conversion loop, specialised per sample type. Rows go to all cores; within a row,
    /// band-contiguous layouts copy one spectrum at a time, the others walk tiles of 64 bands ×
    /// 256 pixels so that both the reads and the writes stay within a few pages.
    private func fill<S: RawSample>(_: S.Type, _ bytes: UnsafeRawBufferPointer, _ out: UnsafeMutableBufferPointer<Float>) -> Float {
        let swapped = order != .native
        let base = bytes.baseAddress! + offset
        let output = out.baseAddress!
        let (rows, cols, bands, rs, cs, bs) = (self.rows, self.cols, self.bands, rowStride, colStride, bandStride)
        let size = S.size
        let chunks = Swift.min(rows, 64)
        let largestPerChunk = UnsafeMutablePointer<Float>.allocate(capacity: chunks)
        largestPerChunk.initialize(repeating: 0, count: chunks)
        defer { largestPerChunk.deallocate() }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var largest: Float = 0
            let rowRange = (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks)
            for r in rowRange {
                if bs == 1 {
                    for c in 0..<cols {
                        let src = base + (r * rs + c * cs) * size
                        let dst = output + (r * cols + c) * bands
                        for b in 0..<bands {
                            let v = S.load(src + b * size, swapped: swapped)
                            dst[b] = v
                            if S.tracksMagnitude { largest = Swift.max(largest, abs(v)) }
                        }
                    }
                } else {
                    for c0 in stride(from: 0, to: cols, by: 256) {
                        let c1 = Swift.min(cols, c0 + 256)
                        for b0 in stride(from: 0, to: bands, by: 64) {
                            let b1 = Swift.min(bands, b0 + 64)
                            for b in b0..<b1 {
                                let src = base + (r * rs + b * bs) * size
                                for c in c0..<c1 {
                                    let v = S.load(src + c * cs * size, swapped: swapped)
                                    output[(r * cols + c) * bands + b] = v
                                    if S.tracksMagnitude { largest = Swift.max(largest, abs(v)) }
                                }
                            }
                        }
                    }
                }
            }
            largestPerChunk[chunk] = largest
        }
        return (0..<chunks).reduce(Float(0)) { Swift.max($0, largestPerChunk[$1]) }
    }
}

/// A cube read out of a raw block, and what the reader should tell the user about it.
public struct DecodedCube {
    public var cube: CubeData
    public var warnings: [String]
}

extension Int {
    /// `self + other`, or an `UnmixError` naming `what` on overflow.
    public func addingChecked(_ other: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        guard !overflow else { throw UnmixError("\(what()): size \(self) + \(other) overflows") }
        return sum
    }
}

// MARK: - Sample decoders

/// One stored sample type: how to load it as a Float32.
protocol RawSample {
    static var size: Int { get }
    /// Whether the conversion should track the largest magnitude (integers wider than 24 bits).
    static var tracksMagnitude: Bool { get }
    static func load(_ pointer: UnsafeRawPointer, swapped: Bool) -> Float
}

extension RawSample where Self: FixedWidthInteger {
    static var size: Int { MemoryLayout<Self>.size }
    static var tracksMagnitude: Bool { bitWidth > 24 }
    @inline(__always) static func load(_ pointer: UnsafeRawPointer, swapped: Bool) -> Float {
        let raw = pointer.loadUnaligned(as: Self.self)
        return Float(swapped ? raw.byteSwapped : raw)
    }
}

extension Int8: RawSample {}
extension UInt8: RawSample {}
extension Int16: RawSample {}
extension UInt16: RawSample {}
extension Int32: RawSample {}
extension UInt32: RawSample {}
extension Int64: RawSample {}
extension UInt64: RawSample {}

enum Half: RawSample {
    static let size = 2
    static let tracksMagnitude = false
    @inline(__always) static func load(_ pointer: UnsafeRawPointer, swapped: Bool) -> Float {
        let raw = pointer.loadUnaligned(as: UInt16.self)
        return Float(Float16(bitPattern: swapped ? raw.byteSwapped : raw))
    }
}

enum Single: RawSample {
    static let size = 4
    static let tracksMagnitude = false
    @inline(__always) static func load(_ pointer: UnsafeRawPointer, swapped: Bool) -> Float {
        let raw = pointer.loadUnaligned(as: UInt32.self)
        return Float(bitPattern: swapped ? raw.byteSwapped : raw)
    }
}

enum DoubleSample: RawSample {
    static let size = 8
    static let tracksMagnitude = false
    @inline(__always) static func load(_ pointer: UnsafeRawPointer, swapped: Bool) -> Float {
        let raw = pointer.loadUnaligned(as: UInt64.self)
        return Float(Double(bitPattern: swapped ? raw.byteSwapped : raw))
    }
}
