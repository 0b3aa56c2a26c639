/// The host's error: one line for the user, and the exit status it maps to.
///
/// Every failure the CLI reports is one of these; `description` is the line printed after
/// `unmix: error: `.
public struct UnmixError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Int32, Sendable {
        /// Bad input or a failed run: exit status 1.
        case failure = 1
        /// The command line itself is wrong: exit status 2.
        case usage = 2
        /// Stopped by SIGINT (Ctrl-C): exit status 130, as a shell reports it.
        case interrupted = 130
        /// Stopped by SIGTERM: exit status 143.
        case terminated = 143
    }
    public var kind: Kind
    public var message: String

    public init(_ message: String, kind: Kind = .failure) {
        self.message = message
        self.kind = kind
    }

    public static func usage(_ message: String) -> UnmixError { UnmixError(message, kind: .usage) }

    public var description: String { message }
}
