import UnmixNumerics

/// A trainable tensor (a layer's weight, bias, scale…). Layers hold their parameters by reference, so an optimiser updates them
/// in place and the state it keeps per parameter (moments, accumulators) is keyed by identity.
public final class Weight {
    public var value: Tensor
    /// Applied after every optimiser step (e.g. `.nonNegative`, Keras' `non_neg()`).
    public var constraint: Constraint?

    public init(_ value: Tensor, constraint: Constraint? = nil) {
        self.value = value
        self.constraint = constraint
    }
}

/// A projection applied to a parameter after each optimiser step.
public enum Constraint: Sendable {
    /// w ← w · 1[w ≥ 0].
    case nonNegative

    func apply(_ t: inout Tensor) {
        switch self {
        case .nonNegative: for i in 0..<t.storage.count where t.storage[i] < 0 { t.storage[i] = 0 }
        }
    }
}

/// Weight initialisers (Keras' definitions).
public enum Initializer: Sendable {
    /// U(−l, l) with l = sqrt(6 / (fan_in + fan_out)).
    case glorotUniform
    /// N(mean, std²).
    case normal(mean: Float, std: Float)
    case zeros
    case ones

    /// A tensor of `shape`; fans follow Keras: dense (in, out); conv (kh, kw, in, out) with the
    /// receptive field multiplying both fans.
    public func make(_ shape: [Int], random: inout RandomStream) -> Tensor {
        let count = shape.reduce(1, *)
        switch self {
        case .zeros: return Tensor(shape: shape)
        case .ones: return Tensor(shape: shape, repeating: 1)
        case let .normal(mean, std):
            return Tensor(shape: shape, storage: (0..<count).map { _ in mean + std * Float(random.normal()) })
        case .glorotUniform:
            let receptive = shape.count > 2 ? shape.dropLast(2).reduce(1, *) : 1
            let fanIn = Float((shape.count >= 2 ? shape[shape.count - 2] : shape[0]) * receptive)
            let fanOut = Float((shape.last ?? 1) * receptive)
            let limit = (6 / (fanIn + fanOut)).squareRoot()
            return Tensor(shape: shape, storage: (0..<count).map { _ in -limit + 2 * limit * Float(random.uniform()) })
        }
    }
}

/// What one forward pass needs besides its input: the tape, whether it is training (dropout,
/// noise and batch statistics are on), a random stream, and the leaf variable bound to each
/// parameter on this tape.
public final class ForwardContext {
    public let tape: Tape
    public let training: Bool
    public var random: RandomStream
    private(set) var bound: [(Weight, Variable)] = []
    private var index: [ObjectIdentifier: Int] = [:]

    public init(tape: Tape = Tape(), training: Bool, random: RandomStream = RandomStream(seed: 0)) {
        self.tape = tape
        self.training = training
        self.random = random
    }

    /// The variable of `p` on this tape (created on first use).
    public func variable(_ p: Weight) -> Variable {
        if let i = index[ObjectIdentifier(p)] { return bound[i].1 }
        let v = tape.parameter(p.value)
        index[ObjectIdentifier(p)] = bound.count
        bound.append((p, v))
        return v
    }

    /// The gradient of `loss` for every parameter used in this pass.
    public func gradients(of loss: Variable) -> [(Weight, Tensor)] {
        let grads = tape.gradients(of: loss, wrt: bound.map(\.1))
        return zip(bound.map(\.0), grads).map { ($0, $1) }
    }
}
