import CUnmix
import Foundation
import UnmixHost

/// The `unmix` command line: dispatch, help, and the one place errors become exit statuses
/// (0 ok, 1 failure, 2 usage) and a single line on stderr.
public enum UnmixCLI {
    public static let version = unmixVersion

    static let commands: [(spec: CommandSpec, needsPlugins: Bool)] = [
        (ListCommand.spec, true), (InfoCommand.spec, true), (InspectCommand.spec, false), (SynthCommand.spec, false),
        (EstimateCommand.spec, false),
        (RunCommand.spec, true), (ApplyCommand.spec, true), (CompareCommand.spec, true), (DemoCommand.spec, true),
        (ValidateCommand.spec, false), (ServeCommand.spec, true),
    ]

    static var help: String {
        var out = """
            OVERVIEW: unmix — spectral unmixing with pluggable methods

            USAGE: unmix <subcommand> [options]

            SUBCOMMANDS:

            """
        for c in commands { out += pad("  \(c.spec.name)", c.spec.abstract) }
        out += """

            OPTIONS:
              -h, --help                  Show this help.
              --version                   Show the version.

            See 'unmix <subcommand> --help' for each subcommand's options.
            """
        return out + "\n"
    }

    /// Runs the command line `arguments` (without the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        do {
            return try dispatch(arguments)
        } catch let error as UnmixError {
            fflush(stdout)
            writeStderr("unmix: error: \(error.message)\n")
            return error.kind.rawValue
        } catch {
            fflush(stdout)
            writeStderr("unmix: error: \(error)\n")
            return 1
        }
    }

    static func dispatch(_ arguments: [String]) throws -> Int32 {
        if arguments == [Worker.command] { return WorkerMain.run() }
        guard let name = arguments.first else {
            print(help, terminator: "")
            return 2
        }
        if name == "-h" || name == "--help" || name == "help" {
            if name == "help", arguments.count > 1, let c = commands.first(where: { $0.spec.name == arguments[1] }) {
                print(c.spec.help, terminator: "")
            } else {
                print(help, terminator: "")
            }
            return 0
        }
        if name == "--version" {
            print("unmix \(version) (plugin ABI \(UNMIX_ABI_MAJOR).\(UNMIX_ABI_MINOR))")
            return 0
        }
        guard let command = commands.first(where: { $0.spec.name == name }) else {
            throw UnmixError.usage("unknown subcommand '\(name)' (see 'unmix --help')")
        }
        let args = try ParsedArguments.parse(Array(arguments.dropFirst()), command.spec)
        if args.flag("--help") {
            print(command.spec.help, terminator: "")
            return 0
        }
        Interrupts.install()
        if !command.needsPlugins {
            switch name {
            case "inspect": return try InspectCommand.run(args)
            case "synth": return try SynthCommand.run(args)
            case "estimate": return try EstimateCommand.run(args)
            case "validate": return try ValidateCommand.run(args)
            default: preconditionFailure("command \(name) declared but not dispatched")
            }
        }
        let registry = PluginRegistry.discover(.standard(explicit: args.all("--plugin-path")))
        switch name {
        case "list": return try ListCommand.run(args, registry)
        case "info": return try InfoCommand.run(args, registry)
        case "run": return try RunCommand.run(args, registry)
        case "apply": return try ApplyCommand.run(args, registry)
        case "compare": return try CompareCommand.run(args, registry)
        case "demo": return try DemoCommand.run(args, registry)
        case "serve": return try ServeCommand.run(args, registry)
        default: preconditionFailure("command \(name) declared but not dispatched")
        }
    }
}
