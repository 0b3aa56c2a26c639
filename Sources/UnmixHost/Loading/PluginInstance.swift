import CUnmix
import Foundation

/// One live instance of a plugin, with the host callbacks it was given.
/// Every call maps a failing status to an `UnmixError` naming the plugin and its reason.
public final class PluginInstance {
    public let library: PluginLibrary
    private let handle: OpaquePointer
    private let host: UnsafeMutablePointer<unmix_host_t>
    private let context: HostContext
    /// R of the fitted (or restored) model; nil before.
    public private(set) var endmemberCount: Int?

    public init(_ library: PluginLibrary, verbose: Bool = false) throws {
        self.library = library
        context = HostContext(pluginID: library.descriptor.id, verbose: verbose)
        host = .allocate(capacity: 1)
        host.initialize(to: makeHost(context))
        guard let made = library.table.pointee.create(host) else {
            host.deallocate()
            throw UnmixError("\(library.descriptor.id): could not create an instance")
        }
        handle = made
    }

    deinit {
        library.table.pointee.destroy(handle)
        host.deallocate()
    }

    private var id: String { library.descriptor.id }

    private func check(_ status: unmix_status, _ what: String) throws {
        guard status != unmix_status(UNMIX_OK) else { return }
        let reason = library.table.pointee.last_error(handle).map { String(cString: $0) } ?? ""
        throw UnmixError("\(id): \(what) failed (\(statusName(status)))\(reason.isEmpty ? "" : ": \(reason)")")
    }

    /// The signal axis plugins see through `unmix.axis/1` during the following calls (nil: the
    /// channels are only numbered). Must have as many channels as the cubes passed.
    public func setSignalAxis(_ axis: Axis?) {
        context.axis = axis.map(CAxis.init)
    }

    /// Sets all parameter values (table order) and the seed.
    public func setParameters(_ values: [Double], seed: UInt64) throws {
        try check(values.withUnsafeBufferPointer {
            library.table.pointee.set_params(handle, $0.baseAddress, UInt32(values.count), seed)
        }, "set_params")
    }

    /// Fits `r` endmembers; returns them (R × B, row-major).
    public func fit(_ cube: CubeData, r: Int) throws -> [Float] {
        let out = try GuardedBuffer(count: r * cube.bands)
        endmemberCount = nil
        context.progressLine?.begin("fit")
        defer { context.progressLine?.end() }
        try cube.withCCube { c in
            try check(withUnsafePointer(to: c) { library.table.pointee.fit(handle, $0, UInt32(r), out.pointer) }, "fit")
        }
        endmemberCount = r
        return out.values
    }

    /// The abundances of `cube` (rows × cols × R, pixel-major) under the fitted model.
    ///
    /// R is the fitted model's. Passing `r` is only for probing a plugin that has no model yet
    /// (the conformance tests check that it refuses); it must match a known R, since the output
    /// buffer is sized by it.
    public func abundances(_ cube: CubeData, r given: Int? = nil) throws -> [Float] {
        if let known = endmemberCount, let given, given != known {
            throw UnmixError("\(id): abundances for R = \(given) asked of a model of R = \(known)")
        }
        guard let r = endmemberCount ?? given else { throw UnmixError("\(id): abundances asked before a successful fit") }
        let out = try GuardedBuffer(count: cube.pixels * r)
        context.progressLine?.begin("abundances")
        defer { context.progressLine?.end() }
        try cube.withCCube { c in
            try check(withUnsafePointer(to: c) { library.table.pointee.abundances(handle, $0, out.pointer) }, "abundances")
        }
        return out.values
    }

    /// The fitted model through `unmix.state/2` (or `unmix.state/1` from an older plugin), or nil
    /// when the plugin offers neither.
    public func saveState() throws -> [UInt8]? {
        let save: unmix_state_save_fn
        if let v2 = state2 { save = v2.save } else if let v1 = state1 { save = v1.save } else { return nil }
        let sink = ByteSink()
        let status = save(handle, { ctx, bytes, size in
            guard let ctx else { return false }
            let sink = Unmanaged<ByteSink>.fromOpaque(ctx).takeUnretainedValue()
            if size > 0, let bytes { sink.bytes += UnsafeRawBufferPointer(start: bytes, count: size) }
            return true
        }, Unmanaged.passUnretained(sink).toOpaque())
        try check(status, "save state")
        return sink.bytes
    }

    /// Restores a model of `r` endmembers (and `bands` bands, when given) saved by
    /// `saveState()`. Through `unmix.state/2` the restored model's shape is checked against them.
    public func loadState(_ bytes: [UInt8], r: Int, bands: Int? = nil) throws {
        endmemberCount = nil
        let load: unmix_state_load_fn
        if let v2 = state2 { load = v2.load } else if let v1 = state1 { load = v1.load } else {
            throw UnmixError("\(id): the plugin cannot restore a saved model")
        }
        try check(bytes.withUnsafeBytes { load(handle, $0.baseAddress, $0.count) }, "load state")
        if state2 != nil {
            let shape = try modelShape()
            guard shape.r == r, bands == nil || shape.bands == bands else {
                throw UnmixError("\(id): the restored model has R = \(shape.r) and \(shape.bands) bands; the model file says R = \(r)\(bands.map { " and \($0) bands" } ?? "")")
            }
        }
        endmemberCount = r
    }

    private var state1: unmix_state_ext_t? {
        library.extensionPointer(UNMIX_EXT_STATE).map { $0.assumingMemoryBound(to: unmix_state_ext_t.self).pointee }
    }

    /// Whether the plugin offers `unmix.state/2` (and so reports its model's shape).
    public var reportsModelShape: Bool { state2 != nil }

    private var state2: unmix_state2_ext_t? {
        library.extensionPointer(UNMIX_EXT_STATE_2).map { $0.assumingMemoryBound(to: unmix_state2_ext_t.self).pointee }
    }

    /// R and the bands of the fitted or restored model, through `unmix.state/2`.
    public func modelShape() throws -> (r: Int, bands: Int) {
        guard let ext = state2 else { throw UnmixError("\(id): the plugin does not report its model's shape (no \(UNMIX_EXT_STATE_2))") }
        var (r, bands) = (UInt32(0), UInt32(0))
        try check(ext.model_shape(handle, &r, &bands), "model_shape")
        return (Int(r), Int(bands))
    }
}

private typealias unmix_state_save_fn = @convention(c) (OpaquePointer?, unmix_write_fn?, UnsafeMutableRawPointer?) -> unmix_status
private typealias unmix_state_load_fn = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> unmix_status

private final class ByteSink { var bytes = [UInt8]() }

/// An output buffer for a plugin, filled with NaN (so that values it never writes are caught
/// as non-finite) and ending right at an inaccessible page: a plugin that writes past the end
/// it was given faults at once, in the worker, instead of corrupting memory silently.
final class GuardedBuffer {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>
    private let base: UnsafeMutableRawPointer
    private let length: Int

    init(count: Int) throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow, bytes < Int.max / 2 else { throw UnmixError("an output of \(count) values is too large") }
        let dataPages = (bytes + page - 1) / page
        length = (dataPages + 1) * page
        guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), address != MAP_FAILED else {
            throw UnmixError("cannot allocate an output of \(count) values: \(String(cString: strerror(errno)))")
        }
        base = address
        mprotect(address + dataPages * page, page, PROT_NONE)
        self.count = count
        pointer = (address + dataPages * page - bytes).assumingMemoryBound(to: Float.self)
        pointer.initialize(repeating: .nan, count: count)
    }

    deinit { munmap(base, length) }

    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

func statusName(_ s: unmix_status) -> String {
    switch Int(s) {
    case Int(UNMIX_ERR_INVALID_ARGUMENT): return "invalid argument"
    case Int(UNMIX_ERR_BAD_STATE): return "bad state"
    case Int(UNMIX_ERR_NUMERICAL): return "numerical failure"
    case Int(UNMIX_ERR_CANCELLED): return "cancelled"
    case Int(UNMIX_ERR_OUT_OF_MEMORY): return "out of memory"
    case Int(UNMIX_ERR_UNSUPPORTED): return "unsupported"
    case Int(UNMIX_ERR_INTERNAL): return "internal error"
    default: return "status \(s)"
    }
}

// MARK: - Host callbacks

/// What the host callbacks of one instance need: whom to name in messages, how chatty to be,
/// the signal axis of the cube being unmixed.
final class HostContext {
    let pluginID: String
    let verbose: Bool
    /// The axis `unmix.axis/1` hands out, with the C strings and values it points to.
    var axis: CAxis?
    /// The live progress line on a terminal (nil with -v or off a terminal).
    let progressLine: ProgressLine?
    init(pluginID: String, verbose: Bool) {
        self.pluginID = pluginID
        self.verbose = verbose
        progressLine = verbose ? nil : ProgressLine.make(pluginID: pluginID)
    }
}

/// An `Axis` as the C struct `unmix_axis_t`, owning the memory the struct points to.
final class CAxis {
    let pointer: UnsafeMutablePointer<unmix_axis_t>
    private let units: UnsafeMutablePointer<CChar>
    private let name: UnsafeMutablePointer<CChar>
    private let values: UnsafeMutablePointer<Double>?

    init(_ axis: Axis) {
        units = strdup(axis.units)!
        name = strdup(axis.name)!
        if let v = axis.values {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(1, v.count))
            p.initialize(from: v, count: v.count)
            values = p
        } else {
            values = nil
        }
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: unmix_axis_t(size: UInt32(axis.size), offset: axis.offset, scale: axis.scale,
                                            units: units, name: name, values: values))
    }

    deinit {
        free(units)
        free(name)
        values?.deallocate()
        pointer.deallocate()
    }
}

/// The host's `unmix.axis/1` extension: one static table for every instance.
private let axisExtension: UnsafeMutablePointer<unmix_host_axis_ext_t> = {
    let p = UnsafeMutablePointer<unmix_host_axis_ext_t>.allocate(capacity: 1)
    p.initialize(to: unmix_host_axis_ext_t(signal_axis: { host in
        guard let host, let data = host.pointee.host_data else { return nil }
        let ctx = Unmanaged<HostContext>.fromOpaque(data).takeUnretainedValue()
        return ctx.axis.map { UnsafePointer($0.pointer) }
    }))
    return p
}()

/// Where a worker sends the plugin's progress besides the terminal (`PluginCall.progressEvents`).
nonisolated(unsafe) var progressSink: ((Double, String) -> Void)?

/// Set when the worker is asked to stop the plugin (`PluginCall.cancelFromStart`); plugins see it
/// through `should_cancel`.
nonisolated(unsafe) var cancelRequested: sig_atomic_t = 0

private func makeHost(_ context: HostContext) -> unmix_host_t {
    unmix_host_t(
        abi_major: UInt32(UNMIX_ABI_MAJOR), abi_minor: UInt32(UNMIX_ABI_MINOR),
        host_data: Unmanaged.passUnretained(context).toOpaque(),
        log: { host, level, message in
            guard let host, let data = host.pointee.host_data, let message else { return }
            let ctx = Unmanaged<HostContext>.fromOpaque(data).takeUnretainedValue()
            guard ctx.verbose || level >= unmix_log_level(UNMIX_LOG_WARNING) else { return }
            let tag = ["debug", "info", "warning", "error"][Int(max(0, min(3, level)))]
            writeStderr("[\(ctx.pluginID)] \(tag): \(String(cString: message))\n")
        },
        progress: { host, fraction, message in
            guard let host, let data = host.pointee.host_data else { return }
            let ctx = Unmanaged<HostContext>.fromOpaque(data).takeUnretainedValue()
            let text = message.map { String(cString: $0) } ?? ""
            guard fraction.isFinite else { return }
            progressSink?(min(1, max(0, fraction)), oneLine(text))
            guard ctx.verbose else {
                ctx.progressLine?.update(min(1, max(0, fraction)), text)
                return
            }
            writeStderr("[\(ctx.pluginID)] \(Int((fraction * 100).rounded()))% \(text)\n")
        },
        should_cancel: { _ in cancelRequested != 0 },
        get_extension: { _, id in
            guard let id, strcmp(id, UNMIX_HOST_EXT_AXIS) == 0 else { return nil }
            return UnsafeRawPointer(axisExtension)
        })
}

/// Writes to standard error, unbuffered.
public func writeStderr(_ text: String) {
    FileHandle.standardError.write(text.data(using: .utf8)!)
}
