/// A dense, row-major matrix of `Double`: the currency of the numerics module.
///
/// Element (i, j) is `storage[i * cols + j]`. A cube of P pixels × B bands is a P × B matrix,
/// row p holding pixel p's spectrum, which is exactly the ABI's pixel-major layout.
public struct Matrix: Equatable, Sendable {
    public var rows: Int
    public var cols: Int
    public var storage: [Double]

    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.storage = Array(repeating: value, count: rows * cols)
    }

    public init(rows: Int, cols: Int, storage: [Double]) {
        precondition(storage.count == rows * cols, "Matrix: \(storage.count) values for a \(rows)×\(cols) shape")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// A matrix from `Float` values (row-major), widened to `Double`.
    public init(rows: Int, cols: Int, floats: UnsafeBufferPointer<Float>) {
        precondition(floats.count == rows * cols, "Matrix: \(floats.count) values for a \(rows)×\(cols) shape")
        self.rows = rows
        self.cols = cols
        self.storage = floats.map(Double.init)
    }

    /// A matrix from nested rows, for tests and small literals.
    public init(_ nested: [[Double]]) {
        let cols = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == cols }, "Matrix: ragged rows")
        self.init(rows: nested.count, cols: cols, storage: nested.flatMap { $0 })
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    @inline(__always)
    public subscript(i: Int, j: Int) -> Double {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Double] { Array(storage[(i * cols)..<((i + 1) * cols)]) }

    /// Column `j` as an array.
    public func column(_ j: Int) -> [Double] { (0..<rows).map { self[$0, j] } }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> Matrix {
        var out = Matrix(rows: indices.count, cols: cols)
        for (k, i) in indices.enumerated() {
            out.storage.replaceSubrange((k * cols)..<((k + 1) * cols), with: storage[(i * cols)..<((i + 1) * cols)])
        }
        return out
    }

    /// The first `n` columns.
    public func leadingColumns(_ n: Int) -> Matrix {
        precondition(n <= cols, "leadingColumns: \(n) > \(cols)")
        var out = Matrix(rows: rows, cols: n)
        for i in 0..<rows { for j in 0..<n { out[i, j] = self[i, j] } }
        return out
    }

    public var transposed: Matrix {
        var out = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { out.storage[j * rows + i] = storage[i * cols + j] } }
        return out
    }

    /// The values narrowed to `Float`, row-major.
    public var floats: [Float] { storage.map(Float.init) }

    /// The mean of each column (a 1 × cols result as an array).
    public var columnMeans: [Double] {
        var mean = [Double](repeating: 0, count: cols)
        guard rows > 0 else { return mean }
        for i in 0..<rows { for j in 0..<cols { mean[j] += storage[i * cols + j] } }
        return mean.map { $0 / Double(rows) }
    }

    /// True when every value is finite.
    public var isFinite: Bool { storage.allSatisfy { $0.isFinite } }
}
