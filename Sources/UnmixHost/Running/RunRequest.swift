import CUnmix
import Foundation

/// One plugin run, resolved: every word of the command line turned into checked values, so
/// that the runner has nothing left to parse (`run`, `compare`'s runs, the benchmarks).
public struct RunRequest: Sendable {
    public var plugin: InstalledPlugin
    /// Parameter values in the plugin's table order.
    public var values: [Double]
    public var seed: UInt64
    public var r: Int
    public var input: Input
    public var limits: WorkerLimits
    /// Also bring back the plugin's saved model.
    public var saveState: Bool
    public var verbose: Bool
    /// Ask the plugin to stop from the start of its fit (`validate`).
    public var cancelFromStart = false
    /// How R was chosen when `-r auto` estimated it (recorded in run.json).
    public var rankEstimate: RankEstimate.Summary?

    public init(plugin: InstalledPlugin, values: [Double], seed: UInt64, r: Int, input: Input,
                limits: WorkerLimits = WorkerLimits(), saveState: Bool = false, verbose: Bool = false) {
        self.plugin = plugin
        self.values = values
        self.seed = seed
        self.r = r
        self.input = input
        self.limits = limits
        self.saveState = saveState
        self.verbose = verbose
    }

    /// The parameter values as users write them, in the table's order.
    public var parameterTexts: [(String, String)] {
        zip(plugin.descriptor.parameters, values).map { ($0.id, $0.format($1)) }
    }
}

/// One application of a saved model to a cube (`apply`).
public struct ApplyRequest: Sendable {
    public var plugin: InstalledPlugin
    public var model: ModelFile
    public var input: Input
    public var limits: WorkerLimits
    public var verbose: Bool
    /// Sessions that keep the model loaded from one application to the next (`serve`); nil:
    /// a worker for this application alone.
    public var pool: WorkerPool?

    public init(plugin: InstalledPlugin, model: ModelFile, input: Input, limits: WorkerLimits = WorkerLimits(), verbose: Bool = false) {
        self.plugin = plugin
        self.model = model
        self.input = input
        self.limits = limits
        self.verbose = verbose
    }
}

/// What a run produced, checked.
public struct RunOutcome: Sendable {
    public var result: RunResult
    /// The saved model's bytes, when asked for.
    public var state: [UInt8]?
    /// Peak resident memory of the worker, in MiB.
    public var workerPeakMiB: Double
    /// Poisson weighting: the scales that mapped the results back to counts.
    public var poissonScales: [Double]? = nil
}

/// Runs requests in workers and checks what comes back before anything is written or scored.
public enum Runner {
    /// Fits `request.r` endmembers and estimates the abundances of the same cube, in a worker.
    public static func run(_ request: RunRequest) throws -> RunOutcome {
        let d = request.plugin.descriptor
        let cube = request.input.cube
        let weights = request.input.poissonWeights
        let answer = try work(d.id, weights?.weigh(cube) ?? cube) { shared in
            var call = pluginCall(request.values, seed: request.seed, input: request.input, shared: shared, verbose: request.verbose)
            call.cancelFromStart = request.cancelFromStart
            call.progressEvents = request.limits.onProgress != nil
            return try Worker.run(WorkerRequest(library: request.plugin.path, job: .fit(call, r: request.r, saveState: request.saveState)),
                           cube: shared, limits: request.limits, maxAnswerBytes: maxAnswer(cube, r: request.r, state: true))
        }
        guard case .finished(let result) = answer.event else { throw UnmixError("\(d.id): the worker answered out of turn") }
        let (endmembers, abundances, state) = try unpack(d.id, result, answer.payload, r: request.r, cube: cube,
                                                         expectEndmembers: true, expectState: request.saveState)
        if request.saveState, let shape = result.modelShape, shape != [request.r, cube.bands] {
            throw UnmixError("\(d.id): its saved model reports R = \(shape[0]) and \(shape[1]) bands after a fit of R = \(request.r) on \(cube.bands) bands")
        }
        try checkOutputs(d, endmembers: endmembers, abundances: abundances, r: request.r, bands: cube.bands)
        // Results on the weighted cube, mapped back to counts (PoissonWeights.scales).
        var (e, a, scales) = (endmembers, abundances, [Double]?.none)
        if let weights {
            let u = weights.scales(abundances: abundances, r: request.r)
            e = weights.endmembers(endmembers, r: request.r, scales: u)
            a = weights.abundances(abundances, r: request.r, scales: u, sumToOne: PoissonWeights.sumsToOne(abundances, r: request.r))
            scales = u
        }
        let rmse = reconstructionRMSE(cube: cube, pixels: cube.pixels, bands: cube.bands, endmembers: e, abundances: a, r: request.r)
        return RunOutcome(result: RunResult(r: request.r, endmembers: e, abundances: a,
                                            fitSeconds: result.fitSeconds, abundanceSeconds: result.abundanceSeconds, rmse: rmse),
                          state: request.saveState ? state : nil, workerPeakMiB: answer.peakMemoryMiB, poissonScales: scales)
    }

    /// Restores `request.model` in a worker and estimates the abundances of the input.
    public static func apply(_ request: ApplyRequest) throws -> RunOutcome {
        let d = request.plugin.descriptor
        let model = request.model
        let cube = request.input.cube
        let weights = request.input.poissonWeights
        guard (weights == nil) == (model.preprocessing.poissonScales == nil) else {
            throw UnmixError("\(d.id): the model's Poisson weighting and the input's preprocessing disagree")
        }
        let answer = try work(d.id, weights?.weigh(cube) ?? cube) { shared in
            var call = pluginCall(model.values, seed: model.seed, input: request.input, shared: shared, verbose: request.verbose)
            call.progressEvents = request.limits.onProgress != nil
            if let pool = request.pool {
                return try pool.apply(library: request.plugin.path, model: model, call: call, shared: shared, limits: request.limits,
                                      maxAnswerBytes: maxAnswer(cube, r: model.r, state: false))
            }
            return try Worker.run(WorkerRequest(library: request.plugin.path,
                                         job: .apply(call, r: model.r, bands: model.bands, stateBytes: model.state.count)),
                           state: model.state, cube: shared, limits: request.limits,
                           maxAnswerBytes: maxAnswer(cube, r: model.r, state: false))
        }
        guard case .finished(let result) = answer.event else { throw UnmixError("\(d.id): the worker answered out of turn") }
        let (_, abundances, _) = try unpack(d.id, result, answer.payload, r: model.r, cube: cube, expectEndmembers: false, expectState: false)
        try checkOutputs(d, endmembers: model.endmembers, abundances: abundances, r: model.r, bands: cube.bands)
        var a = abundances
        if let weights, let u = model.preprocessing.poissonScales {
            a = weights.abundances(abundances, r: model.r, scales: u, sumToOne: PoissonWeights.sumsToOne(abundances, r: model.r))
        }
        let rmse = reconstructionRMSE(cube: cube, pixels: cube.pixels, bands: cube.bands, endmembers: model.endmembers,
                                      abundances: a, r: model.r)
        return RunOutcome(result: RunResult(r: model.r, endmembers: model.endmembers, abundances: a, fitSeconds: 0,
                                            abundanceSeconds: result.abundanceSeconds, rmse: rmse),
                          state: nil, workerPeakMiB: answer.peakMemoryMiB)
    }

    /// The call's common part, with the cube's axis when it is calibrated.
    static func pluginCall(_ values: [Double], seed: UInt64, input: Input, shared: SharedSamples, verbose: Bool) -> PluginCall {
        let cube = input.cube
        return PluginCall(values: values, seed: seed, rows: cube.rows, cols: cube.cols, bands: cube.bands, byteOffset: shared.byteOffset,
                          signalAxis: input.signalAxis.isUncalibrated ? nil : input.signalAxis, verbose: verbose)
    }

    /// Shares the cube, runs `body`, and words a worker's failure after the plugin's id.
    private static func work(_ id: String, _ cube: CubeData, _ body: (SharedSamples) throws -> WorkerAnswer) throws -> WorkerAnswer {
        let shared = try cube.storage.shared()
        do {
            return try body(shared)
        } catch let failure as WorkerFailure {
            // The plugin said no (a status and its reason): an ordinary failure.
            if failure.kind == .failed {
                throw UnmixError(failure.reason.hasPrefix("\(id): ") ? failure.reason : "\(id): \(failure.reason)")
            }
            throw RunFailure(message: "plugin \(id) \(failure.reason); nothing was written", reason: failure.reason,
                             peakMemoryMiB: failure.peakMemoryMiB)
        }
    }

    /// The most a worker may send: the outputs and, for a fit that saves its model, up to 1 GiB of state.
    static func maxAnswer(_ cube: CubeData, r: Int, state: Bool) -> Int {
        4 * (r * cube.bands + cube.pixels * r) + (1 << 16) + (state ? 1 << 30 : 0)
    }

    /// The arrays of a worker's payload, sized as the request said (never as the worker says).
    static func unpack(_ id: String, _ result: WorkerResult, _ payload: [UInt8], r: Int, cube: CubeData,
                       expectEndmembers: Bool, expectState: Bool) throws -> ([Float], [Float], [UInt8]) {
        let e = expectEndmembers ? r * cube.bands : 0
        let a = cube.pixels * r
        guard result.r == r, result.endmembers == e, result.abundances == a, result.stateBytes >= 0,
              expectState || result.stateBytes == 0, payload.count == 4 * (e + a) + result.stateBytes else {
            throw UnmixError("\(id): the worker sent a result of the wrong size")
        }
        func floats(_ range: Range<Int>) -> [Float] {
            payload[range].withUnsafeBytes { raw in (0..<(range.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        }
        return (floats(0..<(4 * e)), floats((4 * e)..<(4 * (e + a))), Array(payload[(4 * (e + a))...]))
    }

    /// Refuses outputs that are not finite, or that break a promise the plugin declared
    /// (non-negative abundances, abundances summing to one per pixel).
    public static func checkOutputs(_ d: PluginDescriptor, endmembers: [Float], abundances: [Float], r: Int, bands: Int) throws {
        if let i = endmembers.firstIndex(where: { !$0.isFinite }) {
            throw UnmixError("\(d.id) returned a non-finite endmember value (\(endmembers[i]) in endmember \(i / bands), band \(i % bands)); nothing was written")
        }
        if let i = abundances.firstIndex(where: { !$0.isFinite }) {
            throw UnmixError("\(d.id) returned a non-finite abundance (\(abundances[i]) at pixel \(i / r), endmember \(i % r)); nothing was written")
        }
        if d.capabilities & UInt64(UNMIX_CAP_ABUNDANCES_NONNEGATIVE) != 0, let i = abundances.firstIndex(where: { $0 < -1e-4 }) {
            throw UnmixError("\(d.id) declares non-negative abundances but returned \(abundances[i]) at pixel \(i / r), endmember \(i % r); nothing was written")
        }
        if d.capabilities & UInt64(UNMIX_CAP_ABUNDANCES_SUM_TO_ONE) != 0, let (p, sum) = firstPixelNotSummingToOne(abundances, r: r) {
            throw UnmixError("\(d.id) declares abundances summing to one but pixel \(p) sums to \(String(format: "%.6g", sum)); nothing was written")
        }
    }
}

/// The first pixel whose abundances do not sum to one within 1e-3, with its sum; nil when all do.
/// One rule for the promise the runner checks and for the Poisson mapping back that keeps it.
public func firstPixelNotSummingToOne(_ abundances: [Float], r: Int) -> (pixel: Int, sum: Double)? {
    for p in 0..<(abundances.count / max(1, r)) {
        var sum = 0.0
        for k in 0..<r { sum += Double(abundances[p * r + k]) }
        if abs(sum - 1) > 1e-3 { return (p, sum) }
    }
    return nil
}

/// A run that failed in its worker: the line for the user, the worker's reason alone (for
/// compare's table), and what the worker cost.
public struct RunFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var reason: String
    public var peakMemoryMiB: Double
    public var description: String { message }
}
