import UnmixNumerics

/// Minibatch training with Keras' `fit` semantics: every epoch visits the samples in a new
/// random order (seeded), in batches of `batchSize` with a smaller last batch, calling `step`
/// on each batch (which runs the forward pass, the gradients and the optimiser step, and returns
/// the batch loss).
public struct TrainingLoop {
    public var epochs: Int
    public var batchSize: Int
    public var shuffle: Bool

    public init(epochs: Int, batchSize: Int, shuffle: Bool = true) {
        precondition(epochs >= 0 && batchSize >= 1, "TrainingLoop: epochs \(epochs), batch size \(batchSize)")
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
    }

    /// Trains on `samples` (first axis = sample). `afterEpoch(epoch, meanLoss)` may throw to stop
    /// (e.g. on cancellation); the mean batch loss of each epoch is returned.
    @discardableResult
    public func run(_ samples: Tensor, random: inout RandomStream,
                    afterEpoch: (Int, Float) throws -> Void = { _, _ in },
                    step: (Tensor) throws -> Float) throws -> [Float] {
        let n = samples.shape[0]
        let width = samples.count / max(n, 1)
        var history = [Float]()
        var order = Array(0..<n)
        for epoch in 0..<epochs {
            if shuffle { order = random.permutation(n) }
            var total: Float = 0, batches = 0
            var start = 0
            while start < n {
                let end = min(start + batchSize, n)
                var values = [Float]()
                values.reserveCapacity((end - start) * width)
                for i in order[start..<end] { values.append(contentsOf: samples.storage[(i * width)..<((i + 1) * width)]) }
                var shape = samples.shape
                shape[0] = end - start
                total += try step(Tensor(shape: shape, storage: values))
                batches += 1
                start = end
            }
            let meanLoss = total / Float(max(batches, 1))
            history.append(meanLoss)
            try afterEpoch(epoch, meanLoss)
        }
        return history
    }
}

/// Parameters (and any other tensors, such as BatchNorm's moving statistics) as bytes and back:
/// the body of a plugin's saved state. Shapes are checked on load.
public enum TensorArchive {
    public static func encode(_ tensors: [Tensor]) -> [Double] {
        var out: [Double] = [Double(tensors.count)]
        for t in tensors {
            out.append(Double(t.rank))
            out += t.shape.map(Double.init)
            out += t.storage.map(Double.init)
        }
        return out
    }

    /// The shapes of the tensors in an archive, or nil when `values` is not one: every count,
    /// rank and dimension must be an exact integer, every tensor must fit in the values that
    /// remain, and nothing may be left over. Never traps, whatever the values.
    public static func shapes(_ values: [Double]) -> [[Int]]? {
        var i = 0
        func integer(_ range: ClosedRange<Int>) -> Int? {
            guard i < values.count, let v = Int(exactly: values[i]), range.contains(v) else { return nil }
            i += 1
            return v
        }
        guard let count = integer(0...values.count) else { return nil }
        var shapes = [[Int]]()
        for _ in 0..<count {
            guard let rank = integer(0...32) else { return nil }
            var shape = [Int](), size = 1
            for _ in 0..<rank {
                guard let d = integer(0...values.count) else { return nil }
                let (product, overflow) = size.multipliedReportingOverflow(by: d)
                guard !overflow else { return nil }
                (size, shape) = (product, shape + [d])
            }
            guard size <= values.count - i else { return nil }
            i += size
            shapes.append(shape)
        }
        return i == values.count ? shapes : nil
    }

    /// Restores values into tensors of the same shapes as `like`; nil when the archive does not fit.
    public static func decode(_ values: [Double], like: [Tensor]) -> [Tensor]? {
        guard let shapes = shapes(values), shapes == like.map(\.shape) else { return nil }
        var i = 1
        return shapes.map { shape in
            i += 1 + shape.count
            let n = shape.reduce(1, *)
            defer { i += n }
            return Tensor(shape: shape, storage: values[i..<(i + n)].map(Float.init))
        }
    }

    /// Copies an archive written by `encode` into `weights` (a freshly built model's, in the
    /// same order); false, leaving them untouched, when the archive does not fit them.
    public static func restore(_ values: [Double], into weights: [Weight]) -> Bool {
        guard let tensors = decode(values, like: weights.map(\.value)) else { return false }
        for (w, t) in zip(weights, tensors) { w.value = t }
        return true
    }
}
