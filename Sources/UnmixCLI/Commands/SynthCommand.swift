import Foundation
import UnmixHost

enum SynthCommand {
    static let spec = CommandSpec(
        name: "synth", abstract: "Generate the paper's synthetic EELS data with known endmembers and abundances.",
        discussion: """
            64 × 64 maps cut into 8 × 8 blocks, each given to one endmember at random, smoothed by a \
            9 × 9 moving average (mirror edges), mixed linearly with the preset's spectra and drawn \
            from a Poisson law. eels3: 3 endmembers, 200 channels (Ru-, Co- and Pt-like); eels4: 4 \
            endmembers, 903 channels (B, C, N, O K edges). eels3-bg, closer to real core-loss data: \
            Ru M, O K and Co L edges on eels3's axis over a power-law background whose amplitude and \
            exponent vary smoothly across the map, O K never pure (abundance at most 0.6); its truth \
            is the edges without background, and background.npy holds the background. Writes \
            cube.npy, endmembers.npy, abundances.npy and meta.json into the folder.
            """,
        options: [
            OptionSpec(["--preset"], value: "NAME", help: "eels3, eels4 or eels3-bg."),
            OptionSpec(["--seed"], value: "N", help: "Seed of the maps and the noise (default 0)."),
            OptionSpec(["--counts"], value: "C", help: "Expected counts at the brightest channel of a pure endmember (default \(formatReal(SyntheticDataset.defaultCounts)); eels3-bg: of the mean background at the first channel (default \(formatReal(SyntheticPreset.eels3bg.defaultCounts)))."),
            OptionSpec(["--variability"], value: "V", help: "eels3-bg: relative change of each edge's intensity across the map, 0 to 0.5 (default 0)."),
            OptionSpec(["--out"], value: "DIR", help: "Folder to write (created if needed)."),
        ])

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw UnmixError.usage("'unmix synth' takes no positional arguments") }
        let name = try args.required("--preset")
        guard let preset = SyntheticPreset(rawValue: name.lowercased()) else {
            throw UnmixError.usage("unknown preset '\(name)' (choose: \(SyntheticPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let seed = try parseSeed(args.value("--seed"))
        var counts = preset.defaultCounts
        if let text = args.value("--counts") {
            guard let c = Double(text), c.isFinite, c > 0 else { throw UnmixError.usage("--counts expects a positive number, got '\(text)'") }
            counts = c
        }
        var variability = 0.0
        if let text = args.value("--variability") {
            guard preset == .eels3bg else { throw UnmixError.usage("--variability applies to the eels3-bg preset only") }
            guard let v = Double(text), v.isFinite, v >= 0, v <= 0.5 else {
                throw UnmixError.usage("--variability expects a number from 0 to 0.5, got '\(text)'")
            }
            variability = v
        }
        let out = try args.required("--out")
        let data = SyntheticDataset.generate(preset, seed: seed, counts: counts, variability: variability)
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
