import Foundation
import UnmixHost

enum SynthCommand {
    static let spec = CommandSpec(
        name: "synth", abstract: "Generate the paper's synthetic EELS data with known endmembers and abundances.",
        discussion: """
            64 × 64 maps cut into 8 × 8 blocks, each given to one endmember at random, smoothed by a \
            9 × 9 moving average (mirror edges), mixed linearly with the preset's spectra and drawn \
            from a Poisson law. eels3: 3 endmembers, 200 channels (Ru-, Co- and Pt-like); eels4: 4 \
            endmembers, 903 channels (B, C, N, O K edges). Writes cube.npy, endmembers.npy, \
            abundances.npy and meta.json into the folder.
            """,
        options: [
            OptionSpec(["--preset"], value: "NAME", help: "eels3 or eels4."),
            OptionSpec(["--seed"], value: "N", help: "Seed of the maps and the noise (default 0)."),
            OptionSpec(["--counts"], value: "C", help: "Expected counts at the brightest channel of a pure endmember (default \(formatReal(SyntheticDataset.defaultCounts)))."),
            OptionSpec(["--out"], value: "DIR", help: "Folder to write (created if needed)."),
        ])

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw UnmixError.usage("'unmix synth' takes no positional arguments") }
        let name = try args.required("--preset")
        guard let preset = SyntheticPreset(rawValue: name.lowercased()) else {
            throw UnmixError.usage("unknown preset '\(name)' (choose: \(SyntheticPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let seed = try parseSeed(args.value("--seed"))
        var counts = SyntheticDataset.defaultCounts
        if let text = args.value("--counts") {
            guard let c = Double(text), c.isFinite, c > 0 else { throw UnmixError.usage("--counts expects a positive number, got '\(text)'") }
            counts = c
        }
        let out = try args.required("--out")
        let data = SyntheticDataset.generate(preset, seed: seed, counts: counts)
        try data.write(to: URL(fileURLWithPath: out))
        print("wrote \(preset.rawValue) (\(data.rows)×\(data.cols)×\(data.bands), R = \(data.r), seed \(seed), counts \(formatReal(counts))) to \(out)")
        return 0
    }
}

/// Parses a seed (a non-negative integer), defaulting to 0.
func parseSeed(_ text: String?) throws -> UInt64 {
    guard let text else { return 0 }
    guard let v = UInt64(text) else { throw UnmixError.usage("--seed expects a non-negative integer, got '\(text)'") }
    return v
}
