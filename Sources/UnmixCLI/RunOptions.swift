import Foundation
import UnmixHost

/// The options of a plugin run shared by `run`, `apply` and `compare`: declared once here,
/// beside their help, and resolved once into typed values.
enum RunOptions {
    static let endmembers = OptionSpec(["-r", "--endmembers"], value: "R",
                                       help: "Number of endmembers, or auto to estimate it by HySime ('unmix estimate'); default: the ground truth's, when known.")
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

    /// R from -r, or the ground truth's; checked against the cube. With `-r auto`, HySime's
    /// estimate on the cube (noise model chosen from the values), announced in one line (on
    /// stderr under --json, whose stdout is the document), and returned for the report.
    static func endmemberCount(_ args: ParsedArguments, _ input: Input) throws -> (r: Int, estimate: RankEstimate.Summary?) {
        let r: Int
        if args.value(endmembers.key)?.lowercased() == "auto" {
            let estimate = try RankEstimate.estimate(input.cube)
            guard estimate.r >= 1 else {
                throw UnmixError("-r auto: HySime finds no signal subspace in \(input.path) (R = 0): give -r R")
            }
            let line = "-r auto: HySime finds R = \(estimate.r) (\(estimate.noiseModel.rawValue) noise; the scree elbow says \(estimate.scree.r))"
                + String(format: ", %.2f s", estimate.seconds)
            if args.flag("--json") { writeStderr(line + "\n") } else { print(line) }
            try validateEndmemberCount(estimate.r, for: input.cube)
            return (estimate.r, estimate.summary)
        }
        if let given = try args.integer(endmembers.key) {
            r = given
        } else if let truth = input.truth {
            r = truth.r
        } else {
            throw UnmixError.usage("give the number of endmembers with -r R (no ground truth to take it from)")
        }
        try validateEndmemberCount(r, for: input.cube)
        return (r, nil)
    }
}
