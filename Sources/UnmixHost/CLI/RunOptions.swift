import Foundation

/// The options of a plugin run shared by `run`, `apply` and `compare`: declared once here,
/// beside their help, and resolved once into typed values.
enum RunOptions {
    static let endmembers = OptionSpec(["-r", "--endmembers"], value: "R", help: "Number of endmembers (default: the ground truth's, when known).")
    static let seed = OptionSpec(["--seed"], value: "N", help: "Seed for stochastic plugins (default 0).")
    static let timeout = OptionSpec(["--timeout"], value: "SECONDS", help: "Stop a plugin run that takes longer (default: no limit).")
    static let out = OptionSpec(["--out"], value: "DIR", help: "Folder to write (created if needed).")
    static let json = OptionSpec(["--json"], help: "Print run.json on stdout instead of a summary.")

    /// The limits of a worker from --timeout.
    static func limits(_ args: ParsedArguments) throws -> WorkerLimits {
        guard let text = args.value(timeout.key) else { return WorkerLimits() }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0 else {
            throw UnmixError.usage("--timeout expects a positive number of seconds, got '\(text)'")
        }
        return WorkerLimits(timeout: seconds)
    }

    /// R from -r, or the ground truth's; checked against the cube.
    static func endmemberCount(_ args: ParsedArguments, _ input: Input) throws -> Int {
        let r: Int
        if let given = try args.integer(endmembers.key) {
            r = given
        } else if let truth = input.truth {
            r = truth.r
        } else {
            throw UnmixError.usage("give the number of endmembers with -r R (no ground truth to take it from)")
        }
        try validateEndmemberCount(r, for: input.cube)
        return r
    }
}
