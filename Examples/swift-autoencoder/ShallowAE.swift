// A new unmixing autoencoder written against the unmix SDK, as a researcher would write one:
// a one-layer encoder with batch normalisation, softmax abundances, a non-negative linear decoder
// whose weights are the endmembers, trained with Adam on the true spectral angle (not the Keras
// notebooks' variant that DAEU uses).
import UnmixAutoencoder
import UnmixSDK

struct ShallowAE: Unmixer {
    var epochs = 30
    var batchSize = 32
    var learningRate = 0.01
    var loss = Loss.sad

    private var encoder: Dense?
    private var batchNorm: BatchNorm?
    private var decoder: Dense?
    private var scale: Float = 1

    static let info = PluginInfo(
        id: "shallowae", name: "Shallow AE", version: "1.0.0",
        summary: "A one-layer unmixing autoencoder trained on the mean spectral angle",
        description: """
            Encoder: one dense layer without bias, batch normalisation and softmax(3x) give the \
            abundances. Decoder: a non-negative linear layer whose rows are the endmembers. \
            Trained with Adam on every pixel of the cube scaled by its maximum. An example of the SDK.
            """,
        authors: "unmix examples", license: "MIT", capabilities: [.stochastic, .progress, .abundancesNonnegative, .abundancesSumToOne])

    static let parameters: [Parameter<ShallowAE>] = [
        .integer("epochs", \.epochs, min: 0, max: 10_000, help: "Passes over the pixels."),
        .integer("batch_size", \.batchSize, min: 1, max: 100_000, help: "Pixels per batch."),
        .real("learning_rate", \.learningRate, min: 1e-6, max: 1, logScale: true, help: "Adam learning rate."),
        .choice("loss", \.loss, help: "Reconstruction loss (sad, the mean spectral angle, by default)."),
    ]

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        scale = max(cube.data.max() ?? 1, .leastNormalMagnitude)
        var random = context.random()
        let encoder = Dense(inputs: cube.bands, outputs: r, bias: false, random: &random)
        let batchNorm = BatchNorm(features: r)
        let decoder = Dense(inputs: r, outputs: cube.bands, bias: false, initializer: .normal(mean: 0.5, std: 0.1),
                            constraint: .nonNegative, random: &random)
        let optimizer = Adam(learningRate: Float(learningRate))
        let pixels = Tensor(shape: [cube.pixels, cube.bands], storage: cube.data.map { $0 / scale })
        let (loss, epochs) = (self.loss, self.epochs)
        try TrainingLoop(epochs: epochs, batchSize: batchSize).run(pixels, random: &random, afterEpoch: { epoch, value in
            context.progress(Double(epoch + 1) / Double(max(epochs, 1)), "epoch \(epoch + 1), loss \(value)")
            try context.checkCancelled()
        }, step: { batch in
            let c = ForwardContext(training: true)
            let x = c.tape.constant(batch)
            let value = loss(decoder(ScaledSoftmax(scale: 3)(batchNorm(encoder(x, c), c), c), c), x)
            optimizer.step(c.gradients(of: value))
            return value.value.scalar
        })
        (self.encoder, self.batchNorm, self.decoder) = (encoder, batchNorm, decoder)
        return decoder.weight.value.matrix(scale: scale)
    }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        let c = ForwardContext(training: false)
        let x = c.tape.constant(Tensor(shape: [cube.pixels, cube.bands], storage: cube.data.map { $0 / scale }))
        let a = ScaledSoftmax(scale: 3)(batchNorm!(encoder!(x, c), c), c).value
        return Matrix(rows: cube.pixels, cols: a.shape[1], storage: a.storage.map(Double.init))
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(ShallowAE.self) }
