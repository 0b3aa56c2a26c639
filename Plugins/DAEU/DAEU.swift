import Foundation
import UnmixAutoencoder
import UnmixSDK

/// DAEU: the deep autoencoder of Palsson, Sigurdsson, Sveinsson & Ulfarsson (IEEE Access 6,
/// 2018), as the reference Keras notebook (hu_autoencoders, Method_DAEU) builds and trains it.
///
/// Differences from the notebook: its GaussianDropout layer, whose output is never used, is left
/// out; the loss is a parameter (default: the notebook's SAD variant, arccos of the mean of all
/// products of the normalised spectra); endmembers are returned in the cube's units (the decoder
/// works on the cube divided by its global maximum, so its rows are multiplied back).
struct DAEU: StatefulUnmixer {
    var epochs = 40
    var batchSize = 6
    var learningRate = 1e-3
    var trainingSpectra = 2000
    var leakyAlpha = 0.1
    var loss = Loss.notebookSAD

    private var model: Model?
    private var scale: Float = 1

    static let info = PluginInfo(
        id: "daeu", name: "DAEU", version: "0.1.0",
        summary: "Deep autoencoder unmixing (Palsson et al. 2018), trained on random pixels",
        description: """
            An encoder of four bias-free dense layers (9R, 6R, 3R, R units, LeakyReLU), batch \
            normalisation, a trainable soft threshold and a sum-to-one layer gives the abundances; a \
            non-negative linear decoder without bias reconstructs the spectra, its weights being the \
            endmembers. Trained with RMSprop on spectra drawn at random (with replacement) from the \
            cube scaled by its global maximum. Hyperparameters default to the reference notebook's.
            """,
        authors: "unmix developers", license: "MIT", url: "https://doi.org/10.1109/ACCESS.2018.2818280",
        capabilities: [.stochastic, .progress, .abundancesNonnegative])

    static let parameters: [Parameter<DAEU>] = [
        .integer("epochs", \.epochs, min: 0, max: 100_000, help: "Training epochs."),
        .integer("batch_size", \.batchSize, min: 1, max: 100_000, help: "Spectra per training batch."),
        .real("learning_rate", \.learningRate, min: 1e-8, max: 10, logScale: true, help: "RMSprop learning rate (rho 0.9, epsilon 1e-7)."),
        .integer("training_spectra", \.trainingSpectra, min: 1, max: 10_000_000, help: "Spectra drawn with replacement from the cube to train on."),
        .real("leaky_alpha", \.leakyAlpha, min: 0, max: 1, help: "Slope of the encoder's LeakyReLU for negative inputs."),
        .choice("loss", \.loss, help: "notebook_sad: the reference's SAD variant; sad: mean spectral angle; mse; sid."),
    ]

    /// The network.
    struct Model {
        var hidden: [Dense]
        var batchNorm: BatchNorm
        var threshold: SparseReLU
        var decoder: Dense
        var alpha: Float

        init(bands: Int, r: Int, alpha: Float, random: inout RandomStream) {
            let sizes = [bands, 9 * r, 6 * r, 3 * r, r]
            hidden = (0..<4).map { Dense(inputs: sizes[$0], outputs: sizes[$0 + 1], bias: false, random: &random) }
            batchNorm = BatchNorm(features: r)
            threshold = SparseReLU(features: r)
            decoder = Dense(inputs: r, outputs: bands, bias: false, constraint: .nonNegative, random: &random)
            self.alpha = alpha
        }

        func abundances(_ x: Variable, _ c: ForwardContext) -> Variable {
            var h = x
            for layer in hidden { h = leakyRelu(layer(h, c), alpha: alpha) }
            return SumToOne()(threshold(batchNorm(h, c), c), c)
        }

        /// Everything saved with the model, trained or not.
        var tensors: [Weight] {
            hidden.map(\.weight) + [batchNorm.gamma, batchNorm.beta, batchNorm.movingMean, batchNorm.movingVariance,
                                    threshold.threshold, decoder.weight]
        }
    }

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        let (p, bands) = (cube.pixels, cube.bands)
        scale = max(cube.data.max() ?? 1, .leastNormalMagnitude)
        var random = context.random()
        let model = Model(bands: bands, r: r, alpha: Float(leakyAlpha), random: &random)
        // Training spectra: drawn uniformly with replacement, scaled by the global maximum.
        var samples = [Float]()
        samples.reserveCapacity(trainingSpectra * bands)
        for _ in 0..<trainingSpectra {
            let i = random.index(below: p)
            for b in 0..<bands { samples.append(cube.data[i * bands + b] / scale) }
        }
        let optimizer = RMSprop(learningRate: Float(learningRate))
        let epochs = self.epochs
        let loss = self.loss
        let noise = context.random(stream: 1)   // per-step streams for noise layers, split by step
        var stepIndex: UInt64 = 0
        try TrainingLoop(epochs: epochs, batchSize: batchSize).run(
            Tensor(shape: [trainingSpectra, bands], storage: samples), random: &random,
            afterEpoch: { epoch, value in
                context.progress(Double(epoch + 1) / Double(max(epochs, 1)), "epoch \(epoch + 1)/\(epochs), loss \(value)")
                try context.checkCancelled()
            },
            step: { batch in
                stepIndex += 1
                let c = ForwardContext(training: true, random: noise.split(stepIndex))
                let x = c.tape.constant(batch)
                let value = loss(model.decoder(model.abundances(x, c), c), x)
                optimizer.step(c.gradients(of: value))
                return value.value.scalar
            })
        self.model = model
        return endmembers(model)
    }

    /// The decoder's rows (R, B) in the cube's units.
    private func endmembers(_ model: Model) -> Matrix { model.decoder.weight.value.matrix(scale: scale) }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        let model = self.model!
        let c = ForwardContext(training: false)
        let x = Tensor(shape: [cube.pixels, cube.bands], storage: cube.data.map { $0 / scale })
        let a = model.abundances(c.tape.constant(x), c).value
        return Matrix(rows: cube.pixels, cols: a.shape[1], storage: a.storage.map(Double.init))
    }

    func saveState() throws -> [UInt8] {
        let model = self.model!
        let w = model.decoder.weight.value
        return StateCoder.encode(header: [Double(w.shape[1]), Double(w.shape[0]), Double(scale)], weights: model.tensors)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "DAEU")
        let ((bands, r), scale) = (try state.bandsAndEndmembers(), try state.positive())
        try state.expectTensors(first: [bands, 9 * r], last: [r, bands])
        var random = RandomStream(seed: 0)
        let model = Model(bands: bands, r: r, alpha: Float(leakyAlpha), random: &random)
        try state.restore(into: model.tensors)
        self.scale = Float(scale)
        self.model = model
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(DAEU.self) }
