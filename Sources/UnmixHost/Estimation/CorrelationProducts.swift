import CLapack
import UnmixNumerics

// The pixel-side products of the rank estimates: one pass (or two) over a single-precision
// cube, in blocks of pixels widened to double, so that the cube is never copied whole. Every raw
// BLAS / LAPACK call of the folder is here.

/// Pixels per block: 1024 pixels of 1024 bands are 8 MiB of doubles.
let estimationBlockPixels = 1024

/// Upper-triangle accumulation C += Aᵀ A for a block A (rows × n, row-major, double); C is n × n.
///
/// The corresponding C function is `cblas_dsyrk`.
@inline(__always)
func accumulateGram(_ a: UnsafePointer<Double>, rows: Int, n: Int, into c: UnsafeMutablePointer<Double>) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(n), blasint(rows), 1, a, blasint(n), 1, c, blasint(n))
}

/// Copies the upper triangle of a square matrix into its lower one.
func symmetrizeFromUpper(_ m: inout Matrix) {
    let n = m.rows
    for i in 0..<n { for j in 0..<i { m.storage[i * n + j] = m.storage[j * n + i] } }
}

/// The uncentred correlation products Σₚ yₚ yₚᵀ (bands × bands) of the cube, and, when
/// `squareRoot` is set, those of √max(y, 0) too: one pass over the pixels.
func correlationProducts(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, squareRoot: Bool) -> (y: Matrix, sqrtY: Matrix?) {
    precondition(data.count == pixels * bands, "correlationProducts: \(data.count) values for \(pixels)×\(bands)")
    var ry = Matrix(rows: bands, cols: bands)
    var rs = squareRoot ? Matrix(rows: bands, cols: bands) : Matrix(rows: 0, cols: 0)
    let block = estimationBlockPixels
    var y = [Double](repeating: 0, count: block * bands)
    var s = [Double](repeating: 0, count: squareRoot ? block * bands : 0)
    var start = 0
    while start < pixels {
        let rows = min(block, pixels - start)
        let base = start * bands
        for i in 0..<(rows * bands) { y[i] = Double(data[base + i]) }
        if squareRoot { for i in 0..<(rows * bands) { s[i] = y[i] > 0 ? y[i].squareRoot() : 0 } }
        y.withUnsafeBufferPointer { py in
            ry.storage.withUnsafeMutableBufferPointer { accumulateGram(py.baseAddress!, rows: rows, n: bands, into: $0.baseAddress!) }
        }
        if squareRoot {
            s.withUnsafeBufferPointer { ps in
                rs.storage.withUnsafeMutableBufferPointer { accumulateGram(ps.baseAddress!, rows: rows, n: bands, into: $0.baseAddress!) }
            }
        }
        start += rows
    }
    symmetrizeFromUpper(&ry)
    if squareRoot { symmetrizeFromUpper(&rs) }
    return (ry, squareRoot ? rs : nil)
}

/// The Poisson pass of HySime: with u = √y · Aᵀ the noise of √y (per pixel, A = I − βᵀ the
/// regression of the square roots) mapped back to counts as w = 2 √y ∘ u, returns
/// the diagonal of Σₚ wₚ wₚᵀ (per band) and Σₚ xₚ xₚᵀ for x = y − w. A is bands × bands.
///
/// In single precision within a block of pixels (the noise and the signal are only compared
/// with each other, never subtracted from one another), summed across blocks in double.
///
/// The corresponding C functions are `cblas_sgemm` and `cblas_ssyrk`.
func poissonNoiseProducts(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, residual a: Matrix) -> (noise: [Double], signal: Matrix) {
    precondition(a.rows == bands && a.cols == bands, "poissonNoiseProducts: A is \(a.rows)×\(a.cols) for \(bands) bands")
    var rn = [Double](repeating: 0, count: bands)
    var rx = Matrix(rows: bands, cols: bands)
    let block = estimationBlockPixels
    let af = a.floats
    var s = [Float](repeating: 0, count: block * bands)
    var u = [Float](repeating: 0, count: block * bands)
    var blockX = [Float](repeating: 0, count: bands * bands)
    var start = 0
    while start < pixels {
        let rows = min(block, pixels - start)
        let base = start * bands
        for i in 0..<(rows * bands) {
            let v = data[base + i]
            s[i] = v > 0 ? v.squareRoot() : 0
        }
        // U (rows × bands) = S · Aᵀ: row p of U is A · sₚ.
        s.withUnsafeBufferPointer { ps in
            af.withUnsafeBufferPointer { pa in
                u.withUnsafeMutableBufferPointer { pu in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(bands), blasint(bands), 1,
                                ps.baseAddress, blasint(bands), pa.baseAddress, blasint(bands), 0, pu.baseAddress, blasint(bands))
                }
            }
        }
        // s becomes x = y − w, w = 2 √y ∘ u.
        for p in 0..<rows {
            let row = p * bands
            for b in 0..<bands {
                let w = 2 * s[row + b] * u[row + b]
                rn[b] += Double(w) * Double(w)
                s[row + b] = data[base + row + b] - w
            }
        }
        s.withUnsafeBufferPointer { px in
            blockX.withUnsafeMutableBufferPointer { pc in
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(bands), blasint(rows), 1, px.baseAddress, blasint(bands),
                            0, pc.baseAddress, blasint(bands))
            }
        }
        for i in 0..<bands { for j in i..<bands { rx.storage[i * bands + j] += Double(blockX[i * bands + j]) } }
        start += rows
    }
    symmetrizeFromUpper(&rx)
    return (rn, rx)
}

/// All eigenvalues of a symmetric matrix, largest first (no vectors).
///
/// The corresponding C function is `LAPACKE_dsyevd`.
func symmetricEigenvalues(_ m: Matrix) throws -> [Double] {
    let n = m.rows
    precondition(m.cols == n, "symmetricEigenvalues: \(m.rows)×\(m.cols) is not square")
    if n == 0 { return [] }
    var work = m.storage
    var w = [Double](repeating: 0, count: n)
    let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "U")), Int32(n), &work, Int32(n), &w)
    if info != 0 { throw NumericsError(routine: "LAPACKE_dsyevd", info: info, detail: "eigenvalues of a \(n)×\(n) matrix") }
    return w.reversed()
}

/// Whether every value is a non-negative whole number (counts), stopping at the first that is not.
func holdsCounts(_ data: UnsafeBufferPointer<Float>) -> Bool {
    for v in data where !(v.isFinite && v >= 0 && v == v.rounded(.towardZero)) { return false }
    return true
}
