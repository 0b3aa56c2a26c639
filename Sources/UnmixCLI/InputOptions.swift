import Foundation
import UnmixHost

/// The options that say how to read and select the input, shared by `run`, `compare`, `apply`
/// and `inspect`: declared once here, beside their help.
enum InputOptions {
    static let shape = OptionSpec(["--shape"], value: "ROWSxCOLS", help: "Map size of a 2-D (pixels × bands) input.")
    static let range = OptionSpec(["--range"], value: "START:END",
                                  help: "Unmix only this part of the signal axis: in its units (250:900) or in channels (10:200ch).")
    static let roi = OptionSpec(["--roi"], value: "R0:R1,C0:C1", help: "Unmix only these rows and columns of the map (pixel indices, end excluded).")

    /// Set on the `inspect` child that reads a file ahead of its parent (never probe twice).
    static let noProbe = OptionSpec(["--no-probe"], help: "Read the input in this process only.", hidden: true)

    static let all = [shape, range, roi]

    static let background = OptionSpec(["--background"], value: "SPEC",
                                       help: "Subtract the EELS background first: powerlaw:START-END (A·E^-r fitted per pixel on that pre-edge window, axis units), powerlaw:auto (the window before the first edge, found on the summed spectrum), either with :N to average the exponents over N×N pixels (e.g. powerlaw:auto:9), or basis (a non-negative sum of power laws under the whole spectrum).")
    static let poisson = OptionSpec(["--poisson"], help: "Weight for Poisson noise before unmixing (as HyperSpy's normalize_poissonian_noise); results are mapped back to counts.")
    /// The preprocessing options of `run` and `compare` (`apply` repeats the model's).
    static let preprocessingOptions = [background, poisson]

    /// The preprocessing --background and --poisson ask for.
    static func preprocessing(_ args: ParsedArguments) throws -> Preprocessing {
        Preprocessing(background: try args.value(background.key).map(Preprocessing.Background.init(parsing:)),
                      poisson: args.flag(poisson.key))
    }

    /// The selection given by --range and --roi.
    static func selection(_ args: ParsedArguments) throws -> Selection {
        Selection(range: try args.value(range.key).map(Selection.SignalRange.init(parsing:)),
                  roi: try args.value(roi.key).map(Selection.Region.init(parsing:)))
    }

    /// Opens INPUT as the options say. `child`: this is the child process of an isolated run,
    /// whose parent read the file already and printed the reader's warnings; `warnings: false`
    /// keeps them off stderr anyway (`inspect --json` puts them in its document).
    ///
    /// A file parsed by an outside C library (HDF5, MATLAB) is first read by a child
    /// `unmix inspect`: a corrupt file that crashes the library then costs the child, and the
    /// user gets one line. Not in children, whose parent has read the file already.
    static func open(_ path: String, _ args: ParsedArguments, selection: Selection? = nil, truthFolder: String? = nil,
                     preprocessing: Preprocessing = Preprocessing(), poissonBand: [Float]? = nil,
                     child: Bool = false, warnings: Bool = true) throws -> Input {
        if !child && !args.flag(noProbe.key) { try probe(path, args) }
        let input = try Input.open(path, shape: try args.value(shape.key).map(parseShape),
                                   selection: try selection ?? self.selection(args), truthFolder: truthFolder,
                                   preprocessing: preprocessing, poissonBand: poissonBand)
        if !child && warnings { input.printWarnings() }
        return input
    }

    /// Reads `path` in a child process when its reader parses it through an outside library.
    static func probe(_ path: String, _ args: ParsedArguments) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let reader = try? Datasets.reader(for: path), reader.parsesWithExternalLibrary else { return }
        let outcome = try runChild(PluginSearchPath.executablePath(), ["inspect", path, "--json", noProbe.key] + words(args),
                                   stdout: "/dev/null", stderr: "/dev/null", environment: ["SWIFT_BACKTRACE": "enable=no"])
        if outcome.signal == SIGKILL {
            throw UnmixError("\(path): reading it was killed (SIGKILL), most likely for want of memory")
        }
        if let signal = outcome.signal {
            throw UnmixError("\(path): the \(reader.formatName) library crashed reading it (\(signalName(signal))): the file is corrupt")
        }
        // Otherwise this process reads it as the child did, and fails with the same line if it failed.
    }

    /// The same options, as words for a child `unmix` process.
    static func words(_ args: ParsedArguments) -> [String] {
        all.flatMap { option in args.value(option.key).map { [option.key, $0] } ?? [] }
    }
}
