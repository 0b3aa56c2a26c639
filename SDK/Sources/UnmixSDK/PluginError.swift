import CUnmix

/// An error a plugin throws: a status code of the ABI and a one-line reason.
/// Any other error a plugin throws reaches the host as `UNMIX_ERR_INTERNAL` with its description.
public struct PluginError: Error, CustomStringConvertible {
    /// The ABI status (`UNMIX_ERR_*`); open to values this SDK does not name.
    public struct Code: RawRepresentable, Equatable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let invalidArgument = Code(rawValue: Int32(UNMIX_ERR_INVALID_ARGUMENT))
        public static let badState = Code(rawValue: Int32(UNMIX_ERR_BAD_STATE))
        public static let numerical = Code(rawValue: Int32(UNMIX_ERR_NUMERICAL))
        public static let cancelled = Code(rawValue: Int32(UNMIX_ERR_CANCELLED))
        public static let outOfMemory = Code(rawValue: Int32(UNMIX_ERR_OUT_OF_MEMORY))
        public static let unsupported = Code(rawValue: Int32(UNMIX_ERR_UNSUPPORTED))
        public static let `internal` = Code(rawValue: Int32(UNMIX_ERR_INTERNAL))
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func invalidArgument(_ message: String) -> PluginError { .init(.invalidArgument, message) }
    public static func badState(_ message: String) -> PluginError { .init(.badState, message) }
    public static func numerical(_ message: String) -> PluginError { .init(.numerical, message) }
    public static let cancelled = PluginError(.cancelled, "cancelled")

    public var description: String { message }
}
