/// Element-wise combination of two tensors with NumPy broadcasting.
///
/// Fast paths for the shapes autoencoders meet (equal shapes, a scalar, a trailing-axes operand
/// such as a bias row); the general case walks the output with per-operand strides (0 along
/// broadcast axes).
@inline(__always)
func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    if a.shape == b.shape {
        var out = a.storage
        b.storage.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { po in
                inChunks(po.count) { range in for i in range { po[i] = f(po[i], pb[i]) } }
            }
        }
        return Tensor(shape: a.shape, storage: out)
    }
    guard let shape = broadcastShape(a.shape, b.shape) else {
        preconditionFailure("cannot broadcast shapes \(a.shape) and \(b.shape)")
    }
    let n = shape.reduce(1, *)
    // One operand repeats with a period that divides the other: trailing-axes broadcast.
    if a.shape == shape, isTrailing(b.shape, of: shape) { return cycling(a, b, f) }
    if b.shape == shape, isTrailing(a.shape, of: shape) { return cycling(b, a, { f($1, $0) }) }
    var out = [Float](repeating: 0, count: n)
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    var index = [Int](repeating: 0, count: shape.count)
    var ia = 0, ib = 0
    for i in 0..<n {
        out[i] = f(a.storage[ia], b.storage[ib])
        // Odometer increment.
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            ia += sa[d]
            ib += sb[d]
            if index[d] < shape[d] { break }
            ia -= sa[d] * shape[d]
            ib -= sb[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
    return Tensor(shape: shape, storage: out)
}

/// f(big[i], small[i mod small.count]) for every i: `small` broadcast along the leading axes.
@inline(__always)
private func cycling(_ big: Tensor, _ small: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    var out = [Float](repeating: 0, count: big.count)
    let m = max(small.count, 1)
    big.storage.withUnsafeBufferPointer { pa in
        small.storage.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { po in
                inChunks(po.count) { range in
                    var j = range.lowerBound % m
                    for i in range {
                        po[i] = f(pa[i], pb[j])
                        j += 1
                        if j == m { j = 0 }
                    }
                }
            }
        }
    }
    return Tensor(shape: big.shape, storage: out)
}

/// True when `small` equals the trailing axes of `shape` after dropping leading 1s (so it
/// repeats with period `small.count` along the flat storage).
private func isTrailing(_ small: [Int], of shape: [Int]) -> Bool {
    var s = small
    while let first = s.first, first == 1, s.count > 0 { s.removeFirst() }
    return s.count <= shape.count && Array(shape.suffix(s.count)) == s
}

/// Strides of `shape` seen as broadcast to `target` (0 along stretched or missing axes).
private func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = strides(shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { i in
        i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
    }
}

/// Sums `t` down to `shape` over the axes that broadcasting stretched: the adjoint of
/// broadcasting, used by every binary op's gradient.
func sumToShape(_ t: Tensor, _ shape: [Int]) -> Tensor {
    if t.shape == shape { return t }
    let count = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count)
    if isTrailing(shape, of: t.shape) {
        let m = max(count, 1)
        var j = 0
        for v in t.storage {
            out[j] += v
            j += 1
            if j == m { j = 0 }
        }
        return Tensor(shape: shape, storage: out)
    }
    let s = broadcastStrides(shape, to: t.shape)
    var index = [Int](repeating: 0, count: t.shape.count)
    var io = 0
    for v in t.storage {
        out[io] += v
        var d = t.shape.count - 1
        while d >= 0 {
            index[d] += 1
            io += s[d]
            if index[d] < t.shape[d] { break }
            io -= s[d] * t.shape[d]
            index[d] = 0
            d -= 1
        }
    }
    return Tensor(shape: shape, storage: out)
}
