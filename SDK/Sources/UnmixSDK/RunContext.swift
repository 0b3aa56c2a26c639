import CUnmix

/// What a running `fit` or `abundances` call can ask of the host: the seed, logging,
/// progress and cancellation. The SDK hands one to each call.
public struct RunContext {
    /// The seed of this run; plugins derive every random stream from it.
    public let seed: UInt64
    let host: UnsafePointer<unmix_host_t>?

    public init(seed: UInt64, host: UnsafePointer<unmix_host_t>?) {
        self.seed = seed
        self.host = host
    }

    /// A context without a host, for tests and direct Swift use.
    public static func standalone(seed: UInt64 = 0) -> RunContext { RunContext(seed: seed, host: nil) }

    public enum LogLevel: Int32 { case debug = 0, info = 1, warning = 2, error = 3 }

    /// Sends a message to the host's log.
    public func log(_ level: LogLevel = .info, _ message: String) {
        guard let host, let log = host.pointee.log else { return }
        message.withCString { log(host, level.rawValue, $0) }
    }

    /// Reports progress, `fraction` in [0, 1].
    public func progress(_ fraction: Double, _ message: String? = nil) {
        guard let host, let progress = host.pointee.progress else { return }
        let f = Swift.min(1, Swift.max(0, fraction))
        if let message { message.withCString { progress(host, f, $0) } } else { progress(host, f, nil) }
    }

    /// True when the host asked to stop.
    public var isCancelled: Bool {
        guard let host, let shouldCancel = host.pointee.should_cancel else { return false }
        return shouldCancel(host)
    }

    /// Throws `PluginError.cancelled` when the host asked to stop.
    public func checkCancelled() throws {
        if isCancelled { throw PluginError.cancelled }
    }

    /// The signal axis of the cube being unmixed (energies in eV, wavelengths in nm…), when the
    /// host offers the `unmix.axis/1` extension and knows the axis; nil otherwise, and then the
    /// channels are only numbered. Plugins must work without it.
    public var signalAxis: SignalAxis? {
        guard let host, let getExtension = host.pointee.get_extension,
              let raw = getExtension(host, UNMIX_HOST_EXT_AXIS) else { return nil }
        let ext = raw.assumingMemoryBound(to: unmix_host_axis_ext_t.self).pointee
        guard let signalAxis = ext.signal_axis, let axis = signalAxis(host)?.pointee else { return nil }
        let size = Int(axis.size)
        return SignalAxis(size: size, offset: axis.offset, scale: axis.scale,
                          units: axis.units.map { String(cString: $0) } ?? "", name: axis.name.map { String(cString: $0) } ?? "",
                          values: axis.values.map { Array(UnsafeBufferPointer(start: $0, count: size)) })
    }

    /// True when the host offers the `unmix.axis/1` extension (every host from ABI 1.1 on),
    /// whether or not it knows the axis of this cube; false for a 1.0 host or without a host.
    /// Tells "the host cannot say" apart from "the channels are only numbered" (`signalAxis` nil).
    public var hostOffersSignalAxis: Bool {
        guard let host, let getExtension = host.pointee.get_extension else { return false }
        return getExtension(host, UNMIX_HOST_EXT_AXIS) != nil
    }

    /// A random stream seeded from this run's seed; `stream` picks independent sub-streams.
    public func random(stream: UInt64 = 0) -> RandomStream {
        stream == 0 ? RandomStream(seed: seed) : RandomStream(seed: seed).split(stream)
    }
}

/// What a cube's channels are, as the host says through `unmix.axis/1`: channel b has the value
/// `offset + b · scale`, or `values[b]` for a non-uniform axis.
public struct SignalAxis: Equatable, Sendable {
    public var size: Int
    public var offset: Double
    public var scale: Double
    public var units: String
    public var name: String
    public var values: [Double]?

    public init(size: Int, offset: Double, scale: Double, units: String, name: String, values: [Double]? = nil) {
        self.size = size
        self.offset = offset
        self.scale = scale
        self.units = units
        self.name = name
        self.values = values
    }

    /// The value of channel `b`.
    public func value(_ b: Int) -> Double { values.map { $0[b] } ?? offset + Double(b) * scale }
}
