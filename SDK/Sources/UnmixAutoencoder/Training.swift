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

    /// Restores values into tensors of the same shapes as `like`; nil when the archive does not fit.
    public static func decode(_ values: [Double], like: [Tensor]) -> [Tensor]? {
        var i = 0
        func next() -> Double? { i < values.count ? values[i] : nil }
        guard let count = next(), Int(count) == like.count else { return nil }
        i += 1
        var out = [Tensor]()
        for t in like {
            guard let rank = next(), Int(rank) == t.rank, i + 1 + t.rank + t.count <= values.count else { return nil }
            i += 1
            let shape = values[i..<(i + t.rank)].map { Int($0) }
            guard shape == t.shape else { return nil }
            i += t.rank
            out.append(Tensor(shape: shape, storage: values[i..<(i + t.count)].map(Float.init)))
            i += t.count
        }
        return i == values.count ? out : nil
    }

    /// Copies an archive written by `encode` into `weights` (a freshly built model's, in the
    /// same order); false, leaving them untouched, when the archive does not fit them.
    public static func restore(_ values: [Double], into weights: [Weight]) -> Bool {
        guard let tensors = decode(values, like: weights.map(\.value)) else { return false }
        for (w, t) in zip(weights, tensors) { w.value = t }
        return true
    }
}
