import Foundation
import UnmixAutoencoder
import UnmixSDK

/// MTAEU: the multitask autoencoder of Palsson, Sveinsson & Ulfarsson (IGARSS 2019 / IEEE
/// Access 7, 2019), as the reference Keras notebook (hu_autoencoders, Method_MTAEU) builds and
/// trains it. Four neighbouring pixels are the four tasks: their spectra, concatenated, go through
/// a shared hidden layer; one head per task gives that pixel's abundances; one shared non-negative
/// decoder reconstructs each pixel; the four losses are summed.
///
/// The neighbourhood is a parameter: `row` reproduces the reference, which draws random 4 × 4
/// patches and uses only their first row (four horizontally adjacent pixels); `square` uses a
/// 2 × 2 block (drawn at random positions of the image). Differences from the notebook: the
/// abundance layer's l1 penalty (weight 0 there) is left out; the loss is a parameter (default:
/// the notebook's SAD variant); endmembers are returned in the cube's units (the decoder works on
/// the cube divided by its global maximum, so its rows are multiplied back); the read-out takes
/// the shared decoder's weights (the notebook reads `model.layers[-1]`, meant to be that layer).
struct MTAEU: StatefulUnmixer {
    enum Neighbourhood: String, CaseIterable, Sendable {
        /// The first row of a random 4 × 4 patch (the reference).
        case row
        /// A random 2 × 2 block.
        case square
    }

    /// The number of tasks (neighbouring pixels): fixed at four, as in the reference.
    static let tasks = 4

    var epochs = 60
    var batchSize = 15
    var learningRate = 1e-3
    var decay = 1e-4
    var trainingPatches = 2000
    var neighbourhood = Neighbourhood.row
    var leakyAlpha = 0.2
    var inputNoise = 0.05
    var hiddenDropout = 0.5
    var headDropout = 0.1
    var softmaxScale = 3.0
    var initMean = 0.01
    var initStd = 0.1
    var loss = Loss.notebookSAD

    private var model: Model?
    private var scale: Float = 1

    static let info = PluginInfo(
        id: "mtaeu", name: "MTAEU", version: "0.1.0",
        summary: "Multitask autoencoder unmixing (Palsson et al. 2019): four neighbouring pixels, one shared decoder",
        description: """
            Four neighbouring pixels (by default the first row of a random 4 × 4 patch, as the \
            reference) are unmixed jointly: their concatenated spectra, with additive Gaussian noise, \
            go through a shared bias-free dense layer (LeakyReLU, dropout, batch normalisation); one \
            head per pixel (dense, LeakyReLU, batch normalisation, dropout, softmax of 3·x) gives its \
            abundances; a shared non-negative linear decoder without bias reconstructs each pixel, its \
            weights being the endmembers. The four reconstruction losses are summed; trained with \
            RMSprop on the cube scaled by its global maximum. Abundances are the mean of the four heads \
            with every input fed the same pixel. Hyperparameters default to the reference notebook's.
            """,
        authors: "unmix developers", license: "MIT", url: "https://github.com/burknipalsson/hu_autoencoders",
        capabilities: [.stochastic, .progress, .abundancesNonnegative, .abundancesSumToOne])

    static let parameters: [Parameter<MTAEU>] = [
        .integer("epochs", \.epochs, min: 0, max: 100_000, help: "Training epochs."),
        .integer("batch_size", \.batchSize, min: 1, max: 100_000, help: "Neighbourhoods per training batch."),
        .real("learning_rate", \.learningRate, min: 1e-8, max: 10, logScale: true, help: "RMSprop learning rate (rho 0.9, epsilon 1e-7)."),
        .real("decay", \.decay, min: 0, max: 10, help: "Keras learning-rate decay: lr / (1 + decay · steps)."),
        .integer("training_patches", \.trainingPatches, min: 1, max: 10_000_000, help: "Neighbourhoods drawn at random (with replacement) from the image to train on."),
        .choice("neighbourhood", \.neighbourhood, help: "row: first row of a random 4×4 patch (the reference); square: a random 2×2 block."),
        .real("leaky_alpha", \.leakyAlpha, min: 0, max: 1, help: "Slope of the LeakyReLUs for negative inputs."),
        .real("input_noise", \.inputNoise, min: 0, max: 10, help: "Standard deviation of the Gaussian noise added to the scaled input in training."),
        .real("hidden_dropout", \.hiddenDropout, min: 0, max: 0.99, help: "Dropout rate after the shared hidden layer."),
        .real("head_dropout", \.headDropout, min: 0, max: 0.99, help: "Dropout rate in each task's head, before its softmax."),
        .real("softmax_scale", \.softmaxScale, min: 1e-3, max: 1000, logScale: true, help: "Abundances are softmax(scale · x)."),
        .real("init_mean", \.initMean, min: -10, max: 10, help: "Mean of the normal initialisation of every kernel."),
        .real("init_std", \.initStd, min: 0, max: 10, help: "Standard deviation of the normal initialisation of every kernel."),
        .choice("loss", \.loss, help: "Per-task loss, summed over the four tasks. notebook_sad: the reference's SAD variant; sad: mean spectral angle; mse; sid."),
    ]

    /// One task's head: its pixel's abundances from the shared hidden layer.
    struct Head {
        var dense: Dense
        var batchNorm: BatchNorm
    }

    /// The network.
    struct Model {
        var hidden: Dense
        var batchNorm: BatchNorm
        var heads: [Head]
        var decoder: Dense
        var alpha: Float
        var noise: GaussianNoise
        var hiddenDropout: Dropout
        var headDropout: Dropout
        var softmax: ScaledSoftmax

        init(bands: Int, r: Int, settings s: MTAEU, random: inout RandomStream) {
            let kernels = Initializer.normal(mean: Float(s.initMean), std: Float(s.initStd))
            let inputs = MTAEU.tasks * bands
            let width = max(inputs / 4, 1)
            hidden = Dense(inputs: inputs, outputs: width, bias: false, initializer: kernels, random: &random)
            batchNorm = BatchNorm(features: width)
            heads = (0..<MTAEU.tasks).map { _ in
                Head(dense: Dense(inputs: width, outputs: r, bias: false, initializer: kernels, random: &random),
                     batchNorm: BatchNorm(features: r))
            }
            decoder = Dense(inputs: r, outputs: bands, bias: false, initializer: kernels, constraint: .nonNegative, random: &random)
            alpha = Float(s.leakyAlpha)
            noise = GaussianNoise(standardDeviation: Float(s.inputNoise))
            hiddenDropout = Dropout(rate: Float(s.hiddenDropout))
            headDropout = Dropout(rate: Float(s.headDropout))
            softmax = ScaledSoftmax(scale: Float(s.softmaxScale))
        }

        /// Each task's abundances (N, R) from the concatenated spectra (N, 4B).
        func abundances(_ x: Variable, _ c: ForwardContext) -> [Variable] {
            let h = batchNorm(hiddenDropout(leakyRelu(hidden(noise(x, c), c), alpha: alpha), c), c)
            return heads.map { head in
                softmax(headDropout(head.batchNorm(leakyRelu(head.dense(h, c), alpha: alpha), c), c), c)
            }
        }

        /// Everything saved with the model, trained or not.
        var tensors: [Weight] {
            func bn(_ b: BatchNorm) -> [Weight] { [b.gamma, b.beta, b.movingMean, b.movingVariance] }
            return [hidden.weight] + bn(batchNorm) + heads.flatMap { [$0.dense.weight] + bn($0.batchNorm) } + [decoder.weight]
        }
    }

    /// Pixel offsets (row, column) of the four tasks and the patch each neighbourhood is drawn from.
    private var layout: (offsets: [(Int, Int)], patch: Int) {
        switch neighbourhood {
        case .row: return ([(0, 0), (0, 1), (0, 2), (0, 3)], 4)
        case .square: return ([(0, 0), (0, 1), (1, 0), (1, 1)], 2)
        }
    }

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        let (rows, cols, bands) = (cube.rows, cube.cols, cube.bands)
        scale = max(cube.data.max() ?? 1, .leastNormalMagnitude)
        var random = context.random()
        let model = Model(bands: bands, r: r, settings: self, random: &random)
        // Training neighbourhoods: the top-left corner of a patch drawn uniformly with replacement
        // among the positions where the patch fits (sklearn's extract_patches_2d); on an image
        // smaller than the patch, coordinates are clamped to its edge.
        let (offsets, patch) = layout
        let width = Self.tasks * bands
        var samples = [Float]()
        samples.reserveCapacity(trainingPatches * width)
        for _ in 0..<trainingPatches {
            let i = random.index(below: max(rows - patch + 1, 1)), j = random.index(below: max(cols - patch + 1, 1))
            for (di, dj) in offsets {
                let pixel = min(i + di, rows - 1) * cols + min(j + dj, cols - 1)
                for b in 0..<bands { samples.append(cube.data[pixel * bands + b] / scale) }
            }
        }
        let optimizer = RMSprop(learningRate: Float(learningRate), decay: Float(decay))
        let epochs = self.epochs
        let loss = self.loss
        let noise = context.random(stream: 1)   // per-step streams for noise and dropout, split by step
        var stepIndex: UInt64 = 0
        try TrainingLoop(epochs: epochs, batchSize: batchSize).run(
            Tensor(shape: [trainingPatches, width], storage: samples), random: &random,
            afterEpoch: { epoch, value in
                context.progress(Double(epoch + 1) / Double(max(epochs, 1)), "epoch \(epoch + 1)/\(epochs), loss \(value)")
                try context.checkCancelled()
            },
            step: { batch in
                stepIndex += 1
                let c = ForwardContext(training: true, random: noise.split(stepIndex))
                let n = batch.shape[0]
                let outputs = model.abundances(c.tape.constant(batch), c)
                var total: Variable?
                for (t, a) in outputs.enumerated() {
                    // Task t's target: its pixel's spectrum, the t-th block of the concatenation.
                    var target = [Float]()
                    target.reserveCapacity(n * bands)
                    for s in 0..<n { target += batch.storage[(s * width + t * bands)..<(s * width + (t + 1) * bands)] }
                    let value = loss(model.decoder(a, c), c.tape.constant(Tensor(shape: [n, bands], storage: target)))
                    total = total.map { $0 + value } ?? value
                }
                optimizer.step(c.gradients(of: total!))
                return total!.value.scalar
            })
        self.model = model
        return endmembers(model)
    }

    /// The decoder's rows (R, B) in the cube's units.
    private func endmembers(_ model: Model) -> Matrix { model.decoder.weight.value.matrix(scale: scale) }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        let model = self.model!
        let (p, bands) = (cube.pixels, cube.bands)
        // Every task's input is the same pixel (the reference feeds the full image to each input).
        var x = [Float]()
        x.reserveCapacity(p * Self.tasks * bands)
        for i in 0..<p {
            let spectrum = cube.data[(i * bands)..<((i + 1) * bands)].map { $0 / scale }
            for _ in 0..<Self.tasks { x += spectrum }
        }
        let c = ForwardContext(training: false)
        let heads = model.abundances(c.tape.constant(Tensor(shape: [p, Self.tasks * bands], storage: x)), c).map(\.value)
        let r = heads[0].shape[1]
        var a = [Double](repeating: 0, count: p * r)
        for head in heads {
            for k in 0..<(p * r) { a[k] += Double(head.storage[k]) }
        }
        return Matrix(rows: p, cols: r, storage: a.map { $0 / Double(heads.count) })
    }

    func saveState() throws -> [UInt8] {
        let model = self.model!
        let w = model.decoder.weight.value
        return StateCoder.encode(header: [Double(w.shape[1]), Double(w.shape[0]), Double(scale)], weights: model.tensors)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "MTAEU")
        let ((bands, r), scale) = (try state.bandsAndEndmembers(), try state.positive())
        try state.expectTensors(first: [Self.tasks * bands, bands], last: [r, bands])
        var random = RandomStream(seed: 0)
        let model = Model(bands: bands, r: r, settings: self, random: &random)
        try state.restore(into: model.tensors)
        self.scale = Float(scale)
        self.model = model
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(MTAEU.self) }
