/// The options that say how to read and select the input, shared by `run`, `compare`, `apply`
/// and `inspect`: declared once here, beside their help.
enum InputOptions {
    static let shape = OptionSpec(["--shape"], value: "ROWSxCOLS", help: "Map size of a 2-D (pixels × bands) input.")
    static let range = OptionSpec(["--range"], value: "START:END",
                                  help: "Unmix only this part of the signal axis: in its units (250:900) or in channels (10:200ch).")
    static let roi = OptionSpec(["--roi"], value: "R0:R1,C0:C1", help: "Unmix only these rows and columns of the map (pixel indices, end excluded).")

    static let all = [shape, range, roi]

    /// The selection given by --range and --roi.
    static func selection(_ args: ParsedArguments) throws -> Selection {
        Selection(range: try args.value(range.key).map(Selection.SignalRange.init(parsing:)),
                  roi: try args.value(roi.key).map(Selection.Region.init(parsing:)))
    }

    /// Opens INPUT as the options say; the reader's warnings are printed unless `quiet` (the
    /// child process of an isolated run, whose parent printed them already).
    static func open(_ path: String, _ args: ParsedArguments, selection: Selection? = nil, truthFolder: String? = nil,
                     quiet: Bool = false) throws -> Input {
        let input = try Input.open(path, shape: try args.value(shape.key).map(parseShape),
                                   selection: try selection ?? self.selection(args), truthFolder: truthFolder)
        if !quiet { input.printWarnings() }
        return input
    }

    /// The same options, as words for a child `unmix` process.
    static func words(_ args: ParsedArguments) -> [String] {
        all.flatMap { option in args.value(option.key).map { [option.key, $0] } ?? [] }
    }
}
