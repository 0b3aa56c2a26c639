import CLapack

/// A LAPACK routine reported failure (`info != 0`): singular input or no convergence.
public struct NumericsError: Error, CustomStringConvertible, Sendable {
    public var routine: String
    public var info: Int32
    public var detail: String
    public init(routine: String, info: Int32, detail: String) {
        self.routine = routine
        self.info = info
        self.detail = detail
    }
    public var description: String { "\(routine) failed (info \(info)): \(detail)" }
}

/// Turns LAPACK's return-code convention into a Swift error, in one place.
@inline(__always)
func lapackCheck(_ info: Int32, _ routine: String, _ detail: @autoclosure () -> String) throws {
    if info != 0 { throw NumericsError(routine: routine, info: Int32(info), detail: detail()) }
}

/// `alpha · op(A) · op(B)`, where op transposes when asked.
///
/// The corresponding C function is `cblas_dgemm`.
public func matmul(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
                   alpha: Double = 1) -> Matrix {
    let m = transposeA ? a.cols : a.rows
    let k = transposeA ? a.rows : a.cols
    let kb = transposeB ? b.cols : b.rows
    let n = transposeB ? b.rows : b.cols
    precondition(k == kb, "matmul: inner dimensions \(k) and \(kb) differ")
    var c = Matrix(rows: m, cols: n)
    if m == 0 || n == 0 { return c }
    if k == 0 { return c }
    a.storage.withUnsafeBufferPointer { pa in
        b.storage.withUnsafeBufferPointer { pb in
            c.storage.withUnsafeMutableBufferPointer { pc in
                cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                            transposeB ? CblasTrans : CblasNoTrans,
                            blasint(m), blasint(n), blasint(k), alpha,
                            pa.baseAddress, blasint(a.cols), pb.baseAddress, blasint(b.cols),
                            0, pc.baseAddress, blasint(n))
            }
        }
    }
    return c
}

/// `scale · AᵀA` (cols × cols), both triangles filled.
///
/// The corresponding C function is `cblas_dsyrk`.
public func gram(_ a: Matrix, scale: Double = 1) -> Matrix {
    let n = a.cols
    var c = Matrix(rows: n, cols: n)
    if n == 0 || a.rows == 0 { return c }
    a.storage.withUnsafeBufferPointer { pa in
        c.storage.withUnsafeMutableBufferPointer { pc in
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(n), blasint(a.rows),
                        scale, pa.baseAddress, blasint(n), 0, pc.baseAddress, blasint(n))
        }
    }
    for i in 0..<n { for j in 0..<i { c[i, j] = c[j, i] } }
    return c
}

/// Eigenpairs of a symmetric matrix, largest eigenvalue first.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues in descending order.
    public var values: [Double]
    /// n × k: column i is the unit eigenvector of `values[i]`.
    public var vectors: Matrix
}

/// The `k` largest eigenpairs of the symmetric matrix `a`, computing only those (MRRR).
///
/// The corresponding C function is `LAPACKE_dsyevr`.
public func symmetricEigen(_ a: Matrix, largest k: Int) throws -> SymmetricEigen {
    let n = a.rows
    precondition(a.cols == n, "symmetricEigen: \(a.rows)×\(a.cols) is not square")
    precondition(k >= 1 && k <= n, "symmetricEigen: k = \(k) outside 1...\(n)")
    var work = a.storage
    var found: Int32 = 0
    var w = [Double](repeating: 0, count: n)
    var z = [Double](repeating: 0, count: n * k)
    var support = [Int32](repeating: 0, count: 2 * k)
    let info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "I")),
                              Int8(UInt8(ascii: "U")), Int32(n), &work, Int32(n), 0, 0,
                              Int32(n - k + 1), Int32(n), 0, &found, &w, &z, Int32(k),
                              &support)
    try lapackCheck(info, "LAPACKE_dsyevr", "eigen-decomposition of a \(n)×\(n) matrix")
    // LAPACK returns ascending order: reverse to descending.
    var vectors = Matrix(rows: n, cols: k)
    for j in 0..<k { for i in 0..<n { vectors[i, j] = z[i * k + (k - 1 - j)] } }
    return SymmetricEigen(values: (0..<k).map { w[k - 1 - $0] }, vectors: vectors)
}

/// Thin singular value decomposition A = U · diag(s) · Vᵀ, singular values descending.
///
/// The corresponding C function is `LAPACKE_dgesdd`.
public func svd(_ a: Matrix) throws -> (u: Matrix, s: [Double], vt: Matrix) {
    let m = a.rows, n = a.cols, k = min(m, n)
    var work = a.storage
    var s = [Double](repeating: 0, count: k)
    var u = Matrix(rows: m, cols: k)
    var vt = Matrix(rows: k, cols: n)
    if k == 0 { return (u, s, vt) }
    let info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int32(m), Int32(n),
                              &work, Int32(n), &s, &u.storage, Int32(k), &vt.storage, Int32(n))
    try lapackCheck(info, "LAPACKE_dgesdd", "SVD of a \(m)×\(n) matrix")
    return (u, s, vt)
}

/// The Moore–Penrose pseudo-inverse, singular values below `rcond · s_max` treated as zero
/// (default `max(m, n) · ε`, as MATLAB's `pinv`).
public func pseudoInverse(_ a: Matrix, rcond: Double? = nil) throws -> Matrix {
    let (u, s, vt) = try svd(a)
    let cutoff = (rcond ?? Double(max(a.rows, a.cols)) * Double.ulpOfOne) * (s.first ?? 0)
    // pinv = V · diag(1/s) · Uᵀ
    var vs = vt.transposed
    for j in 0..<s.count {
        let inv = s[j] > cutoff ? 1 / s[j] : 0
        for i in 0..<vs.rows { vs[i, j] *= inv }
    }
    return matmul(vs, u, transposeB: true)
}

/// Solves A·X = B for square A by LU with partial pivoting.
///
/// The corresponding C function is `LAPACKE_dgesv`.
public func solve(_ a: Matrix, _ b: Matrix) throws -> Matrix {
    let n = a.rows
    precondition(a.cols == n && b.rows == n, "solve: shapes \(a.rows)×\(a.cols) and \(b.rows)×\(b.cols)")
    var lu = a.storage
    var x = b
    var pivots = [Int32](repeating: 0, count: n)
    let info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(b.cols), &lu, Int32(n),
                             &pivots, &x.storage, Int32(b.cols))
    try lapackCheck(info, "LAPACKE_dgesv", info > 0 ? "singular \(n)×\(n) matrix" : "bad argument \(-info)")
    return x
}

/// The inverse of a square matrix (small systems only; prefer `solve`).
public func inverse(_ a: Matrix) throws -> Matrix {
    try solve(a, .identity(a.rows))
}

/// Sets the number of threads OpenBLAS uses for the calls that follow (process-wide).
/// Parallel loops of our own set it to 1 inside, so two levels of threads do not fight for cores.
///
/// The corresponding C function is `openblas_set_num_threads`.
public func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

/// The number of threads OpenBLAS currently uses.
///
/// The corresponding C function is `openblas_get_num_threads`.
public func blasThreads() -> Int { Int(openblas_get_num_threads()) }

/// The kernels OpenBLAS chose for this CPU (e.g. "Haswell", "Cooperlake"; the environment
/// variable OPENBLAS_CORETYPE overrides the choice), for benchmark reports.
///
/// The corresponding C function is `openblas_get_corename`.
public func blasCoreName() -> String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

/// X · W for single-precision data X (P × B, row-major) and a B × k matrix W, widened to a
/// P × k `Matrix`: projecting every pixel on a few directions without a double copy of the cube.
/// Memory beyond the data: O(P · k), plus the bounded scratch of `multiplyPixelBlocks`.
///
/// The corresponding C function is `cblas_sgemm`.
public func project(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, onto w: Matrix) -> Matrix {
    precondition(data.count == pixels * bands && w.rows == bands, "project: \(pixels)×\(bands) data, \(w.rows)×\(w.cols) directions")
    let k = w.cols
    let wf = w.floats
    var out = [Float](repeating: 0, count: pixels * k)
    wf.withUnsafeBufferPointer { pw in
        out.withUnsafeMutableBufferPointer { po in
            multiplyPixelBlocks(data, pixels: pixels, bands: bands, pw, k: k, into: po)
        }
    }
    return Matrix(rows: pixels, cols: k, storage: out.map(Double.init))
}

/// Rows of X per `cblas_sgemm` call in `multiplyPixelBlocks`.
///
/// Design note. Given a tall X (many pixels) and a thin W (a few columns), multi-threaded OpenBLAS
/// (0.3.21, measured here) packs every row of X before multiplying: about 1.25 KiB of scratch per
/// row whatever the number of bands, 80 MiB for 65 536 pixels (a third of a 1024-band cube),
/// held until the process ends. Calls of 1024 rows bound that scratch to 1.3 MiB and were no
/// slower (0.08 s against 0.14 s for 65 536 × 1024 times 1024 × 14). On two threads the result
/// was bit-identical to the single call at 3, 4 and 14 columns; on one thread a few entries
/// differ in the last bits (another split of the kernels), as any change of thread count does.
let pixelBlockRows = 1024

/// out = X · W for single-precision X (P × B, row-major) and W (B × k, row-major), out P × k
/// row-major, in calls of `pixelBlockRows` rows of X so that BLAS's scratch stays bounded.
///
/// The corresponding C function is `cblas_sgemm`.
func multiplyPixelBlocks(_ x: UnsafeBufferPointer<Float>, pixels: Int, bands: Int,
                         _ w: UnsafeBufferPointer<Float>, k: Int, into out: UnsafeMutableBufferPointer<Float>) {
    precondition(x.count == pixels * bands && w.count == bands * k && out.count == pixels * k,
                 "multiplyPixelBlocks: \(x.count), \(w.count) and \(out.count) values for \(pixels)×\(bands) times \(bands)×\(k)")
    guard pixels > 0, k > 0, let px = x.baseAddress, let pw = w.baseAddress, let po = out.baseAddress else { return }
    var start = 0
    while start < pixels {
        let rows = min(pixelBlockRows, pixels - start)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(k), blasint(bands), 1,
                    px + start * bands, blasint(bands), pw, blasint(k), 0, po + start * k, blasint(k))
        start += rows
    }
}

/// The mean of each column of single-precision data (P × B), and the mean of all squared values
/// times B (ΣX²/P), accumulated in double.
public func columnMeansAndPower(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int) -> (mean: [Double], power: Double) {
    var sum = [Double](repeating: 0, count: bands)
    var power = 0.0
    for p in 0..<pixels {
        let base = p * bands
        for b in 0..<bands {
            let v = Double(data[base + b])
            sum[b] += v
            power += v * v
        }
    }
    let n = Double(max(pixels, 1))
    return (sum.map { $0 / n }, power / n)
}
