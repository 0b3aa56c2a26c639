import Foundation

/// What the host asks of a worker: a child process (`unmix` itself, run with the hidden
/// `__worker` word) that loads exactly one plugin library and runs plugin code for the host,
/// so that nothing a plugin does can reach the host's memory, output or signals.
///
/// The conversation, on file descriptors the host sets up before the worker starts:
/// - fd 0: the request, a `Frame` of JSON (`WorkerRequest`), then the state bytes of a model
///   to restore, in an in-memory file written whole before the worker starts (so that the host
///   never blocks writing to a worker that does not read);
/// - fd 3: the worker's answers, a stream of frames: `WorkerEvent.stage` as each step starts
///   (so that a crash is reported with the step it happened in), then `WorkerEvent.finished`
///   followed by one frame of binary payload (endmembers, abundances, state, as the answer's
///   counts say) or `WorkerEvent.failed`;
/// - fd 4: the cube, an open file (an in-memory file or the input itself) the worker maps
///   read-only; fd 1 is /dev/null (a plugin's prints never reach the host's stdout) and fd 2
///   the host's stderr (the plugins' log lines and progress).
public struct WorkerRequest: Codable, Sendable {
    /// The library to load, by path.
    public var library: String
    public var job: Job
    /// The worker's address-space limit (RLIMIT_AS) in bytes, set before the library loads:
    /// a plugin asking for more gets a failed allocation instead of the machine's memory.
    public var memoryLimit: Int?

    public enum Job: Codable, Sendable {
        /// Load the library and describe it (discovery).
        case scan
        /// Fit `r` endmembers and estimate the abundances of the same cube; save the model when asked.
        case fit(PluginCall, r: Int, saveState: Bool)
        /// Restore a saved model (the state bytes follow the request) and estimate abundances.
        case apply(PluginCall, r: Int, bands: Int, stateBytes: Int)
        /// Restore a saved model once, then estimate the abundances of each `WorkerChunk` that
        /// arrives on fd 6, answering each in turn, until fd 6 ends (`WorkerSession`). The call's
        /// cube fields are not used: each chunk names its own.
        case session(PluginCall, r: Int, bands: Int, stateBytes: Int)
    }

    public init(library: String, job: Job) {
        self.library = library
        self.job = job
    }
}

/// The parts of a plugin call common to fitting and applying.
public struct PluginCall: Codable, Sendable {
    /// Parameter values in the table's order, and the seed.
    public var values: [Double]
    public var seed: UInt64
    /// The cube on fd 4: its shape and where its first sample is.
    public var rows: Int
    public var cols: Int
    public var bands: Int
    public var byteOffset: Int
    /// The signal axis the plugin sees through `unmix.axis/1` (nil: channels only numbered).
    public var signalAxis: Axis?
    /// Show the plugin's log and progress messages (`-v`).
    public var verbose: Bool
    /// The plugin's `should_cancel` answers true from the start of the fit (`validate`'s check
    /// that a plugin reporting progress stops when asked).
    public var cancelFromStart = false
    /// Send the plugin's progress to the host as `WorkerEvent.progress` (for `serve`).
    public var progressEvents = false

    public init(values: [Double], seed: UInt64, rows: Int, cols: Int, bands: Int, byteOffset: Int,
                signalAxis: Axis?, verbose: Bool) {
        self.values = values
        self.seed = seed
        self.rows = rows
        self.cols = cols
        self.bands = bands
        self.byteOffset = byteOffset
        self.signalAxis = signalAxis
        self.verbose = verbose
    }
}

/// One cube for a session's worker: `bands` float32 values per pixel at `byteOffset` of the file
/// at `path` (for a cube in the host's memory, `/proc/<host>/fd/<n>`), which the worker maps
/// read-only for the call.
public struct WorkerChunk: Codable, Sendable {
    public var path: String
    public var byteOffset: Int
    public var rows: Int
    public var cols: Int
    public var bands: Int
}

/// One message of a worker to the host.
public enum WorkerEvent: Codable, Sendable {
    /// A step starts: "load", "create", "set_params", "fit", "abundances", "save state", …
    case stage(String)
    /// The plugin's progress (fraction 0…1 and its message), at most ten a second, when the call
    /// asks for `progressEvents`.
    case progress(Double, String)
    /// The library, described (answer to `scan`).
    case scanned(PluginDescriptor)
    /// The plugin call succeeded; a payload frame follows with `endmembers` + `abundances`
    /// float32 values and `stateBytes` bytes, in that order.
    case finished(WorkerResult)
    /// The job failed with this reason (already one line).
    case failed(String)
}

/// The counts and timings of a successful plugin call (its arrays travel in the payload).
public struct WorkerResult: Codable, Sendable {
    public var r: Int
    public var endmembers: Int
    public var abundances: Int
    public var stateBytes: Int
    public var fitSeconds: Double
    public var abundanceSeconds: Double
    /// The model's (R, bands) as the plugin reports it through `unmix.state/2`, when it can.
    public var modelShape: [Int]?
    /// The worker's own peak resident memory (VmHWM) when it answered, in MiB. The host's
    /// ru_maxrss of a child also counts the host's own peak at the moment it started the child
    /// (Linux carries it over exec), so a worker says its own.
    public var residentPeakMiB: Double?
}

/// Length-prefixed frames: a little-endian UInt64 byte count, then the bytes.
enum Frame {
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt64(bytes.count).littleEndian, Array.init) + bytes
    }

    static func encode<T: Encodable>(json value: T) -> [UInt8] {
        encode(Array(try! JSONEncoder().encode(value)))
    }

    /// Splits `stream` into frames; the bytes after the last whole frame are returned apart
    /// (a worker that died mid-write leaves a partial frame).
    static func split(_ stream: [UInt8]) -> (frames: [ArraySlice<UInt8>], partial: Bool) {
        var frames = [ArraySlice<UInt8>]()
        var i = 0
        while stream.count - i >= 8 {
            let length = stream[i..<(i + 8)].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard length <= UInt64(stream.count - i - 8) else { return (frames, true) }
            frames.append(stream[(i + 8)..<(i + 8 + Int(length))])
            i += 8 + Int(length)
        }
        return (frames, i != stream.count)
    }
}

/// The file descriptors of a worker.
enum WorkerFD {
    static let request: Int32 = 0
    static let events: Int32 = 3
    static let cube: Int32 = 4
    /// The terminal for the progress line when stderr is a log file (compare).
    static let terminal: Int32 = 5
    /// A session's chunk requests (`WorkerRequest.Job.session`).
    static let chunks: Int32 = 6
}
