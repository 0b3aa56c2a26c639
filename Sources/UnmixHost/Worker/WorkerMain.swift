import CSystem
import Foundation

/// The worker's side (`unmix __worker`): reads one request, loads one library, runs the job,
/// answers on fd 3 and exits. Everything a plugin does happens here.
public enum WorkerMain {
    public static func run() -> Int32 {
        // Die with the host: the kernel kills this process when its parent goes, and a parent
        // that went before the call is caught by the check after it.
        _ = unmix_set_parent_death_signal(SIGKILL)
        if let expected = ProcessInfo.processInfo.environment["UNMIX_WORKER_PARENT"], Int32(expected) != getppid() {
            return 1
        }
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let request: WorkerRequest
        let trailing: [UInt8]
        do {
            let bytes = try readAll(WorkerFD.request)
            let (frames, _) = Frame.split(bytes)
            guard let first = frames.first else { throw UnmixError("no request") }
            request = try JSONDecoder().decode(WorkerRequest.self, from: Data(first))
            trailing = Array(bytes[(8 + first.count)...])
        } catch {
            send(.failed("the worker could not read its request: \(error)"))
            return 1
        }
        if let bytes = request.memoryLimit, bytes > 0, bytes < Int.max {
            var limit = rlimit(rlim_cur: rlim_t(bytes), rlim_max: rlim_t(bytes))
            _ = setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
        }
        do {
            try execute(request, trailing: trailing)
        } catch {
            send(.failed("\(error)"))
        }
        return 0
    }

    static func execute(_ request: WorkerRequest, trailing: [UInt8]) throws {
        send(.stage("loading"))
        let library = try PluginLibrary.load(path: request.library)
        switch request.job {
        case .scan:
            send(.scanned(library.descriptor))
        case let .fit(call, r, saveState):
            let (instance, cube) = try prepare(library, call)
            send(.stage("fit"))
            if call.cancelFromStart { cancelRequested = 1 }
            if call.progressEvents { forwardProgress() }
            let t0 = now()
            let endmembers = try instance.fit(cube, r: r)
            let t1 = now()
            send(.stage("abundances"))
            let abundances = try instance.abundances(cube)
            let t2 = now()
            var state = [UInt8]()
            if saveState {
                send(.stage("saving the model"))
                guard let saved = try instance.saveState() else {
                    throw UnmixError("\(library.descriptor.id) cannot save its model (no unmix.state extension)")
                }
                state = saved
            }
            finish(WorkerResult(r: r, endmembers: endmembers.count, abundances: abundances.count, stateBytes: state.count,
                                fitSeconds: t1 - t0, abundanceSeconds: t2 - t1,
                                modelShape: instance.reportsModelShape ? try shape(instance) : nil),
                   endmembers, abundances, state)
        case let .session(call, r, bands, stateBytes):
            guard trailing.count == stateBytes else {
                throw UnmixError("the worker received \(trailing.count) state bytes, expected \(stateBytes)")
            }
            try serveChunks(library, call, r: r, bands: bands, state: trailing)
        case let .apply(call, r, bands, stateBytes):
            guard trailing.count == stateBytes else {
                throw UnmixError("the worker received \(trailing.count) state bytes, expected \(stateBytes)")
            }
            let (instance, cube) = try prepare(library, call)
            if call.progressEvents { forwardProgress() }
            guard cube.bands == bands else { throw UnmixError("the cube has \(cube.bands) bands, the model \(bands)") }
            send(.stage("restoring the model"))
            // Through unmix.state/2 the restored shape is checked against the file's R and bands
            // before any buffer is sized from them.
            try instance.loadState(trailing, r: r, bands: bands)
            let shape = instance.reportsModelShape ? try shape(instance) : nil
            send(.stage("abundances"))
            let t0 = now()
            let abundances = try instance.abundances(cube)
            finish(WorkerResult(r: r, endmembers: 0, abundances: abundances.count, stateBytes: 0,
                                fitSeconds: 0, abundanceSeconds: now() - t0, modelShape: shape),
                   [], abundances, [])
        }
    }

    /// Sends the plugin's progress as events, at most ten a second (a plugin may report every
    /// step), and always the last one (fraction 1).
    static func forwardProgress() {
        nonisolated(unsafe) var last = 0.0
        progressSink = { fraction, message in
            let t = now()
            guard t - last >= 0.1 || fraction >= 1 else { return }
            last = t
            send(.progress(fraction, message))
        }
    }

    /// A session: the model restored once, then one answer per chunk until fd 6 ends. A chunk
    /// that fails ends the session with that failure.
    static func serveChunks(_ library: PluginLibrary, _ call: PluginCall, r: Int, bands: Int, state: [UInt8]) throws {
        let instance = try instance(library, call)
        if call.progressEvents { forwardProgress() }
        send(.stage("restoring the model"))
        try instance.loadState(state, r: r, bands: bands)
        let modelShape = instance.reportsModelShape ? try shape(instance) : nil
        send(.stage("waiting for a cube"))
        while let frame = try readFrame(WorkerFD.chunks) {
            let chunk = try JSONDecoder().decode(WorkerChunk.self, from: Data(frame))
            guard chunk.bands == bands else { throw UnmixError("the cube has \(chunk.bands) bands, the model \(bands)") }
            let fd = open(chunk.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw UnmixError("cannot open the cube \(chunk.path): \(errnoText())") }
            defer { close(fd) }
            let cube = try mapCube(fd, byteOffset: chunk.byteOffset, rows: chunk.rows, cols: chunk.cols, bands: chunk.bands)
            send(.stage("abundances"))
            let t0 = now()
            let abundances = try instance.abundances(cube)
            finish(WorkerResult(r: r, endmembers: 0, abundances: abundances.count, stateBytes: 0,
                                fitSeconds: 0, abundanceSeconds: now() - t0, modelShape: modelShape),
                   [], abundances, [])
        }
    }

    /// One length-prefixed frame from `fd`; nil when it ends before a frame starts.
    private static func readFrame(_ fd: Int32) throws -> [UInt8]? {
        func read(_ count: Int) throws -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count), done = 0
            while done < count {
                let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, count - done) }
                if n == 0 {
                    if done == 0 { return nil }
                    throw UnmixError("the host's request ended mid-frame")
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw UnmixError("reading a request: \(errnoText())")
                }
                done += n
            }
            return bytes
        }
        guard let prefix = try read(8) else { return nil }
        let length = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= 1 << 20 else { throw UnmixError("a request of \(length) bytes") }
        return try read(Int(length)) ?? []
    }

    static func shape(_ instance: PluginInstance) throws -> [Int] {
        let s = try instance.modelShape()
        return [s.r, s.bands]
    }

    /// An instance with its parameters set and the shared cube mapped.
    static func prepare(_ library: PluginLibrary, _ call: PluginCall) throws -> (PluginInstance, CubeData) {
        let cube = try mapCube(WorkerFD.cube, byteOffset: call.byteOffset, rows: call.rows, cols: call.cols, bands: call.bands)
        return (try instance(library, call), cube)
    }

    /// The cube of `rows` × `cols` × `bands` float32 values at `byteOffset` of the open file
    /// `descriptor`, mapped read-only, its shape checked first.
    static func mapCube(_ descriptor: Int32, byteOffset: Int, rows: Int, cols: Int, bands: Int) throws -> CubeData {
        let (pixels, o1) = rows.multipliedReportingOverflow(by: cols)
        let (count, o2) = pixels.multipliedReportingOverflow(by: bands)
        guard !o1, !o2, rows > 0, cols > 0, bands > 0 else { throw UnmixError("bad cube shape in the request") }
        let storage = try SampleStorage.mapping(descriptor: descriptor, byteOffset: byteOffset, count: count)
        return CubeData(rows: rows, cols: cols, bands: bands, storage: storage)
    }

    /// An instance of the library with the call's signal axis, parameters and seed.
    static func instance(_ library: PluginLibrary, _ call: PluginCall) throws -> PluginInstance {
        send(.stage("create"))
        let instance = try PluginInstance(library, verbose: call.verbose)
        instance.setSignalAxis(call.signalAxis)
        send(.stage("set_params"))
        try instance.setParameters(call.values, seed: call.seed)
        return instance
    }


    static func finish(_ result: WorkerResult, _ endmembers: [Float], _ abundances: [Float], _ state: [UInt8]) {
        var payload = [UInt8]()
        payload.reserveCapacity(4 * (endmembers.count + abundances.count) + state.count)
        endmembers.withUnsafeBytes { payload += $0 }
        abundances.withUnsafeBytes { payload += $0 }
        payload += state
        var result = result
        result.residentPeakMiB = residentHighWaterMiB(process: "self")
        write(Frame.encode(json: WorkerEvent.finished(result)) + Frame.encode(payload))
    }

    static func send(_ event: WorkerEvent) {
        write(Frame.encode(json: event))
    }

    private static func write(_ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(WorkerFD.events, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                _exit(1) // the host is gone
            }
            done += n
        }
    }

    private static func readAll(_ fd: Int32) throws -> [UInt8] {
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return out }
            if n < 0 {
                if errno == EINTR { continue }
                throw UnmixError("reading the request: \(errnoText())")
            }
            out += chunk[0..<n]
        }
    }
}
