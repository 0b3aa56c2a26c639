import Foundation
import UnmixNumerics

/// A layer: a value whose stored properties hold its parameters, applied with `callAsFunction`.
public protocol Layer {
    func callAsFunction(_ x: Variable, _ context: ForwardContext) -> Variable
    /// The trainable parameters.
    var parameters: [Weight] { get }
}

extension Layer {
    public var parameters: [Weight] { [] }
}

/// x·W (+ b), W of shape (in, out).
public struct Dense: Layer {
    public let weight: Weight
    public let bias: Weight?

    public init(inputs: Int, outputs: Int, bias: Bool = true, initializer: Initializer = .glorotUniform,
                constraint: Constraint? = nil, random: inout RandomStream) {
        weight = Weight(initializer.make([inputs, outputs], random: &random), constraint: constraint)
        self.bias = bias ? Weight(Tensor(shape: [outputs])) : nil
    }

    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable {
        let y = matmul(x, c.variable(weight))
        return bias.map { y + c.variable($0) } ?? y
    }

    public var parameters: [Weight] { [weight] + (bias.map { [$0] } ?? []) }
}

/// 2-D convolution, stride 1, 'same' zero padding, no bias; kernel (kh, kw, in, out); NHWC.
public struct Conv2D: Layer {
    public let kernel: Weight

    public init(kernelSize: (Int, Int), inputs: Int, outputs: Int, initializer: Initializer = .glorotUniform,
                constraint: Constraint? = nil, random: inout RandomStream) {
        kernel = Weight(initializer.make([kernelSize.0, kernelSize.1, inputs, outputs], random: &random),
                           constraint: constraint)
    }

    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable { conv2d(x, c.variable(kernel)) }
    public var parameters: [Weight] { [kernel] }
}

/// Batch normalisation over the last axis (Keras defaults: momentum 0.99, epsilon 1e-3,
/// γ = 1, β = 0): batch statistics in training (and the moving averages updated), the moving
/// averages in inference.
public struct BatchNorm: Layer {
    public let gamma: Weight
    public let beta: Weight
    /// Moving mean and variance (not trained by gradients).
    public let movingMean: Weight
    public let movingVariance: Weight
    public var momentum: Float
    public var epsilon: Float

    public init(features: Int, momentum: Float = 0.99, epsilon: Float = 1e-3) {
        gamma = Weight(Tensor(shape: [features], repeating: 1))
        beta = Weight(Tensor(shape: [features]))
        movingMean = Weight(Tensor(shape: [features]))
        movingVariance = Weight(Tensor(shape: [features], repeating: 1))
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable {
        let features = x.shape.last!
        let flat = reshaped(x, [-1, features])
        if c.training {
            let (y, mean, variance) = batchNormalized(flat, gamma: c.variable(gamma), beta: c.variable(beta), epsilon: epsilon)
            // moving ← moving·momentum + batch·(1 − momentum), with the (biased) batch variance.
            for i in 0..<features {
                movingMean.value.storage[i] = movingMean.value.storage[i] * momentum + mean[i] * (1 - momentum)
                movingVariance.value.storage[i] = movingVariance.value.storage[i] * momentum + variance[i] * (1 - momentum)
            }
            return reshaped(y, x.shape)
        }
        let mu = c.tape.constant(movingMean.value.reshaped([1, features]))
        let variance = c.tape.constant(movingVariance.value.reshaped([1, features]))
        let normalised = (flat - mu) / sqrt(variance + epsilon)
        return reshaped(normalised * c.variable(gamma) + c.variable(beta), x.shape)
    }

    public var parameters: [Weight] { [gamma, beta] }
}

/// Inverted dropout: in training, zero each value with probability `rate` and scale the rest by
/// 1/(1 − rate); identity in inference.
public struct Dropout: Layer {
    public var rate: Float
    public init(rate: Float) { self.rate = rate }
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable {
        guard c.training, rate > 0 else { return x }
        let keep = 1 - rate
        let mask = Tensor(shape: x.shape, storage: (0..<x.value.count).map { _ in Float(c.random.uniform()) < keep ? 1 / keep : 0 })
        return x * c.tape.constant(mask)
    }
}

/// Spatial dropout for NHWC: drops whole channels of each sample (Keras SpatialDropout2D).
public struct SpatialDropout2D: Layer {
    public var rate: Float
    public init(rate: Float) { self.rate = rate }
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable {
        guard c.training, rate > 0 else { return x }
        let (n, ch) = (x.shape[0], x.shape[3])
        let keep = 1 - rate
        let mask = Tensor(shape: [n, 1, 1, ch], storage: (0..<(n * ch)).map { _ in Float(c.random.uniform()) < keep ? 1 / keep : 0 })
        return x * c.tape.constant(mask)
    }
}

/// Multiplicative Gaussian noise N(1, rate/(1 − rate)) in training (Keras GaussianDropout).
public struct GaussianDropout: Layer {
    public var rate: Float
    public init(rate: Float) { self.rate = rate }
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable {
        guard c.training, rate > 0 else { return x }
        let std = (rate / (1 - rate)).squareRoot()
        let noise = Tensor(shape: x.shape, storage: (0..<x.value.count).map { _ in 1 + std * Float(c.random.normal()) })
        return x * c.tape.constant(noise)
    }
}

/// Additive Gaussian noise N(0, σ²) in training (Keras GaussianNoise).
public struct GaussianNoise: Layer {
    public var standardDeviation: Float
    public init(standardDeviation: Float) { self.standardDeviation = standardDeviation }
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable {
        guard c.training, standardDeviation > 0 else { return x }
        let noise = Tensor(shape: x.shape, storage: (0..<x.value.count).map { _ in standardDeviation * Float(c.random.normal()) })
        return x + c.tape.constant(noise)
    }
}

/// An activation as a layer.
public struct Activation: Layer {
    let f: (Variable) -> Variable
    public init(_ f: @escaping (Variable) -> Variable) { self.f = f }
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable { f(x) }
    public static func leakyReLU(_ alpha: Float) -> Activation { Activation { leakyRelu($0, alpha: alpha) } }
    public static let relu = Activation { UnmixAutoencoder.relu($0) }
}

/// softmax(scale · x) over the last axis: abundances that are positive and sum to one.
public struct ScaledSoftmax: Layer {
    public var scale: Float
    public init(scale: Float) { self.scale = scale }
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable { softmax(x * scale) }
}

/// The abundance sum-to-one and non-negativity layer of DAEU: x ← x·1[x ≥ 1e-7]; relu; x/(Σx + 1e-7).
public struct SumToOne: Layer {
    public init() {}
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable {
        let mask = x.value.map { $0 >= 1e-7 ? 1 : 0 }
        let y = relu(x * c.tape.constant(mask))
        return y / (sum(y, axis: -1, keepDims: true) + 1e-7)
    }
}

/// Soft thresholding relu(x − α) with a trainable, non-negative threshold per feature (init 0).
public struct SparseReLU: Layer {
    public let threshold: Weight
    public init(features: Int) { threshold = Weight(Tensor(shape: [features]), constraint: .nonNegative) }
    public func callAsFunction(_ x: Variable, _ c: ForwardContext) -> Variable { relu(x - c.variable(threshold)) }
    public var parameters: [Weight] { [threshold] }
}
