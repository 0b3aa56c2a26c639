import Foundation
import Testing
import UnmixAutoencoder
import UnmixNumerics
import _TestSupport

@Suite struct LayerAndLossTests {
    /// Layers through the gradient check: their input and every parameter.
    @Test func layerGradients() {
        var c = GradientCheck()
        var random = RandomStream(seed: 5)
        let x = c.tensor([6, 4])
        let dense = Dense(inputs: 4, outputs: 3, random: &random)
        c.check("dense (input)", [x]) { v in dense(v[0], ForwardContext(tape: v[0].tape, training: true)) }
        // BatchNorm in training mode, as a function of the input, γ and β.
        let bn = BatchNorm(features: 4)
        c.check("batchnorm (training)", [x, c.tensor([4], low: 0.5, high: 2), c.tensor([4])]) { v in
            batchNormalized(v[0], gamma: v[1], beta: v[2], epsilon: bn.epsilon).output
        }
        c.check("sum-to-one", [c.tensor([5, 3], low: 0.1, high: 2)]) { v in
            SumToOne()(v[0], ForwardContext(tape: v[0].tape, training: true))
        }
        c.check("sparse relu", [x.map { $0 >= 0 ? $0 + 0.2 : $0 - 0.2 }]) { v in
            SparseReLU(features: 4)(v[0], ForwardContext(tape: v[0].tape, training: true))
        }
        c.check("scaled softmax", [x]) { v in ScaledSoftmax(scale: 3)(v[0], ForwardContext(tape: v[0].tape, training: true)) }

        // Every layer with parameters, through the parameter check: each parameter's gradient as
        // an optimiser receives it, element by element, against central differences.
        c.checkParameters("dense (weight, bias)", dense, input: x, training: true)
        c.checkParameters("dense without bias", Dense(inputs: 4, outputs: 2, bias: false, random: &random), input: x, training: true)
        // (Conv2D picks its method itself; both methods are checked op by op in GradientCheckTests.)
        let conv = Conv2D(kernelSize: (3, 2), inputs: 3, outputs: 2, random: &random)
        c.checkParameters("conv2d kernel", conv, input: c.tensor([2, 4, 5, 3]), training: true)
        // BatchNorm with γ and β away from their initial 1 and 0, in training (batch statistics)
        // and in inference (moving statistics set to something other than 0 and 1).
        let norm = BatchNorm(features: 4)
        norm.gamma.value = c.tensor([4], low: 0.5, high: 2)
        norm.beta.value = c.tensor([4])
        c.checkParameters("batchnorm γ, β (training)", norm, input: x, training: true)
        norm.movingMean.value = c.tensor([4])
        norm.movingVariance.value = c.tensor([4], low: 0.5, high: 2)
        c.checkParameters("batchnorm γ, β (inference)", norm, input: x, training: false)
        // SparseReLU: thresholds 0.1…0.4 and inputs at least 0.2 away from them (the kink).
        let sparse = SparseReLU(features: 4)
        sparse.threshold.value = Tensor(shape: [4], storage: [0.1, 0.2, 0.3, 0.4])
        let shifted = Tensor(shape: x.shape, storage: x.storage.enumerated().map { i, v in
            sparse.threshold.value.storage[i % 4] + (v >= 0 ? v + 0.2 : v - 0.2)
        })
        c.checkParameters("sparse relu threshold", sparse, input: shifted, training: true)
    }

    /// The layer and the explicit formula give the same values, and the layer's parameters get
    /// gradients (BatchNorm: γ and β; the moving statistics move by (1 − momentum)).
    @Test func batchNormTrainingAndInference() throws {
        let bn = BatchNorm(features: 2)
        let x = Tensor([[1, 10], [3, 20], [5, 60]])
        let ctx = ForwardContext(training: true)
        let y = bn(ctx.tape.constant(x), ctx)
        // By hand: column 0 mean 3, biased variance 8/3; column 1 mean 30, variance 1400/3.
        let expected: [Float] = [-2 / (8.0 / 3 + 1e-3).squareRoot(), -20 / (1400.0 / 3 + 1e-3).squareRoot(), 0,
                                 -10 / (1400.0 / 3 + 1e-3).squareRoot(), 2 / (8.0 / 3 + 1e-3).squareRoot(),
                                 30 / (1400.0 / 3 + 1e-3).squareRoot()]
        for (o, e) in zip(y.value.storage, expected) { #expect(Swift.abs(o - e) < 1e-5, "BN output \(o), expected \(e)") }
        #expect(Swift.abs(bn.movingMean.value.storage[0] - 0.03) < 1e-6 && Swift.abs(bn.movingMean.value.storage[1] - 0.3) < 1e-5)
        #expect(Swift.abs(bn.movingVariance.value.storage[0] - (0.99 + 0.01 * 8 / 3)) < 1e-6)
        // The gradients of L = Σ y ∘ G: by hand, ∂L/∂β = column sums of G = (9, 12) and
        // ∂L/∂γ = Σ G ∘ x̂ = (8/√(8/3 + ε), 100/√(1400/3 + ε)); and by central differences of
        // the same loss through a second BatchNorm whose γ or β is moved (this one's moving
        // statistics are kept for the inference check below).
        let g = Tensor([[1, 2], [3, 4], [5, 6]])
        let grads = ctx.gradients(of: sum(y * ctx.tape.constant(g)))
        let dGamma = try #require(grads.first { $0.0 === bn.gamma }?.1, "no gradient for γ")
        let dBeta = try #require(grads.first { $0.0 === bn.beta }?.1, "no gradient for β")
        let byHandGamma: [Float] = [8 / (8.0 / 3 + 1e-3).squareRoot(), 100 / (1400.0 / 3 + 1e-3).squareRoot()]
        expectClose(dBeta.storage, [9, 12], tolerance: 1e-4, "∂L/∂β")
        expectClose(dGamma.storage, byHandGamma, tolerance: 1e-4, "∂L/∂γ")
        func loss(gamma: [Float], beta: [Float]) -> Float {
            let twin = BatchNorm(features: 2)
            twin.gamma.value = Tensor(shape: [2], storage: gamma)
            twin.beta.value = Tensor(shape: [2], storage: beta)
            let t = ForwardContext(training: true)
            return sum(twin(t.tape.constant(x), t) * t.tape.constant(g)).value.scalar
        }
        let h: Float = 1e-2
        for j in 0..<2 {
            var up: [Float] = [1, 1], down: [Float] = [1, 1]
            up[j] += h
            down[j] -= h
            let numericGamma = (loss(gamma: up, beta: [0, 0]) - loss(gamma: down, beta: [0, 0])) / (2 * h)
            #expect(Swift.abs(numericGamma - dGamma.storage[j]) < 1e-2 * max(1, Swift.abs(numericGamma)),
                    "∂L/∂γ[\(j)]: analytic \(dGamma.storage[j]), numeric \(numericGamma)")
            var b1: [Float] = [0, 0], b2: [Float] = [0, 0]
            b1[j] += h
            b2[j] -= h
            let numericBeta = (loss(gamma: [1, 1], beta: b1) - loss(gamma: [1, 1], beta: b2)) / (2 * h)
            #expect(Swift.abs(numericBeta - dBeta.storage[j]) < 1e-2 * max(1, Swift.abs(numericBeta)),
                    "∂L/∂β[\(j)]: analytic \(dBeta.storage[j]), numeric \(numericBeta)")
        }
        // Inference uses the moving statistics: (x − m)/sqrt(v + eps)·γ + β.
        let inference = ForwardContext(training: false)
        let z = bn(inference.tape.constant(Tensor([[1, 10]])), inference)
        let m0 = bn.movingMean.value.storage[0], v0 = bn.movingVariance.value.storage[0]
        #expect(Swift.abs(z.value.storage[0] - (1 - m0) / (v0 + 1e-3).squareRoot()) < 1e-5)
    }

    @Test func lossGradientsAndValues() {
        var c = GradientCheck()
        let a = c.tensor([4, 6], low: 0.1, high: 1), b = c.tensor([4, 6], low: 0.1, high: 1)
        for loss in Loss.allCases {
            c.check("loss \(loss.rawValue)", [a, b], step: 1e-3, tolerance: 2e-2) { v in loss(v[0], v[1]) }
        }
        // Hand-computed values: spectra (1, 0) and (1, 1) are π/4 apart; (1, 1) vs (1, 1) is 0.
        let tape = Tape()
        let y = tape.constant(Tensor([[1, 0], [1, 1]])), t = tape.constant(Tensor([[1, 1], [1, 1]]))
        #expect(Swift.abs(Loss.sad(y, t).value.scalar - Float.pi / 8) < 1e-3, "mean of π/4 and 0")
        // Notebook variant: arccos(mean of all 4 products of the normalised spectra)
        // = arccos((1/√2 + 0 + 1/2 + 1/2)/4) = arccos((√2/2 + 1)/4).
        #expect(Swift.abs(Loss.notebookSAD(y, t).value.scalar - acos((Float(2).squareRoot() / 2 + 1) / 4)) < 1e-3)
        #expect(Loss.mse(y, t).value.scalar == 0.25)
        #expect(Swift.abs(Loss.sid(t, t).value.scalar) < 1e-6)
    }
}

@Suite struct OptimizerTests {
    /// Three steps from w = (0.5, −1, 2) with gradients g1, g2, g3. Golden values computed
    /// independently with numpy in float64 from the documented Keras update rules:
    ///   SGD(lr .1, momentum .9, decay .1):  lr=0.1/(1+0.1*t); v=0.9*v-lr*g; w=w+v
    ///   RMSprop(lr .01, decay .1):          lr=0.01/(1+0.1*t); a=0.9*a+0.1*g*g; w=w-lr*g/(sqrt(a)+1e-7)
    ///   Adam(lr .01):                       T=t+1; lr=0.01*sqrt(1-0.999**T)/(1-0.9**T); m=0.9*m+0.1*g;
    ///                                       v=0.999*v+0.001*g*g; w=w-lr*m/(sqrt(v)+1e-7)
    static let gradients: [[Float]] = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05], [0.25, 0, -0.3]]
    static let cases: [(String, () -> Optimizer, [Float])] = [
        ("sgd", { SGD(learningRate: 0.1, momentum: 0.9, decay: 0.1) }, [0.5211575758, -1.0321636364, 1.9350636364]),
        ("rmsprop", { RMSprop(learningRate: 0.01, decay: 0.1) }, [0.4821278887, -0.9952550937, 1.982856556]),
        ("adam", { Adam(learningRate: 0.01) }, [0.4959796575, -0.9978406015, 1.9823464438]),
    ]

    /// Also on the three values repeated 300 001 times: a weight that large is updated in
    /// parallel chunks (the last one partial), and every element must still follow the rule.
    @Test(arguments: 0..<3, [1, 300_001])
    func goldenValues(index: Int, copies: Int) {
        let (name, make, expected) = Self.cases[index]
        let optimizer = make()
        let start: [Float] = [0.5, -1, 2]
        let p = Weight(Tensor(shape: [3 * copies], storage: Array([[Float]](repeating: start, count: copies).joined())))
        for g in Self.gradients {
            optimizer.step([(p, Tensor(shape: [3 * copies], storage: Array([[Float]](repeating: g, count: copies).joined())))])
        }
        for i in 0..<p.value.count where Swift.abs(p.value.storage[i] - expected[i % 3]) >= 2e-6 {
            Issue.record("\(name) w[\(i)] = \(p.value.storage[i]), expected \(expected[i % 3])")
            return
        }
    }

    @Test func nonNegativeConstraintAfterStep() {
        let p = Weight(Tensor(shape: [2], storage: [0.05, 1]), constraint: .nonNegative)
        SGD(learningRate: 1).step([(p, Tensor(shape: [2], storage: [0.1, 0.1]))])
        #expect(p.value.storage == [0, 0.9])
    }

    /// Convergence: a tiny linear mixture (3 endmembers × 20 bands, 400 pixels on the simplex,
    /// one in ten pure) is recovered by a small autoencoder (dense encoder with positive initial
    /// weights, sum-to-one abundances, non-negative linear decoder) trained with Adam on the MSE
    /// loss: decoder rows within SAD 0.05 of the truth after Hungarian matching.
    @Test func tinyLinearMixtureIsRecovered() {
        var random = RandomStream(seed: 21)
        let (r, bands, pixels) = (3, 20, 400)
        let truth = (0..<r).map { k in (0..<bands).map { b -> Float in
            let centre = Float(3 + 7 * k), x = Float(b)
            return 0.1 + exp(-(x - centre) * (x - centre) / 8)
        } }
        var data = [Float]()
        for i in 0..<pixels {
            // One pixel in ten is pure (as in real scenes with pure regions), the rest Dirichlet(1).
            var w = i % 10 == 0 ? (0..<r).map { $0 == (i / 10) % r ? 1 : 0 }
                : (0..<r).map { _ in -Float(Foundation.log(random.uniformPositive())) }
            let s = w.reduce(0, +)
            w = w.map { $0 / s }
            for b in 0..<bands { data.append((0..<r).reduce(0) { $0 + w[$1] * truth[$1][b] }) }
        }
        let encoder = Dense(inputs: bands, outputs: r, bias: false, initializer: .normal(mean: 0.05, std: 0.02), random: &random)
        let decoder = Dense(inputs: r, outputs: bands, bias: false, initializer: .normal(mean: 0.3, std: 0.05),
                            constraint: .nonNegative, random: &random)
        let optimizer = Adam(learningRate: 0.01)
        for _ in 0..<150 {
            for start in stride(from: 0, to: pixels, by: 50) {
                let ctx = ForwardContext(training: true)
                let x = ctx.tape.constant(Tensor(shape: [50, bands], storage: Array(data[(start * bands)..<((start + 50) * bands)])))
                let abundances = SumToOne()(encoder(x, ctx), ctx)
                optimizer.step(ctx.gradients(of: Loss.mse(decoder(abundances, ctx), x)))
            }
        }
        let learned = decoder.weight.value  // (R, B): row k = endmember k
        let cost = truth.map { t in (0..<r).map { k in Double(angle(t, Array(learned.storage[(k * bands)..<((k + 1) * bands)]))) } }
        let assignment = Hungarian.minimumCostAssignment(cost)
        let sads = (0..<r).map { cost[$0][assignment[$0]] }
        #expect(sads.allSatisfy { $0 < 0.05 }, "SAD of the learned endmembers: \(sads)")
    }

    private func angle(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return acos(min(1, max(-1, dot / (na * nb))))
    }
}
