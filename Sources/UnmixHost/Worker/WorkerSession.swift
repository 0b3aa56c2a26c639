import Foundation

/// A worker that keeps one model loaded and unmixes one cube after another (the chunks `serve`
/// is sent by Dask tasks): the plugin is loaded and the model restored once, not once per cube.
/// Each cube is a call with its own time limit and checks, exactly as a one-shot `apply`; a call
/// that fails in any way ends the session, and the next call starts a new one.
public final class WorkerSession: @unchecked Sendable {
    private let worker: SpawnedWorker
    /// The most samples a cube may have: the worker's address-space limit was set for them.
    let capacity: Int
    /// False once the worker failed, crashed, timed out or was closed.
    public private(set) var isAlive = true
    private var closed = false

    /// Starts the worker of `request` (a `.session` job) with the model's `state`, for cubes of
    /// up to `capacity` samples.
    init(_ request: WorkerRequest, state: [UInt8], capacity: Int, limits: WorkerLimits) throws {
        // A worker that is gone makes our next write fail with EPIPE rather than kill the host.
        signal(SIGPIPE, SIG_IGN)
        worker = try Worker.spawn(request, state: state, cubeSamples: capacity, cube: nil, limits: limits, session: true)
        self.capacity = capacity
    }

    deinit { close() }

    /// Ends the worker: its chunk pipe closes (it exits at once), its group is killed, it is reaped.
    public func close() {
        guard !closed else { return }
        closed = true
        isAlive = false
        worker.closeAll()
        _ = worker.kill { _ in UnmixError("") }
    }

    /// The worker's answer for the cube `chunk`, read within `limits` (time limit, progress).
    func call(_ chunk: WorkerChunk, limits: WorkerLimits, maxAnswerBytes: Int) throws -> WorkerAnswer {
        guard isAlive, let chunks = worker.chunks else { throw UnmixError("the worker session has ended") }
        return try Interrupts.deferring {
            do {
                worker.startCall()
                let frame = Frame.encode(json: chunk)
                var done = 0
                while done < frame.count {
                    let n = frame.withUnsafeBytes { write(chunks, $0.baseAddress! + done, $0.count - done) }
                    if n < 0 && errno == EINTR { continue }
                    // The worker ended (its failure, if any, is in its answers).
                    if n < 0 { break }
                    done += n
                }
                try worker.collect(limits: limits, maxAnswerBytes: maxAnswerBytes, started: now(), untilAnswer: true)
                let answer = try worker.answer()
                if worker.exited { close() }
                return answer
            } catch {
                close()
                throw error
            }
        }
    }
}

/// The sessions of one `serve` process, one per model in use (at most `limit`, the least
/// recently used closed first).
public final class WorkerPool: @unchecked Sendable {
    private var entries: [(library: String, model: ModelFile, memoryBytes: Int, session: WorkerSession)] = []
    private let limit: Int
    private let lock = NSLock()

    public init(limit: Int = 4) {
        self.limit = limit
    }

    /// The abundances answer for `shared` (a cube of `rows` × `cols` × `model.bands`) by the
    /// model in `library`, from the model's session (started when there is none, or when this
    /// cube is larger than the session was started for).
    func apply(library: String, model: ModelFile, call: PluginCall, shared: SharedSamples, limits: WorkerLimits,
               maxAnswerBytes: Int) throws -> WorkerAnswer {
        lock.lock()
        defer { lock.unlock() }
        let index = entries.firstIndex { $0.library == library && $0.memoryBytes == limits.memoryBytes && $0.model == model }
        var session = index.map { entries[$0].session }
        if let index { entries.remove(at: index) }
        if let s = session, !s.isAlive || s.capacity < shared.count {
            s.close()
            session = nil
        }
        if session == nil {
            let request = WorkerRequest(library: library, job: .session(call, r: model.r, bands: model.bands, stateBytes: model.state.count))
            // Room for cubes up to twice this one, so that a smaller last chunk or a slightly
            // larger next one reuses the session.
            session = try WorkerSession(request, state: model.state, capacity: 2 * shared.count, limits: limits)
        }
        let live = session!
        entries.append((library, model, limits.memoryBytes, live))
        while entries.count > limit { entries.removeFirst().session.close() }
        let chunk = WorkerChunk(path: "/proc/\(getpid())/fd/\(shared.descriptor)", byteOffset: shared.byteOffset,
                                rows: call.rows, cols: call.cols, bands: call.bands)
        return try live.call(chunk, limits: limits, maxAnswerBytes: maxAnswerBytes)
    }
}
