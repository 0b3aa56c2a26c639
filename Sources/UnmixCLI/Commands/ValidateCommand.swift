import Foundation
import UnmixHost

enum ValidateCommand {
    static let spec = CommandSpec(
        name: "validate", abstract: "Check a plugin library against the plugin contract, for plugin authors.",
        discussion: """
            Each check runs the plugin in its own worker process with a time limit: loading and the \
            parameter table; out-of-range values refused; fit and abundances on ordinary, tiny and odd \
            cubes (1×1 pixel, two bands, R = 1, R = pixels) giving finite outputs on the constraints the \
            plugin declares, or a clean refusal; same seed, same bits; different seeds, different results \
            (stochastic plugins); cancel honoured (plugins reporting progress); saved state restoring the \
            same abundances and corrupted state refused; nothing written to stdout. Exit status 1 when \
            any check fails.
            """,
        positionals: [("library", "The plugin's shared library (.so), by path.")],
        options: [
            OptionSpec(["--timeout"], value: "SECONDS", help: "Time limit of each check's worker (default 60)."),
            OptionSpec(["--json"], help: "Print one JSON document instead of a table."),
        ])

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else { throw UnmixError.usage("'unmix validate' takes one library path") }
        let path = args.positionals[0]
        guard FileManager.default.fileExists(atPath: path) else { throw UnmixError("\(path): no such file") }
        let timeout = try RunOptions.limits(args).timeout ?? 60
        let outcome = Validator.validate(path, timeout: timeout)
        if args.flag("--json") {
            print(encodeJSON(outcome))
        } else {
            print("\(path)\(outcome.plugin.map { " (\($0))" } ?? "")\n")
            print(renderTable(["CHECK", "RESULT", "DETAIL"], outcome.checks.map { [$0.name, $0.status.rawValue, $0.detail] }), terminator: "")
            let failed = outcome.checks.filter { $0.status == .failed }.map(\.name)
            print(failed.isEmpty ? "\nall checks passed" : "\nfailed: \(failed.joined(separator: ", "))")
        }
        return outcome.passed ? 0 : 1
    }
}
