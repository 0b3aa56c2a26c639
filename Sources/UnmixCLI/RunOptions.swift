import Foundation
import UnmixHost

/// The options of a plugin run shared by `run`, `apply` and `compare`: declared once here,
/// beside their help, and resolved once into typed values.
enum RunOptions {
    static let endmembers = OptionSpec(["-r", "--endmembers"], value: "R", help: "Number of endmembers (default: the ground truth's, when known).")
    static let seed = OptionSpec(["--seed"], value: "N", help: "Seed for stochastic plugins (default 0).")
    static let timeout = OptionSpec(["--timeout"], value: "SECONDS", help: "Stop a plugin run that takes longer (default: no limit).")
    static let maxMemory = OptionSpec(["--max-memory"], value: "GIB",
                                      help: "Memory a plugin's worker may use beyond the cube, in GiB (default: 3/4 of this machine's).")
    static let out = OptionSpec(["--out"], value: "DIR", help: "Folder to write (created if needed).")
    static let json = OptionSpec(["--json"], help: "Print run.json on stdout instead of a summary.")

    /// The limits of a worker from --timeout.
    /// The limits of a worker from --timeout and --max-memory.
    static func limits(_ args: ParsedArguments) throws -> WorkerLimits {
        var limits = WorkerLimits()
        if let text = args.value(timeout.key) {
            guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds < 1e9 else {
                throw UnmixError.usage("--timeout expects a positive number of seconds, got '\(text)'")
            }
            limits.timeout = seconds
        }
        if let text = args.value(maxMemory.key) {
            guard let gib = Double(text), gib.isFinite, gib >= 0.125, gib < 1_048_576 else {
                throw UnmixError.usage("--max-memory expects a number of GiB from 0.125, got '\(text)'")
            }
            limits.memoryBytes = Int(gib * 1_073_741_824)
        }
        return limits
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
