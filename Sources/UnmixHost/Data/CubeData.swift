import CUnmix

/// A cube in host memory: rows × cols pixels of `bands` channels, pixel-major, band-contiguous.
public struct CubeData: Sendable {
    public var rows: Int
    public var cols: Int
    public var bands: Int
    public var values: [Float]

    public init(rows: Int, cols: Int, bands: Int, values: [Float]) {
        precondition(values.count == rows * cols * bands, "CubeData: \(values.count) values for \(rows)×\(cols)×\(bands)")
        self.rows = rows
        self.cols = cols
        self.bands = bands
        self.values = values
    }

    public var pixels: Int { rows * cols }

    /// The first non-finite value as (pixel, band), or nil.
    public func firstNonFinite() -> (pixel: Int, band: Int)? {
        guard let i = values.firstIndex(where: { !$0.isFinite }) else { return nil }
        return (i / bands, i % bands)
    }

    /// Lends the cube to C as an `unmix_cube_t` for the duration of `body`.
    func withCCube<T>(_ body: (unmix_cube_t) throws -> T) rethrows -> T {
        try values.withUnsafeBufferPointer { buffer in
            try body(unmix_cube_t(rows: UInt32(rows), cols: UInt32(cols), bands: UInt32(bands), data: buffer.baseAddress))
        }
    }
}
