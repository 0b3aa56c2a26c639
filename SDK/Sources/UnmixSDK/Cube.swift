/// A read-only view of a cube handed to the plugin by the host: rows × cols pixels of `bands`
/// channels, pixel-major and band-contiguous. Valid only during the call that received it.
public struct Cube {
    public let rows: Int
    public let cols: Int
    public let bands: Int
    /// rows · cols · bands values; value of band b at pixel (r, c) is `data[(r * cols + c) * bands + b]`.
    public let data: UnsafeBufferPointer<Float>

    public init(rows: Int, cols: Int, bands: Int, data: UnsafeBufferPointer<Float>) {
        precondition(data.count == rows * cols * bands, "Cube: \(data.count) values for \(rows)×\(cols)×\(bands)")
        self.rows = rows
        self.cols = cols
        self.bands = bands
        self.data = data
    }

    /// rows · cols.
    public var pixels: Int { rows * cols }

    /// The cube as a P × B matrix of doubles (a copy).
    public func matrix() -> Matrix { Matrix(rows: pixels, cols: bands, floats: data) }
}
