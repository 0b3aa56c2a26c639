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
    private var velocity: [ObjectIdentifier: [Float]] = [:]

    public init(learningRate: Float = 0.01, momentum: Float = 0, decay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.decay = decay
    }

    public func step(_ gradients: [(Weight, Tensor)]) {
        let lr = learningRate / (1 + decay * Float(iterations))
        for (p, g) in gradients {
            var v = velocity[ObjectIdentifier(p)] ?? [Float](repeating: 0, count: g.count)
            for i in 0..<g.count {
                v[i] = momentum * v[i] - lr * g.storage[i]
                p.value.storage[i] += v[i]
            }
            velocity[ObjectIdentifier(p)] = v
            p.constraint?.apply(&p.value)
        }
        iterations += 1
    }
}

/// a ← ρa + (1 − ρ)g²; w ← w − lr_t·g/(√a + ε). Keras defaults ρ = 0.9, ε = 1e-7.
public final class RMSprop: Optimizer {
    public var learningRate: Float, rho: Float, epsilon: Float, decay: Float
    private var iterations = 0
    private var accumulators: [ObjectIdentifier: [Float]] = [:]

    public init(learningRate: Float = 0.001, rho: Float = 0.9, epsilon: Float = 1e-7, decay: Float = 0) {
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
        self.decay = decay
    }

    public func step(_ gradients: [(Weight, Tensor)]) {
        let lr = learningRate / (1 + decay * Float(iterations))
        for (p, g) in gradients {
            var a = accumulators[ObjectIdentifier(p)] ?? [Float](repeating: 0, count: g.count)
            p.value.storage.withUnsafeMutableBufferPointer { w in
                for i in 0..<g.count {
                    let gi = g.storage[i]
                    a[i] = rho * a[i] + (1 - rho) * gi * gi
                    w[i] -= lr * gi / (a[i].squareRoot() + epsilon)
                }
            }
            accumulators[ObjectIdentifier(p)] = a
            p.constraint?.apply(&p.value)
        }
        iterations += 1
    }
}

/// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; w ← w − lr_t·m/(√v + ε) with
/// lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ). Keras defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-7.
public final class Adam: Optimizer {
    public var learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, decay: Float
    private var iterations = 0
    private var moments: [ObjectIdentifier: ([Float], [Float])] = [:]

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
        for (p, g) in gradients {
            var (m, v) = moments[ObjectIdentifier(p)] ?? ([Float](repeating: 0, count: g.count), [Float](repeating: 0, count: g.count))
            for i in 0..<g.count {
                let gi = g.storage[i]
                m[i] = beta1 * m[i] + (1 - beta1) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                p.value.storage[i] -= lr * m[i] / (v[i].squareRoot() + epsilon)
            }
            moments[ObjectIdentifier(p)] = (m, v)
            p.constraint?.apply(&p.value)
        }
        iterations += 1
    }
}
