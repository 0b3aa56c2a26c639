import Foundation
import UnmixAutoencoder
import UnmixSDK

/// CNNAEU: the convolutional autoencoder of Palsson, Ulfarsson & Sveinsson (IEEE TGRS 59(1),
/// 2021), as the reference Keras notebook (hu_autoencoders, Method_CNNAEU) builds and trains it.
///
/// Differences from the notebook: batch normalisation and spatial dropout are proper layers
/// (trained γ/β, moving statistics used in inference for the abundance read-out, as HySUPP's
/// PyTorch port does), where the notebook creates them inside `call()`; the number of patches
/// defaults to the notebook's 250 scaled to the cube's size (HySUPP's rule), since 250 was set
/// for a 307 × 307 × 162 scene; the loss is a parameter (default: the notebook's, arccos applied
/// to each band's product of the normalised spectra); endmembers are returned in the cube's
/// units (the network works on the cube divided by its global maximum).
struct CNNAEU: StatefulUnmixer {
    var epochs = 320
    var batchSize = 15
    var learningRate = 3e-3
    var patches = -1
    var patchSize = 40
    var decoderSize = 13
    var filters = 48
    var leakyAlpha = 0.02
    var dropout = 0.2
    var softmaxScale = 3.0
    var initStd = 0.3
    var loss = CNNAEULoss.elementwiseArccos

    private var model: Model?
    private var scale: Float = 1

    static let info = PluginInfo(
        id: "cnnaeu", name: "CNNAEU", version: "0.1.0",
        summary: "Convolutional autoencoder unmixing (Palsson et al. 2021), trained on random image patches",
        description: """
            An encoder of two bias-free convolutions (48 filters 3×3, then R filters 1×1), each \
            followed by LeakyReLU, batch normalisation and spatial dropout, and a softmax of 3x gives \
            the abundances; a non-negative convolutional decoder (13×13, R → B) reconstructs the \
            patch, and its kernel averaged over the two spatial axes gives the endmembers. Trained \
            with RMSprop on random 40×40 patches of the cube scaled by its global maximum. \
            `patches` = −1 takes 250·H·W·B/(307·307·162) patches (at least 1): the reference's 250 \
            scaled from its 307×307×162 scene, as HySUPP does. Hyperparameters default to the \
            reference notebook's.
            """,
        authors: "unmix developers", license: "MIT", url: "https://doi.org/10.1109/TGRS.2020.2992743",
        capabilities: [.stochastic, .progress, .abundancesNonnegative, .abundancesSumToOne])

    static let parameters: [Parameter<CNNAEU>] = [
        .integer("epochs", \.epochs, min: 0, max: 100_000, help: "Training epochs."),
        .integer("batch_size", \.batchSize, min: 1, max: 100_000, help: "Patches per training batch."),
        .real("learning_rate", \.learningRate, min: 1e-8, max: 10, logScale: true, help: "RMSprop learning rate (rho 0.9, epsilon 1e-7)."),
        .integer("patches", \.patches, min: -1, max: 1_000_000,
                 help: "Random training patches; -1: max(1, 250·H·W·B/(307·307·162)), the reference's 250 scaled to the cube."),
        .integer("patch_size", \.patchSize, min: 1, max: 100_000, help: "Side of the square training patches (clamped to the image)."),
        .integer("decoder_size", \.decoderSize, min: 1, max: 101, help: "Side of the decoder's convolution kernel."),
        .integer("filters", \.filters, min: 1, max: 4096, help: "Filters of the encoder's first (3×3) convolution."),
        .real("leaky_alpha", \.leakyAlpha, min: 0, max: 1, help: "Slope of the encoder's LeakyReLU for negative inputs."),
        .real("dropout", \.dropout, min: 0, max: 0.99, help: "Spatial dropout rate after each batch normalisation."),
        .real("softmax_scale", \.softmaxScale, min: 1e-3, max: 1000, logScale: true, help: "The abundances are softmax(scale·x)."),
        .real("init_std", \.initStd, min: 1e-6, max: 10, logScale: true, help: "Standard deviation of the normal initialisation of every convolution kernel."),
        .choice("loss", \.loss,
                help: "elementwise_arccos: the reference's (arccos of each band's product of the normalised spectra, averaged); sad: mean spectral angle; notebook_sad; mse; sid."),
    ]

    /// The network.
    struct Model {
        var conv1: Conv2D
        var norm1: BatchNorm
        var conv2: Conv2D
        var norm2: BatchNorm
        var decoder: Conv2D
        var alpha: Float
        var dropout: SpatialDropout2D
        var softmax: ScaledSoftmax

        init(bands: Int, r: Int, filters: Int, decoderSize: Int, alpha: Float, dropout: Float, softmaxScale: Float,
             initStd: Float, random: inout RandomStream) {
            let initializer = Initializer.normal(mean: 0, std: initStd)
            conv1 = Conv2D(kernelSize: (3, 3), inputs: bands, outputs: filters, initializer: initializer, random: &random)
            norm1 = BatchNorm(features: filters)
            conv2 = Conv2D(kernelSize: (1, 1), inputs: filters, outputs: r, initializer: initializer, random: &random)
            norm2 = BatchNorm(features: r)
            decoder = Conv2D(kernelSize: (decoderSize, decoderSize), inputs: r, outputs: bands, initializer: initializer,
                             constraint: .nonNegative, random: &random)
            self.alpha = alpha
            self.dropout = SpatialDropout2D(rate: dropout)
            self.softmax = ScaledSoftmax(scale: softmaxScale)
        }

        /// (N, H, W, B) → abundances (N, H, W, R).
        func abundances(_ x: Variable, _ c: ForwardContext) -> Variable {
            var h = dropout(norm1(leakyRelu(conv1(x, c), alpha: alpha), c), c)
            h = dropout(norm2(leakyRelu(conv2(h, c), alpha: alpha), c), c)
            return softmax(h, c)
        }

        /// Everything saved with the model, trained or not.
        var tensors: [Weight] {
            [conv1.kernel, norm1.gamma, norm1.beta, norm1.movingMean, norm1.movingVariance,
             conv2.kernel, norm2.gamma, norm2.beta, norm2.movingMean, norm2.movingVariance, decoder.kernel]
        }
    }

    /// The number of training patches `patches` stands for on a rows × cols × bands cube.
    static func patchCount(_ patches: Int, rows: Int, cols: Int, bands: Int) -> Int {
        if patches > 0 { return patches }
        return max(1, Int(250 * Double(rows * cols * bands) / Double(307 * 307 * 162)))
    }

    private func makeModel(bands: Int, r: Int, random: inout RandomStream) -> Model {
        Model(bands: bands, r: r, filters: filters, decoderSize: decoderSize, alpha: Float(leakyAlpha),
              dropout: Float(dropout), softmaxScale: Float(softmaxScale), initStd: Float(initStd), random: &random)
    }

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        let (rows, cols, bands) = (cube.rows, cube.cols, cube.bands)
        scale = max(cube.data.max() ?? 1, .leastNormalMagnitude)
        var random = context.random()
        let model = makeModel(bands: bands, r: r, random: &random)
        // Training patches: top-left corners drawn uniformly (with replacement, as scikit-learn's
        // extract_patches_2d), values scaled by the global maximum.
        let (ph, pw) = (min(patchSize, rows), min(patchSize, cols))
        let count = Self.patchCount(patches, rows: rows, cols: cols, bands: bands)
        var samples = [Float]()
        samples.reserveCapacity(count * ph * pw * bands)
        for _ in 0..<count {
            let top = random.index(below: rows - ph + 1), left = random.index(below: cols - pw + 1)
            for i in top..<(top + ph) {
                let start = (i * cols + left) * bands
                for k in start..<(start + pw * bands) { samples.append(cube.data[k] / scale) }
            }
        }
        context.log(.info, "CNNAEU: \(count) patches of \(ph)×\(pw)×\(bands)")
        let optimizer = RMSprop(learningRate: Float(learningRate))
        let epochs = self.epochs
        let loss = self.loss
        let noise = context.random(stream: 1)   // per-step streams for the dropout masks, split by step
        var stepIndex: UInt64 = 0
        try TrainingLoop(epochs: epochs, batchSize: batchSize).run(
            Tensor(shape: [count, ph, pw, bands], storage: samples), random: &random,
            afterEpoch: { epoch, value in
                context.progress(Double(epoch + 1) / Double(max(epochs, 1)), "epoch \(epoch + 1)/\(epochs), loss \(value)")
                try context.checkCancelled()
            },
            step: { batch in
                stepIndex += 1
                let c = ForwardContext(training: true, random: noise.split(stepIndex))
                let x = c.tape.constant(batch)
                let y = model.decoder(model.abundances(x, c), c)
                let value = loss(reshaped(y, [-1, bands]), reshaped(x, [-1, bands]))
                optimizer.step(c.gradients(of: value))
                return value.value.scalar
            })
        self.model = model
        return endmembers(model)
    }

    /// The decoder kernel (k, k, R, B) averaged over its two spatial axes, in the cube's units.
    private func endmembers(_ model: Model) -> Matrix {
        let w = model.decoder.kernel.value
        let (taps, r, bands) = (w.shape[0] * w.shape[1], w.shape[2], w.shape[3])
        var e = [Double](repeating: 0, count: r * bands)
        for t in 0..<taps { for k in 0..<(r * bands) { e[k] += Double(w.storage[t * r * bands + k]) } }
        return Matrix(rows: r, cols: bands, storage: e.map { $0 / Double(taps) * Double(scale) })
    }

    /// The encoder on the whole image as one batch, in inference mode (moving statistics, no dropout).
    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        guard let model else { throw PluginError.invalidArgument("CNNAEU: abundances before fit") }
        let c = ForwardContext(training: false)
        let x = Tensor(shape: [1, cube.rows, cube.cols, cube.bands], storage: cube.data.map { $0 / scale })
        let a = model.abundances(c.tape.constant(x), c).value
        let r = a.shape[3]
        return Matrix(rows: cube.pixels, cols: r, storage: a.storage.map(Double.init))
    }

    func saveState() throws -> [UInt8] {
        let model = self.model!
        let k = model.decoder.kernel.value.shape
        let header = [Double(k[3]), Double(k[2]), Double(scale), Double(k[0]), Double(model.conv1.kernel.value.shape[3])]
        return StateCoder.encode(header: header, weights: model.tensors)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "CNNAEU")
        let ((bands, r), scale) = (try state.bandsAndEndmembers(), try state.positive())
        var restored = self
        (restored.decoderSize, restored.filters) = (try state.size(), try state.size())
        try state.expectTensors(first: [3, 3, bands, restored.filters],
                                last: [restored.decoderSize, restored.decoderSize, r, bands])
        var random = RandomStream(seed: 0)
        let model = restored.makeModel(bands: bands, r: r, random: &random)
        try state.restore(into: model.tensors)
        (restored.scale, restored.model) = (Float(scale), model)
        self = restored
    }
}

/// The training losses on offer: the reference's element-wise variant and the toolkit's.
enum CNNAEULoss: String, CaseIterable {
    /// The CNNAEU notebook's: ŷ and y ℓ2-normalised per pixel, arccos of each band's product
    /// ŷ_b·y_b, averaged over bands and pixels (not the spectral angle: ≈ π/2 − cos/B).
    case elementwiseArccos = "elementwise_arccos"
    case sad
    case notebookSAD = "notebook_sad"
    case mse
    case sid

    func callAsFunction(_ reconstruction: Variable, _ target: Variable) -> Variable {
        switch self {
        case .elementwiseArccos: return mean(arccos(l2Normalized(reconstruction) * l2Normalized(target)))
        case .sad: return Loss.sad(reconstruction, target)
        case .notebookSAD: return Loss.notebookSAD(reconstruction, target)
        case .mse: return Loss.mse(reconstruction, target)
        case .sid: return Loss.sid(reconstruction, target)
        }
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(CNNAEU.self) }
