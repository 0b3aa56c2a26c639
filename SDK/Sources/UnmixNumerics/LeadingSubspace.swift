import CLapack

/// The leading eigenpairs of the scatter matrix (X − 1mᵀ)ᵀ(X − 1mᵀ)/P of P pixels × B bands,
/// without forming that B × B matrix: randomised subspace iteration (Halko, Martinsson & Tropp,
/// SIAM Review 53(2), 2011, Algorithms 4.4 and 5.1).
///
/// Design notes. A full eigen-decomposition costs O(B³) (0.1 s at B = 903) although unmixing
/// needs only R ≤ 20 vectors; forming the scatter matrix alone costs O(PB²). Here every step is
/// a GEMM of the P × B data with a thin block of ℓ = k + `oversampling` columns (single precision,
/// on the data as given, centring applied as a rank-one correction), re-orthonormalised by QR,
/// then a small SVD of the ℓ × B projection gives the Ritz pairs. With the signal eigenvalues well
/// above the noise floor, as in any cube worth unmixing, `iterations` = 6 power steps make the
/// leading vectors exact to single precision. The starting block comes from a fixed seed, so the
/// result is deterministic.
///
/// - Parameters:
///   - data: P × B values, row-major (pixel-major, band-contiguous).
///   - mean: subtract this B-vector from every row first (nil: uncentred).
/// - Returns: eigenvalues of the scatter matrix (descending) and its eigenvectors (B × k).
public func leadingScatterEigen(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, mean: [Double]?,
                                k: Int, oversampling: Int = 10, iterations: Int = 6,
                                seed: UInt64 = 0x5EED) throws -> SymmetricEigen {
    precondition(data.count == pixels * bands, "leadingScatterEigen: \(data.count) values for \(pixels)×\(bands)")
    precondition(k >= 1 && k <= min(pixels, bands), "leadingScatterEigen: k = \(k) for a \(pixels)×\(bands) matrix")
    let l = min(k + oversampling, min(pixels, bands))
    let m = mean.map { $0.map(Float.init) }
    var random = RandomStream(seed: seed)
    var z = (0..<(bands * l)).map { _ in Float(random.normal()) }          // B × ℓ
    var y = [Float](repeating: 0, count: pixels * l)                        // P × ℓ
    for step in 0...iterations {
        // Y = Xc Z, orthonormalised.
        multiply(data, pixels, bands, transpose: false, z, l, into: &y)
        if let m { centre(&y, rows: pixels, l: l, m: m, z) }
        try orthonormalise(&y, rows: pixels, cols: l)
        if step == iterations { break }
        // Z = Xcᵀ Y, orthonormalised.
        multiply(data, pixels, bands, transpose: true, y, l, into: &z)
        if let m { centreTransposed(&z, bands: bands, l: l, m: m, y, pixels: pixels) }
        try orthonormalise(&z, rows: bands, cols: l)
    }
    // Bt = Xcᵀ Q (B × ℓ); Xc ≈ Q Qᵀ Xc, so the eigenpairs of XcᵀXc come from the SVD of Bt.
    var bt = [Float](repeating: 0, count: bands * l)
    multiply(data, pixels, bands, transpose: true, y, l, into: &bt)
    if let m { centreTransposed(&bt, bands: bands, l: l, m: m, y, pixels: pixels) }
    let (u, s, _) = try svd(Matrix(rows: bands, cols: l, storage: bt.map(Double.init)))
    var vectors = Matrix(rows: bands, cols: k)
    for i in 0..<bands { for j in 0..<k { vectors[i, j] = u[i, j] } }
    return SymmetricEigen(values: (0..<k).map { s[$0] * s[$0] / Double(pixels) }, vectors: vectors)
}

/// out = X · b (transpose false: P × B times B × ℓ) or Xᵀ · b (true: B × P times P × ℓ).
/// X · b goes in blocks of pixels (`multiplyPixelBlocks`: one call would make OpenBLAS pack all
/// of X); Xᵀ · b is one call, whose scratch measured 1 MiB whatever P.
///
/// The corresponding C function is `cblas_sgemm`.
private func multiply(_ x: UnsafeBufferPointer<Float>, _ p: Int, _ bands: Int, transpose: Bool,
                      _ b: [Float], _ l: Int, into out: inout [Float]) {
    b.withUnsafeBufferPointer { pb in
        out.withUnsafeMutableBufferPointer { po in
            if transpose {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(bands), blasint(l), blasint(p), 1,
                            x.baseAddress, blasint(bands), pb.baseAddress, blasint(l), 0, po.baseAddress, blasint(l))
            } else {
                multiplyPixelBlocks(x, pixels: p, bands: bands, pb, k: l, into: po)
            }
        }
    }
}

/// Y −= 1 (mᵀZ): the centring correction of (X − 1mᵀ) Z.
private func centre(_ y: inout [Float], rows: Int, l: Int, m: [Float], _ z: [Float]) {
    var mz = [Float](repeating: 0, count: l)
    for b in 0..<m.count { for j in 0..<l { mz[j] += m[b] * z[b * l + j] } }
    for i in 0..<rows { for j in 0..<l { y[i * l + j] -= mz[j] } }
}

/// Z −= m (1ᵀY): the centring correction of (X − 1mᵀ)ᵀ Y.
private func centreTransposed(_ z: inout [Float], bands: Int, l: Int, m: [Float], _ y: [Float], pixels: Int) {
    var colSum = [Float](repeating: 0, count: l)
    for i in 0..<pixels { for j in 0..<l { colSum[j] += y[i * l + j] } }
    for b in 0..<bands { for j in 0..<l { z[b * l + j] -= m[b] * colSum[j] } }
}

/// Replaces the columns of a rows × cols matrix by an orthonormal basis of their span (QR).
///
/// The corresponding C functions are `LAPACKE_sgeqrf` and `LAPACKE_sorgqr`.
private func orthonormalise(_ a: inout [Float], rows: Int, cols: Int) throws {
    var tau = [Float](repeating: 0, count: cols)
    try lapackCheck(LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(rows), Int32(cols), &a, Int32(cols), &tau),
                    "LAPACKE_sgeqrf", "QR of a \(rows)×\(cols) block")
    try lapackCheck(LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(rows), Int32(cols), Int32(cols), &a, Int32(cols), &tau),
                    "LAPACKE_sorgqr", "Q of a \(rows)×\(cols) block")
}

/// The `k` leading singular triplets of single-precision data X (P × B): X ≈ U · diag(s) · Vᵀ,
/// with U (P × k) and V (B × k) orthonormal, s descending. Uncentred, as an SVD is.
///
/// Built on `leadingScatterEigen`: V are the eigenvectors of XᵀX/P, s = sqrt(P · λ), U = X V / s.
/// Singular vectors are defined up to sign; here each column of V is flipped so that its
/// largest-magnitude entry is positive, making the result reproducible.
public func truncatedSVD(_ data: UnsafeBufferPointer<Float>, pixels: Int, bands: Int, k: Int) throws
    -> (u: Matrix, s: [Double], v: Matrix) {
    let eigen = try leadingScatterEigen(data, pixels: pixels, bands: bands, mean: nil, k: k)
    var v = eigen.vectors
    for j in 0..<k {
        var big = 0
        for i in 0..<bands where abs(v[i, j]) > abs(v[big, j]) { big = i }
        if v[big, j] < 0 { for i in 0..<bands { v[i, j] = -v[i, j] } }
    }
    let s = eigen.values.map { (max($0, 0) * Double(pixels)).squareRoot() }
    var u = project(data, pixels: pixels, bands: bands, onto: v)
    for j in 0..<k where s[j] > 0 { for i in 0..<pixels { u[i, j] /= s[j] } }
    return (u, s, v)
}
