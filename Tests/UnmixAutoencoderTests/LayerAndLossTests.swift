import Foundation
import Testing
import UnmixAutoencoder
import UnmixNumerics

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
    }

    /// The layer and the explicit formula give the same values, and the layer's parameters get
    /// gradients (BatchNorm: γ and β; the moving statistics move by (1 − momentum)).
    @Test func batchNormTrainingAndInference() {
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
        let grads = ctx.gradients(of: sum(y * ctx.tape.constant(Tensor([[1, 2], [3, 4], [5, 6]]))))
        #expect(grads.count == 2, "γ and β get gradients")
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
