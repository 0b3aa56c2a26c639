import CUnmix
import Dispatch

/// A cube in host memory: rows × cols pixels of `bands` channels, Float32, pixel-major,
/// band-contiguous (the layout of the plugin ABI). The samples are an allocation of ours or
/// the pages of a mapped file (`storage.isMapped`); either way read-only and shared by copies.
public struct CubeData: Sendable {
    public var rows: Int
    public var cols: Int
    public var bands: Int
    public let storage: SampleStorage

    public init(rows: Int, cols: Int, bands: Int, storage: SampleStorage) {
        precondition(storage.count == rows * cols * bands, "CubeData: \(storage.count) values for \(rows)×\(cols)×\(bands)")
        self.rows = rows
        self.cols = cols
        self.bands = bands
        self.storage = storage
    }

    /// A cube holding a copy of `values` (pixel-major).
    public init(rows: Int, cols: Int, bands: Int, values: [Float]) {
        self.init(rows: rows, cols: cols, bands: bands, storage: SampleStorage(values))
    }

    public var pixels: Int { rows * cols }

    /// A copy of every value, pixel-major: for tests and small cubes (use `withUnsafeValues`
    /// on large ones).
    public var values: [Float] { withUnsafeValues { Array($0) } }

    public func withUnsafeValues<T>(_ body: (UnsafeBufferPointer<Float>) throws -> T) rethrows -> T {
        try storage.withUnsafeBufferPointer(body)
    }

    /// The first non-finite value as (pixel, band), or nil. Scans on all cores.
    public func firstNonFinite() -> (pixel: Int, band: Int)? {
        withUnsafeValues { values -> (pixel: Int, band: Int)? in
            guard let base = values.baseAddress else { return nil }
            let count = values.count
            let chunks = Swift.max(1, Swift.min(64, count / 65536))
            let found = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
            found.initialize(repeating: Int.max, count: chunks)
            defer { found.deallocate() }
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for i in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) where !base[i].isFinite {
                    found[chunk] = i
                    return
                }
            }
            guard let i = (0..<chunks).lazy.map({ found[$0] }).first(where: { $0 != Int.max }) else { return nil }
            return (i / bands, i % bands)
        }
    }

    /// The cube restricted to `rowRange` × `colRange` pixels and `bandRange` channels (a copy,
    /// unless the selection is the whole cube).
    public func cropped(rows rowRange: Range<Int>, cols colRange: Range<Int>, bands bandRange: Range<Int>) -> CubeData {
        precondition(rowRange.lowerBound >= 0 && rowRange.upperBound <= rows && colRange.lowerBound >= 0
                     && colRange.upperBound <= cols && bandRange.lowerBound >= 0 && bandRange.upperBound <= bands,
                     "CubeData.cropped: \(rowRange) × \(colRange) × \(bandRange) outside \(rows)×\(cols)×\(bands)")
        if rowRange == 0..<rows && colRange == 0..<cols && bandRange == 0..<bands { return self }
        let (newCols, newBands) = (colRange.count, bandRange.count)
        let storage = withUnsafeValues { source in
            SampleStorage(count: rowRange.count * newCols * newBands) { out in
                var o = 0
                for r in rowRange {
                    for c in colRange {
                        let start = (r * cols + c) * bands + bandRange.lowerBound
                        for b in 0..<newBands { out[o + b] = source[start + b] }
                        o += newBands
                    }
                }
            }
        }
        return CubeData(rows: rowRange.count, cols: newCols, bands: newBands, storage: storage)
    }

    /// Lends the cube to C as an `unmix_cube_t` for the duration of `body`.
    public func withCCube<T>(_ body: (unmix_cube_t) throws -> T) rethrows -> T {
        try withUnsafeValues { buffer in
            try body(unmix_cube_t(rows: UInt32(rows), cols: UInt32(cols), bands: UInt32(bands), data: buffer.baseAddress))
        }
    }
}
