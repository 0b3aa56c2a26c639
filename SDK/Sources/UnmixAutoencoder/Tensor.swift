import UnmixNumerics

/// A dense Float32 tensor: a shape and its values in row-major (C) order.
///
/// The autoencoder toolkit's value type. Images are NHWC (batch, rows, cols, channels): the
/// channel axis is contiguous, which is the cube's own band-contiguous layout, so a cube is a
/// (1, rows, cols, bands) tensor without copying, and im2col rows are contiguous runs.
public struct Tensor: Equatable, Sendable, CustomStringConvertible {
    public var shape: [Int]
    public var storage: [Float]

    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(storage.count == shape.reduce(1, *), "Tensor: \(storage.count) values for shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, storage: Array(repeating: value, count: shape.reduce(1, *)))
    }

    /// A scalar (rank 0).
    public init(_ value: Float) { self.init(shape: [], storage: [value]) }

    /// A matrix from nested rows (tests, small literals).
    public init(_ rows: [[Float]]) {
        let cols = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == cols }, "Tensor: ragged rows")
        self.init(shape: [rows.count, cols], storage: rows.flatMap { $0 })
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    /// The single value of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar of a tensor of shape \(shape)")
        return storage[0]
    }

    /// The same values under another shape of the same size (-1 infers one dimension).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            s[i] = known == 0 ? 0 : count / known
        }
        return Tensor(shape: s, storage: storage)
    }

    public var description: String { "Tensor(\(shape), \(storage.prefix(8))\(count > 8 ? "…" : ""))" }

    public func map(_ f: (Float) -> Float) -> Tensor { Tensor(shape: shape, storage: storage.map(f)) }
}

/// Row-major strides of a shape.
func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}

/// The broadcast shape of two shapes (NumPy rules: align right, 1 stretches), or nil.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

extension Tensor {
    /// A rank-2 tensor as a `Matrix` (the SDK's currency for endmembers and abundances), every
    /// value multiplied by `scale` (e.g. to undo a global-max normalisation).
    public func matrix(scale: Float = 1) -> Matrix {
        precondition(rank == 2, "Tensor.matrix of a rank-\(rank) tensor")
        return Matrix(rows: shape[0], cols: shape[1], storage: storage.map { Double($0 * scale) })
    }
}
