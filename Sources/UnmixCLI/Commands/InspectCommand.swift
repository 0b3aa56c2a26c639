import Foundation
import UnmixHost

enum InspectCommand {
    static let spec = CommandSpec(
        name: "inspect", abstract: "Show how a file is read: format, shape, sample type, axes, title, ground truth.",
        discussion: """
            Reads INPUT as 'run' would and prints what the reader found, so that you can check \
            how your file was understood before unmixing it. With --range or --roi, also what \
            the selection keeps.
            """,
        positionals: [("input", "A file (DigitalMicrograph, HyperSpy, TIA, ripple, ENVI, MATLAB, NumPy) or a synth folder.")],
        options: InputOptions.all + [OptionSpec(["--json"], help: "Print one JSON document instead of text."), InputOptions.noProbe])

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else { throw UnmixError.usage("'unmix inspect' takes one INPUT") }
        let json = args.flag("--json")
        let input = try InputOptions.open(args.positionals[0], args, warnings: !json)
        let d = input.dataset
        if json {
            var report = input.report
            report["mapped"] = d.cube.storage.isMapped
            report["truth"] = d.truth.map { ["source": $0.source, "r": $0.r, "names": $0.names as Any?] as [String: Any?] }
            report["warnings"] = d.warnings
            print(jsonText(report))
            return 0
        }
        print(input.path)
        for field in ReportBuilder.inputFields(input) {
            print("  " + field.key.padding(toLength: 13, withPad: " ", startingAt: 0) + field.value)
        }
        return 0
    }
}
