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

    /// A random stream seeded from this run's seed; `stream` picks independent sub-streams.
    public func random(stream: UInt64 = 0) -> RandomStream {
        stream == 0 ? RandomStream(seed: seed) : RandomStream(seed: seed).split(stream)
    }
}
