import Foundation

/// Updates parameters along their gradients, with Keras semantics (the formulas below are the
/// documented Keras 2 / TF 2 update rules; a `decay` > 0 scales the learning rate by
/// 1/(1 + decay·t) where t counts the steps already taken, as the legacy Keras optimisers do).
/// Constraints are applied after each step.
public protocol Optimizer: AnyObject {
    func step(_ gradients: [(Weight, Tensor)])
}

/// w ← w − lr_t·g, or with momentum μ: v ← μv − lr_t·g; w ← w + v.
public final class SGD: Optimizer {
    public var learningRate: Float, momentum: Float, decay: Float
    private var iterations = 0
    private var velocity = Slots()

    public init(learningRate: Float = 0.01, momentum: Float = 0, decay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.decay = decay
    }

    public func step(_ gradients: [(Weight, Tensor)]) {
        let lr = learningRate / (1 + decay * Float(iterations))
        for (p, g) in gradients {
            let v = velocity.slot(p)
            update(p, v, g) { _, w, v, g in
                v = momentum * v - lr * g
                w += v
            }
        }
        iterations += 1
    }
}

/// a ← ρa + (1 − ρ)g²; w ← w − lr_t·g/(√a + ε). Keras defaults ρ = 0.9, ε = 1e-7.
public final class RMSprop: Optimizer {
    public var learningRate: Float, rho: Float, epsilon: Float, decay: Float
    private var iterations = 0
    private var accumulators = Slots()

    public init(learningRate: Float = 0.001, rho: Float = 0.9, epsilon: Float = 1e-7, decay: Float = 0) {
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
        self.decay = decay
    }

    public func step(_ gradients: [(Weight, Tensor)]) {
        let lr = learningRate / (1 + decay * Float(iterations))
        let (rho, epsilon) = (self.rho, self.epsilon)
        for (p, g) in gradients {
            update(p, accumulators.slot(p), g) { _, w, a, g in
                a = rho * a + (1 - rho) * g * g
                w -= lr * g / (a.squareRoot() + epsilon)
            }
        }
        iterations += 1
    }
}

/// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; w ← w − lr_t·m/(√v + ε) with
/// lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ). Keras defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-7.
public final class Adam: Optimizer {
    public var learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, decay: Float
    private var iterations = 0
    private var first = Slots(), second = Slots()

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7, decay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decay = decay
    }

    public func step(_ gradients: [(Weight, Tensor)]) {
        let t = Float(iterations + 1)
        let lr = learningRate / (1 + decay * Float(iterations)) * (1 - powf(beta2, t)).squareRoot() / (1 - powf(beta1, t))
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon)
        for (p, g) in gradients {
            let m = first.slot(p), v = second.slot(p)
            v.values.withUnsafeMutableBufferPointer { pv in
                update(p, m, g) { i, w, m, g in
                    m = beta1 * m + (1 - beta1) * g
                    pv[i] = beta2 * pv[i] + (1 - beta2) * g * g
                    w -= lr * m / (pv[i].squareRoot() + epsilon)
                }
            }
        }
        iterations += 1
    }
}

/// Per-weight optimiser state, one buffer per weight, updated in place.
final class Slot {
    var values: [Float]
    init(count: Int) { values = [Float](repeating: 0, count: count) }
}

struct Slots {
    private var table: [ObjectIdentifier: Slot] = [:]
    mutating func slot(_ p: Weight) -> Slot {
        if let s = table[ObjectIdentifier(p)] { return s }
        let s = Slot(count: p.value.count)
        table[ObjectIdentifier(p)] = s
        return s
    }
}

/// Applies `rule(i, &w, &state, g)` to every element i in place, then the weight's constraint.
/// A weight of millions of values (MTAEU's 4B × B shared layer) is updated on all cores in
/// fixed chunks (`inChunks`): the update is memory-bound and one core does not saturate memory.
@inline(__always)
func update(_ p: Weight, _ state: Slot, _ g: Tensor, _ rule: (Int, inout Float, inout Float, Float) -> Void) {
    precondition(g.count == p.value.count && state.values.count == g.count,
                 "optimiser: gradient of \(g.count) values for a weight of \(p.value.count)")
    g.storage.withUnsafeBufferPointer { pg in
        state.values.withUnsafeMutableBufferPointer { ps in
            p.value.storage.withUnsafeMutableBufferPointer { pw in
                guard let (gp, sp, wp) = pg.baseAddress.map({ ($0, ps.baseAddress!, pw.baseAddress!) }) else { return }
                inChunks(pg.count, grain: 1 << 18) { range in
                    for i in range { rule(i, &wp[i], &sp[i], gp[i]) }
                }
            }
        }
    }
    p.constraint?.apply(&p.value)
}
