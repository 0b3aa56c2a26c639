import CLapack
import Foundation

// Differentiable operations on `Variable`s. Each computes its value with plain loops or BLAS
// and records a pullback; binary operations broadcast as NumPy does.

// MARK: - Arithmetic

// Pullbacks capture tensors and shapes, never `Variable`s: a Variable holds its tape, and a
// tape holding a closure that holds the tape would never be freed.

public func + (a: Variable, b: Variable) -> Variable {
    let (sa, sb) = (a.shape, b.shape)
    return a.tape.record(broadcast(a.value, b.value, +), [a, b]) { g, _ in [sumToShape(g, sa), sumToShape(g, sb)] }
}

public func - (a: Variable, b: Variable) -> Variable {
    let (sa, sb) = (a.shape, b.shape)
    return a.tape.record(broadcast(a.value, b.value, -), [a, b]) { g, _ in
        [sumToShape(g, sa), sumToShape(g.map { -$0 }, sb)]
    }
}

public func * (a: Variable, b: Variable) -> Variable {
    let av = a.value, bv = b.value
    return a.tape.record(broadcast(av, bv, *), [a, b]) { g, needs in
        [needs[0] ? sumToShape(broadcast(g, bv, *), av.shape) : nil,
         needs[1] ? sumToShape(broadcast(g, av, *), bv.shape) : nil]
    }
}

public func / (a: Variable, b: Variable) -> Variable {
    let av = a.value, bv = b.value
    return a.tape.record(broadcast(av, bv, /), [a, b]) { g, needs in
        [needs[0] ? sumToShape(broadcast(g, bv, /), av.shape) : nil,
         needs[1] ? sumToShape(broadcast(broadcast(g, av, *), bv.map { -1 / ($0 * $0) }, *), bv.shape) : nil]
    }
}

public func + (a: Variable, s: Float) -> Variable { unary(a, { $0 + s }, { _, _ in 1 }) }
public func - (a: Variable, s: Float) -> Variable { unary(a, { $0 - s }, { _, _ in 1 }) }
public func * (a: Variable, s: Float) -> Variable { unary(a, { $0 * s }, { _, _ in s }) }
public func / (a: Variable, s: Float) -> Variable { unary(a, { $0 / s }, { _, _ in 1 / s }) }
public func * (s: Float, a: Variable) -> Variable { a * s }
public prefix func - (a: Variable) -> Variable { unary(a, { -$0 }, { _, _ in -1 }) }

/// An element-wise function with its derivative f'(x, f(x)).
@inline(__always)
func unary(_ a: Variable, _ f: (Float) -> Float, _ derivative: @escaping (Float, Float) -> Float) -> Variable {
    let x = a.value
    var values = x.storage
    values.withUnsafeMutableBufferPointer { py in
        inChunks(py.count) { range in for i in range { py[i] = f(py[i]) } }
    }
    let y = Tensor(shape: x.shape, storage: values)
    return a.tape.record(y, [a]) { g, _ in
        var out = g.storage
        x.storage.withUnsafeBufferPointer { px in
            y.storage.withUnsafeBufferPointer { py in
                out.withUnsafeMutableBufferPointer { po in
                    inChunks(po.count) { range in for i in range { po[i] *= derivative(px[i], py[i]) } }
                }
            }
        }
        return [Tensor(shape: x.shape, storage: out)]
    }
}

// MARK: - Element-wise functions

public func sqrt(_ a: Variable) -> Variable { unary(a, { $0.squareRoot() }, { _, y in 0.5 / y }) }
public func exp(_ a: Variable) -> Variable { unary(a, { Foundation.exp($0) }, { _, y in y }) }
public func log(_ a: Variable) -> Variable { unary(a, { Foundation.log($0) }, { x, _ in 1 / x }) }
public func abs(_ a: Variable) -> Variable { unary(a, { Swift.abs($0) }, { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
public func square(_ a: Variable) -> Variable { unary(a, { $0 * $0 }, { x, _ in 2 * x }) }
public func relu(_ a: Variable) -> Variable { unary(a, { max($0, 0) }, { x, _ in x > 0 ? 1 : 0 }) }
public func leakyRelu(_ a: Variable, alpha: Float) -> Variable {
    unary(a, { $0 > 0 ? $0 : alpha * $0 }, { x, _ in x > 0 ? 1 : alpha })
}
/// Values limited to [lo, hi]; the gradient is zero where the limit applies.
public func clamp(_ a: Variable, min lo: Float, max hi: Float) -> Variable {
    unary(a, { Swift.min(Swift.max($0, lo), hi) }, { x, _ in x >= lo && x <= hi ? 1 : 0 })
}
/// arccos; the input is clamped to [−1 + 1e-7, 1 − 1e-7] first (as Keras' losses do), so the
/// gradient stays finite.
public func arccos(_ a: Variable) -> Variable {
    let eps: Float = 1e-7
    return unary(clamp(a, min: -1 + eps, max: 1 - eps), { Foundation.acos($0) }, { x, _ in -1 / (1 - x * x).squareRoot() })
}

// MARK: - Reductions

/// (outer, n, inner) view of `shape` around `axis`.
private func split(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
}

private func normalise(axis: Int, rank: Int) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "axis \(axis) out of range for rank \(rank)")
    return a
}

/// The sum of all values (a scalar).
public func sum(_ a: Variable) -> Variable {
    let shape = a.shape
    return a.tape.record(Tensor(a.value.storage.reduce(0, +)), [a]) { g, _ in [Tensor(shape: shape, repeating: g.scalar)] }
}

/// The mean of all values (a scalar).
public func mean(_ a: Variable) -> Variable { sum(a) / Float(max(a.value.count, 1)) }

/// The sum along `axis`; the axis is kept with size 1 when `keepDims`.
public func sum(_ a: Variable, axis: Int, keepDims: Bool = false) -> Variable {
    let x = a.value
    let ax = normalise(axis: axis, rank: x.rank)
    let (outer, n, inner) = split(x.shape, ax)
    var out = [Float](repeating: 0, count: outer * inner)
    x.storage.withUnsafeBufferPointer { px in
        for o in 0..<outer { for k in 0..<n { for i in 0..<inner { out[o * inner + i] += px[(o * n + k) * inner + i] } } }
    }
    var shape = x.shape
    if keepDims { shape[ax] = 1 } else { shape.remove(at: ax) }
    return a.tape.record(Tensor(shape: shape, storage: out), [a]) { g, _ in
        var back = [Float](repeating: 0, count: x.count)
        for o in 0..<outer { for k in 0..<n { for i in 0..<inner { back[(o * n + k) * inner + i] = g.storage[o * inner + i] } } }
        return [Tensor(shape: x.shape, storage: back)]
    }
}

/// The mean along `axis`.
public func mean(_ a: Variable, axis: Int, keepDims: Bool = false) -> Variable {
    let n = a.shape[normalise(axis: axis, rank: a.shape.count)]
    return sum(a, axis: axis, keepDims: keepDims) / Float(n)
}

// MARK: - Along the last axis

/// Softmax over the last axis (numerically stabilised by the row maximum).
public func softmax(_ a: Variable) -> Variable {
    let x = a.value
    let n = x.shape.last ?? 1, rows = x.count / max(n, 1)
    var values = x.storage
    values.withUnsafeMutableBufferPointer { py in
        inChunks(rows, grain: rowGrain(n)) { chunk in
            for r in chunk {
                let row = py.baseAddress! + r * n
                var m = -Float.infinity
                for j in 0..<n { m = max(m, row[j]) }
                var s: Float = 0
                for j in 0..<n { row[j] = Foundation.exp(row[j] - m); s += row[j] }
                for j in 0..<n { row[j] /= s }
            }
        }
    }
    let y = values
    return a.tape.record(Tensor(shape: x.shape, storage: y), [a]) { g, _ in
        [rowWise(g, y, width: n) { _, gr, yr, dx in
            var dot: Float = 0
            for j in 0..<n { dot += gr[j] * yr[j] }
            for j in 0..<n { dx[j] = yr[j] * (gr[j] - dot) }
        }]
    }
}

/// Each vector along the last axis divided by its Euclidean norm (sqrt(Σx² + eps)).
public func l2Normalized(_ a: Variable, epsilon: Float = 1e-12) -> Variable {
    let x = a.value
    let n = x.shape.last ?? 1, rows = x.count / max(n, 1)
    var norms = [Float](repeating: 0, count: rows)
    var values = x.storage
    values.withUnsafeMutableBufferPointer { py in
        norms.withUnsafeMutableBufferPointer { pn in
            inChunks(rows, grain: rowGrain(n)) { chunk in
                for r in chunk {
                    let row = py.baseAddress! + r * n
                    var s: Float = 0
                    for j in 0..<n { s += row[j] * row[j] }
                    pn[r] = (s + epsilon).squareRoot()
                    for j in 0..<n { row[j] /= pn[r] }
                }
            }
        }
    }
    let (y, rowNorms) = (values, norms)
    return a.tape.record(Tensor(shape: x.shape, storage: y), [a]) { g, _ in
        [rowWise(g, y, width: n) { r, gr, yr, dx in
            var dot: Float = 0
            for j in 0..<n { dot += gr[j] * yr[j] }
            for j in 0..<n { dx[j] = (gr[j] - yr[j] * dot) / rowNorms[r] }
        }]
    }
}

/// The input gradient of a row-wise op with output values `y` (rows of `n`): `body(r, g_r, y_r,
/// dx_r)` fills row r of the result, rows in chunks on all cores.
private func rowWise(_ g: Tensor, _ y: [Float], width n: Int,
                     _ body: (Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
    var dx = [Float](repeating: 0, count: y.count)
    let rows = y.count / max(n, 1)
    g.storage.withUnsafeBufferPointer { pg in
        y.withUnsafeBufferPointer { py in
            dx.withUnsafeMutableBufferPointer { pd in
                inChunks(rows, grain: rowGrain(n)) { chunk in
                    for r in chunk { body(r, pg.baseAddress! + r * n, py.baseAddress! + r * n, pd.baseAddress! + r * n) }
                }
            }
        }
    }
    return Tensor(shape: g.shape, storage: dx)
}

// MARK: - Shapes

public func reshaped(_ a: Variable, _ shape: [Int]) -> Variable {
    let old = a.shape
    return a.tape.record(a.value.reshaped(shape), [a]) { g, _ in [g.reshaped(old)] }
}

/// The transpose of a matrix.
public func transposed(_ a: Variable) -> Variable {
    a.tape.record(transpose(a.value), [a]) { g, _ in [transpose(g)] }
}

func transpose(_ t: Tensor) -> Tensor {
    precondition(t.rank == 2, "transpose of a rank-\(t.rank) tensor")
    let (m, n) = (t.shape[0], t.shape[1])
    var out = [Float](repeating: 0, count: t.count)
    for i in 0..<m { for j in 0..<n { out[j * m + i] = t.storage[i * n + j] } }
    return Tensor(shape: [n, m], storage: out)
}

// MARK: - Matrix product

/// op(A) · op(B) of rank-2 tensors.
///
/// The corresponding C function is `cblas_sgemm`.
func gemm(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul of shapes \(a.shape) and \(b.shape)")
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    precondition(k == kb, "matmul: inner dimensions of \(a.shape) and \(b.shape) differ")
    var out = [Float](repeating: 0, count: m * n)
    if m > 0 && n > 0 && k > 0 {
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                                blasint(m), blasint(n), blasint(k), 1, pa.baseAddress, blasint(a.shape[1]),
                                pb.baseAddress, blasint(b.shape[1]), 0, po.baseAddress, blasint(n))
                }
            }
        }
    }
    return Tensor(shape: [m, n], storage: out)
}

/// The matrix product A · B (rank 2).
public func matmul(_ a: Variable, _ b: Variable) -> Variable {
    let av = a.value, bv = b.value
    return a.tape.record(gemm(av, bv), [a, b]) { g, needs in
        [needs[0] ? gemm(g, bv, transposeB: true) : nil, needs[1] ? gemm(av, g, transposeA: true) : nil]
    }
}

// MARK: - Convolution

/// How `conv2d` lays its product out. Both compute the same sums with the same number of
/// multiply-adds, as one large GEMM per pass; they differ in the buffer they build.
public enum ConvolutionMethod: Sendable {
    /// Copy every pixel's zero-padded patch into a row (N·H·W × KH·KW·C), then one GEMM with the
    /// kernel. Small when the input has few channels (a decoder from R abundances).
    case im2col
    /// Multiply every pixel by all the taps' kernels at once (N·H·W × C times C × KH·KW·F), then
    /// add each tap's product into the output pixel it shifts to. Small when the output has
    /// fewer channels than the input (an encoder on hundreds of bands).
    case tapProduct
    /// Whichever buffer is smaller: `tapProduct` when F < C, else `im2col`.
    case automatic
}

/// 2-D convolution with stride 1 and 'same' zero padding (TensorFlow's split: the extra row
/// or column of an even kernel goes after), for NHWC input x (N, H, W, C) and kernel w
/// (KH, KW, C, F); output (N, H, W, F). Cross-correlation, as every deep-learning library.
/// Each pass (output, input gradient, kernel gradient) is one GEMM plus a copy; see
/// `ConvolutionMethod`.
public func conv2d(_ x: Variable, _ w: Variable, method: ConvolutionMethod = .automatic) -> Variable {
    let xv = x.value, wv = w.value
    precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[3] == wv.shape[2], "conv2d: input \(xv.shape), kernel \(wv.shape)")
    let geometry = ConvGeometry(input: xv.shape, kernel: wv.shape)
    let pixels = geometry.n * geometry.h * geometry.w
    switch method == .automatic ? (geometry.filters < geometry.c ? .tapProduct : .im2col) : method {
    case .im2col, .automatic:
        let cols = geometry.im2col(xv)
        let kernel = wv.reshaped([geometry.taps * geometry.c, geometry.filters])
        let y = gemm(cols, kernel).reshaped(geometry.outputShape)
        return x.tape.record(y, [x, w]) { g, needs in
            let g2 = g.reshaped([pixels, geometry.filters])
            let dx = needs[0] ? geometry.col2im(gemm(g2, kernel, transposeB: true)) : nil
            let dw = needs[1] ? gemm(cols, g2, transposeA: true).reshaped(wv.shape) : nil
            return [dx, dw]
        }
    case .tapProduct:
        let x2 = xv.reshaped([pixels, geometry.c])
        let kernel = geometry.tapsAlongColumns(wv)                       // C × (T·F)
        let y = geometry.sumTaps(gemm(x2, kernel))
        return x.tape.record(y, [x, w]) { g, needs in
            let spread = geometry.spreadTaps(g)                          // P × (T·F)
            let dx = needs[0] ? gemm(spread, kernel, transposeB: true).reshaped(xv.shape) : nil
            let dw = needs[1] ? geometry.tapsAlongRows(gemm(x2, spread, transposeA: true)) : nil
            return [dx, dw]
        }
    }
}

struct ConvGeometry {
    let n, h, w, c, kh, kw, filters: Int
    let top, left: Int
    var taps: Int { kh * kw }
    var outputShape: [Int] { [n, h, w, filters] }

    init(input: [Int], kernel: [Int]) {
        (n, h, w, c) = (input[0], input[1], input[2], input[3])
        (kh, kw, filters) = (kernel[0], kernel[1], kernel[3])
        top = (kh - 1) / 2
        left = (kw - 1) / 2
    }

    /// Calls `body(outputPixel, inputPixel, tap)` for every kernel tap that falls inside the
    /// image (taps in the zero padding are skipped); pixels are flat indices over (N, H, W).
    /// Every layout below is one walk of it. With `parallel`, image rows are walked in chunks on
    /// all cores: only for a body whose writes belong to one output pixel (or to one (input
    /// pixel, tap) pair, which has a single output pixel), so that chunks never share a target.
    @inline(__always)
    private func forEachTap(parallel: Bool = false, _ body: (Int, Int, Int) -> Void) {
        inChunks(n * h, grain: parallel ? max(1, rowGrain(w * taps * max(c, filters))) : n * h) { imageRows in
            for row in imageRows { walkTaps(row: row, body) }
        }
    }

    @inline(__always)
    private func walkTaps(row: Int, _ body: (Int, Int, Int) -> Void) {
        let (b, i) = (row / h, row % h)
        for j in 0..<w {
            let out = (b * h + i) * w + j
            for di in 0..<kh {
                let y = i + di - top
                if y < 0 || y >= h { continue }
                for dj in 0..<kw {
                    let xcol = j + dj - left
                    if xcol < 0 || xcol >= w { continue }
                    body(out, (b * h + y) * w + xcol, di * kw + dj)
                }
            }
        }
    }

    /// (N·H·W) × (T·C): row = the zero-padded patch around one output pixel.
    func im2col(_ x: Tensor) -> Tensor {
        let (c, patch) = (self.c, taps * c)
        var cols = [Float](repeating: 0, count: n * h * w * patch)
        x.storage.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { pc in
                forEachTap(parallel: true) { out, input, t in
                    let (to, from) = (out * patch + t * c, input * c)
                    for ch in 0..<c { pc[to + ch] = px[from + ch] }
                }
            }
        }
        return Tensor(shape: [n * h * w, patch], storage: cols)
    }

    /// The adjoint of `im2col`: patch gradients summed back into the input's positions.
    func col2im(_ cols: Tensor) -> Tensor {
        let (c, patch) = (self.c, taps * c)
        var x = [Float](repeating: 0, count: n * h * w * c)
        cols.storage.withUnsafeBufferPointer { pc in
            x.withUnsafeMutableBufferPointer { px in
                forEachTap { out, input, t in
                    let (from, to) = (out * patch + t * c, input * c)
                    for ch in 0..<c { px[to + ch] += pc[from + ch] }
                }
            }
        }
        return Tensor(shape: [n, h, w, c], storage: x)
    }

    /// Output pixel ← Σ over taps of the tap's block of the input pixel it reads:
    /// products (N·H·W) × (T·F) → (N, H, W, F).
    func sumTaps(_ products: Tensor) -> Tensor {
        let (f, row) = (filters, taps * filters)
        var y = [Float](repeating: 0, count: n * h * w * f)
        products.storage.withUnsafeBufferPointer { pz in
            y.withUnsafeMutableBufferPointer { py in
                forEachTap(parallel: true) { out, input, t in
                    let (to, from) = (out * f, input * row + t * f)
                    for k in 0..<f { py[to + k] += pz[from + k] }
                }
            }
        }
        return Tensor(shape: outputShape, storage: y)
    }

    /// The adjoint of `sumTaps`: each output pixel's gradient copied into the tap block of every
    /// input pixel it read, (N, H, W, F) → (N·H·W) × (T·F), zeros where a tap fell off the image.
    func spreadTaps(_ g: Tensor) -> Tensor {
        let (f, row) = (filters, taps * filters)
        var spread = [Float](repeating: 0, count: n * h * w * row)
        g.storage.withUnsafeBufferPointer { pg in
            spread.withUnsafeMutableBufferPointer { ps in
                forEachTap(parallel: true) { out, input, t in
                    let (from, to) = (out * f, input * row + t * f)
                    for k in 0..<f { ps[to + k] = pg[from + k] }
                }
            }
        }
        return Tensor(shape: [n * h * w, row], storage: spread)
    }

    /// Kernel (KH, KW, C, F) → C × (T·F): column block t holds tap t's C × F matrix.
    func tapsAlongColumns(_ kernel: Tensor) -> Tensor {
        var out = [Float](repeating: 0, count: kernel.count)
        for t in 0..<taps { for ch in 0..<c { for k in 0..<filters {
            out[(ch * taps + t) * filters + k] = kernel.storage[(t * c + ch) * filters + k]
        } } }
        return Tensor(shape: [c, taps * filters], storage: out)
    }

    /// The inverse of `tapsAlongColumns`: C × (T·F) → (KH, KW, C, F).
    func tapsAlongRows(_ matrix: Tensor) -> Tensor {
        var out = [Float](repeating: 0, count: matrix.count)
        for t in 0..<taps { for ch in 0..<c { for k in 0..<filters {
            out[(t * c + ch) * filters + k] = matrix.storage[(ch * taps + t) * filters + k]
        } } }
        return Tensor(shape: [kh, kw, c, filters], storage: out)
    }
}

// MARK: - Batch normalisation

/// Batch normalisation in training mode over the rows of x (N, F), fused into one op:
/// y = γ·(x − μ)/sqrt(σ² + ε) + β with the batch mean μ and biased variance σ² of each column.
/// Returns y and the batch statistics (for the moving averages).
public func batchNormalized(_ x: Variable, gamma: Variable, beta: Variable, epsilon: Float)
    -> (output: Variable, mean: [Float], variance: [Float]) {
    let xv = x.value, gv = gamma.value, bv = beta.value
    precondition(xv.rank == 2 && gv.count == xv.shape[1] && bv.count == xv.shape[1], "batchNormalized: x \(xv.shape), γ \(gv.shape), β \(bv.shape)")
    let (n, f) = (xv.shape[0], xv.shape[1])
    var mean = [Float](repeating: 0, count: f), variance = [Float](repeating: 0, count: f)
    for i in 0..<n { for j in 0..<f { mean[j] += xv.storage[i * f + j] } }
    for j in 0..<f { mean[j] /= Float(n) }
    for i in 0..<n { for j in 0..<f { let d = xv.storage[i * f + j] - mean[j]; variance[j] += d * d } }
    for j in 0..<f { variance[j] /= Float(n) }
    let inverse = variance.map { 1 / ($0 + epsilon).squareRoot() }
    var xhat = [Float](repeating: 0, count: n * f), y = [Float](repeating: 0, count: n * f)
    for i in 0..<n {
        for j in 0..<f {
            let h = (xv.storage[i * f + j] - mean[j]) * inverse[j]
            xhat[i * f + j] = h
            y[i * f + j] = gv.storage[j] * h + bv.storage[j]
        }
    }
    let out = x.tape.record(Tensor(shape: xv.shape, storage: y), [x, gamma, beta]) { g, _ in
        var dgamma = [Float](repeating: 0, count: f), dbeta = [Float](repeating: 0, count: f)
        var sumDxhat = [Float](repeating: 0, count: f), sumDxhatXhat = [Float](repeating: 0, count: f)
        for i in 0..<n {
            for j in 0..<f {
                let gi = g.storage[i * f + j], h = xhat[i * f + j]
                dbeta[j] += gi
                dgamma[j] += gi * h
                let dh = gi * gv.storage[j]
                sumDxhat[j] += dh
                sumDxhatXhat[j] += dh * h
            }
        }
        var dx = [Float](repeating: 0, count: n * f)
        let nf = Float(n)
        for i in 0..<n {
            for j in 0..<f {
                let dh = g.storage[i * f + j] * gv.storage[j]
                dx[i * f + j] = inverse[j] / nf * (nf * dh - sumDxhat[j] - xhat[i * f + j] * sumDxhatXhat[j])
            }
        }
        return [Tensor(shape: xv.shape, storage: dx), Tensor(shape: gv.shape, storage: dgamma), Tensor(shape: bv.shape, storage: dbeta)]
    }
    return (out, mean, variance)
}
