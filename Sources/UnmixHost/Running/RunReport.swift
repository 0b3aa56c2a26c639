import Foundation

/// What a run or an application of a model reports: run.json, `run --json`, and what compare
/// keeps of each run. Keys are written in snake_case (`fit_seconds`).
public struct RunReport: Codable, Sendable {
    public struct PluginRef: Codable, Sendable {
        public var id: String
        public var name: String
        public var version: String
        public var path: String

        public init(id: String, name: String, version: String, path: String) {
            self.id = id
            self.name = name
            self.version = version
            self.path = path
        }
    }

    /// Scores against the ground truth (endmembers matched by the Hungarian algorithm on SAD).
    public struct Metrics: Codable, Sendable {
        public var sad: [Double]
        public var sadMean: Double
        public var nmse: [Double]
        public var nmseMean: Double
        public var truth: String
    }

    public var plugin: PluginRef
    /// The model file applied (`apply` only).
    public var model: String?
    /// Parameter values as users write them.
    public var parameters: [String: String]
    public var seed: UInt64
    public var r: Int
    public var input: InputReport
    /// Nil for `apply`, which fits nothing.
    public var fitSeconds: Double?
    public var abundancesSeconds: Double
    public var reconstructionRmse: Double
    /// Peak resident memory of the worker that ran the plugin (ru_maxrss, which counts the
    /// pages of the shared cube it touched).
    public var workerPeakMemoryMib: Double
    /// Peak resident memory of the host process so far (the cube's pages included).
    public var hostPeakMemoryMib: Double = hostPeakMemoryMiB()
    public var metrics: Metrics?
    /// What the host did to the cube before the plugin saw it (`--background`, `--poisson`).
    public var preprocessing: PreprocessingReport?
    /// How R was chosen when `-r auto` estimated it.
    public var rankEstimate: RankEstimate.Summary?

    public init(plugin: PluginRef, model: String?, parameters: [String: String], seed: UInt64, r: Int, input: InputReport,
                fitSeconds: Double?, abundancesSeconds: Double, reconstructionRmse: Double, workerPeakMemoryMib: Double,
                metrics: Metrics?) {
        self.plugin = plugin
        self.model = model
        self.parameters = parameters
        self.seed = seed
        self.r = r
        self.input = input
        self.fitSeconds = fitSeconds
        self.abundancesSeconds = abundancesSeconds
        self.reconstructionRmse = reconstructionRmse
        self.workerPeakMemoryMib = workerPeakMemoryMib
        self.metrics = metrics
    }

    /// The JSON text (pretty, sorted keys).
    public var json: String { encodeJSON(self) }
}

/// The `input` entry of run.json and compare.json: where the data came from, how it was read,
/// what was selected.
public struct InputReport: Codable, Sendable {
    public struct SelectionReport: Codable, Sendable {
        public var range: String?
        public var roi: String?
        public var rows: [Int]
        public var cols: [Int]
        public var channels: [Int]
    }

    public var path: String
    public var format: String
    public var dtype: String
    public var title: String
    public var rows: Int
    public var cols: Int
    public var bands: Int
    public var fileShape: [Int]
    public var signalAxis: Axis
    public var navigationAxes: [Axis]
    public var selection: SelectionReport
    public var truth: String?

    public init(_ input: Input) {
        let cube = input.cube
        path = input.path
        format = input.dataset.format
        dtype = input.dataset.dtype.rawValue
        title = input.dataset.title
        rows = cube.rows
        cols = cube.cols
        bands = cube.bands
        fileShape = input.fileShape
        signalAxis = input.signalAxis
        navigationAxes = [input.dataset.rowAxis, input.dataset.colAxis]
        let region = input.region
        selection = SelectionReport(range: input.selection.range?.text, roi: input.selection.roi?.text,
                                    rows: [region.rows.lowerBound, region.rows.upperBound],
                                    cols: [region.cols.lowerBound, region.cols.upperBound],
                                    channels: [region.channels.lowerBound, region.channels.upperBound])
        truth = input.truth?.source
    }
}

extension RunReport {
    /// The report of a fit (`run`, each run of `compare`): what was asked and what came back.
    public init(_ request: RunRequest, _ outcome: RunOutcome) {
        let d = request.plugin.descriptor
        let result = outcome.result
        self.init(plugin: PluginRef(id: d.id, name: d.name, version: d.version, path: request.plugin.path), model: nil,
                  parameters: Dictionary(request.parameterTexts, uniquingKeysWith: { a, _ in a }), seed: request.seed,
                  r: request.r, input: InputReport(request.input), fitSeconds: result.fitSeconds,
                  abundancesSeconds: result.abundanceSeconds, reconstructionRmse: result.rmse,
                  workerPeakMemoryMib: outcome.workerPeakMiB, metrics: Metrics(request.input, result))
        preprocessing = request.input.preprocessingReport(scales: outcome.poissonScales)
        rankEstimate = request.rankEstimate
    }
}

extension RunReport.Metrics {
    /// The scores of `result` against the input's truth, when it has one of the same R.
    public init?(_ input: Input, _ result: RunResult) {
        guard let truth = input.truth, truth.r == result.r else { return nil }
        let score = Score(truth: truth, result: result, pixels: input.cube.pixels, bands: input.cube.bands)
        self.init(sad: score.sad, sadMean: score.sadMean, nmse: score.nmse, nmseMean: score.nmseMean, truth: truth.source)
    }

    /// The end of the printed summary.
    public var line: String { String(format: ", mean SAD %.4f rad, mean NMSE %.4f", sadMean, nmseMean) }
}

/// Pretty JSON with sorted keys and snake_case names; non-finite numbers as null is not
/// possible with Codable, so callers keep them out (outputs are checked finite).
public func encodeJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
}

/// Reads what `encodeJSON` wrote.
public func decodeJSON<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(type, from: data)
}

/// This process's peak resident memory (ru_maxrss), in MiB.
public func hostPeakMemoryMiB() -> Double {
    if let peak = residentHighWaterMiB(process: "self") { return peak }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// The peak resident memory of a running process's own address space (VmHWM of
/// /proc/PROCESS/status), in MiB; nil where /proc does not say. Unlike ru_maxrss, which Linux
/// carries over from the address space a process replaced at exec (a child of a large parent
/// starts with the parent's peak), it counts only what the process itself touched.
public func residentHighWaterMiB(process: String) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kib / 1024
}
