import Foundation

/// What the host does to a cube before any plugin sees it, as the user asked (`--background`,
/// `--poisson`): recorded in run.json and in model files, so that `apply` repeats it exactly.
///
/// Order (see README.md in this folder): the map selection (`--roi`); the background, fitted
/// and subtracted on the whole signal axis; the channel selection (`--range`), so the fit window
/// may lie outside the unmixed range; Poisson weighting, applied to the plugin's cube only, with
/// the results mapped back to counts.
public struct Preprocessing: Codable, Equatable, Sendable {
    /// How the background is modelled.
    public enum BackgroundMethod: String, Codable, Sendable {
        /// A · E^−r fitted per pixel on a pre-edge window (the classic method).
        case powerLaw = "powerlaw"
        /// Σₖ cₖ E^−rₖ with fixed exponents and cₖ ≥ 0, fitted per pixel under the whole spectrum.
        case basis
    }

    public struct Background: Codable, Equatable, Sendable {
        public var method: BackgroundMethod
        /// `.powerLaw`: the fit window [start, end) in axis units; nil: found on the mean
        /// spectrum (`powerlaw:auto`), from the first channel to the first edge's onset.
        public var window: [Double]?
        /// `.basis`: the exponents rₖ.
        public var exponents: [Double]?
        /// `.powerLaw`: the side of the square of pixels over which the fitted exponents are
        /// averaged before the amplitudes are refitted (1: every pixel on its own, as HyperSpy).
        public var smooth: Int?

        public init(method: BackgroundMethod, window: [Double]? = nil, exponents: [Double]? = nil, smooth: Int? = nil) {
            self.method = method
            self.window = window
            self.exponents = exponents
            self.smooth = smooth
        }

        /// The default exponents of the basis: 1 to 6 in steps of 1.
        public static let defaultExponents: [Double] = [1, 2, 3, 4, 5, 6]

        /// Parses `--background`: `powerlaw:START-END[:N]` (axis units; N the exponent-smoothing
        /// square, odd), `powerlaw:auto[:N]`, or `basis` / `basis:R1,R2,…`.
        public init(parsing text: String) throws {
            let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
            let (head, tail): (Substring, Substring?) = {
                guard let colon = lower.firstIndex(of: ":") else { return (Substring(lower), nil) }
                return (lower[..<colon], lower[lower.index(after: colon)...])
            }()
            switch head {
            case "powerlaw":
                // START-END[:N]; a leading minus sign belongs to START.
                var smooth = 1
                var tail = tail
                if let body = tail, let colon = body.firstIndex(of: ":") {
                    guard let n = Int(body[body.index(after: colon)...]), n >= 1, n <= 99, n % 2 == 1 else {
                        throw UnmixError.usage("--background \(text): the smoothing after the window must be an odd number of pixels from 1 to 99")
                    }
                    smooth = n
                    tail = body[..<colon]
                }
                if tail == "auto" {
                    self.init(method: .powerLaw, window: nil, smooth: smooth == 1 ? nil : smooth)
                    return
                }
                guard let tail, let dash = tail.dropFirst().firstIndex(of: "-"),
                      let start = Double(tail[..<dash]), let end = Double(tail[tail.index(after: dash)...]),
                      start.isFinite, end.isFinite else {
                    throw UnmixError.usage("--background powerlaw expects a fit window START-END in axis units (e.g. powerlaw:250-275) or auto, got '\(text)'")
                }
                guard start > 0, end > start else {
                    throw UnmixError.usage("--background \(text): the window needs 0 < START < END (a power law needs positive energies)")
                }
                self.init(method: .powerLaw, window: [start, end], smooth: smooth == 1 ? nil : smooth)
            case "basis":
                var exponents = Self.defaultExponents
                if let tail {
                    let parsed = tail.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                    guard !parsed.isEmpty, parsed.count <= 12, parsed.allSatisfy({ $0.map { $0.isFinite && $0 >= 0 && $0 <= 12 } ?? false }),
                          Set(parsed.compactMap { $0 }).count == parsed.count else {
                        throw UnmixError.usage("--background basis:R1,R2,… expects 1 to 12 distinct exponents from 0 to 12, got '\(text)'")
                    }
                    exponents = parsed.compactMap { $0 }.sorted()
                }
                self.init(method: .basis, exponents: exponents)
            default:
                throw UnmixError.usage("--background expects powerlaw:START-END or basis[:R1,R2,…], got '\(text)'")
            }
        }

        /// The text form, as `--background` takes it.
        public var text: String {
            switch method {
            case .powerLaw:
                let w = window.map { "\(formatNumber($0[0]))-\(formatNumber($0[1]))" } ?? "auto"
                return "powerlaw:\(w)" + (smooth.map { ":\($0)" } ?? "")
            case .basis:
                let e = exponents ?? Self.defaultExponents
                return e == Self.defaultExponents ? "basis" : "basis:" + e.map(formatNumber).joined(separator: ",")
            }
        }
    }

    public var background: Background?
    /// Poisson weighting (Keenan & Kotula 2004, as HyperSpy's `normalize_poissonian_noise`).
    public var poisson: Bool

    public init(background: Background? = nil, poisson: Bool = false) {
        self.background = background
        self.poisson = poisson
    }

    public var isEmpty: Bool { background == nil && !poisson }

    /// One line for summaries: "background powerlaw:250-275, Poisson weighting".
    public var summary: String {
        var parts = [String]()
        if let background { parts.append("background \(background.text)") }
        if poisson { parts.append("Poisson weighting") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}

/// What the preprocessing did to one cube: the `preprocessing` entry of run.json.
public struct PreprocessingReport: Codable, Sendable {
    public var background: String?
    public var poissonWeighting: Bool
    /// The background fit, summarised.
    public var backgroundFit: BackgroundFit.Summary?
    /// Poisson weighting: the per-endmember scales that map the plugin's results back to counts.
    public var poissonScales: [Double]?
}

extension ModelFile.Preprocessing {
    /// What a model file keeps of `input`'s preprocessing: the background's text, and the Poisson
    /// band weights with the scales of the fit.
    public init(_ input: Input, scales: [Double]?) {
        // powerlaw:auto is saved as the window it found, so apply fits the same channels.
        var background = input.preprocessing.background
        if background?.method == .powerLaw, background?.window == nil, let found = input.backgroundFit?.window {
            background?.window = found
        }
        self.init(background: background?.text,
                  poissonBand: input.poissonWeights == nil ? nil : input.poissonWeights?.band,
                  poissonScales: input.poissonWeights == nil ? nil : scales)
    }

    /// The preprocessing to repeat, as the host runs it.
    public func resolved() throws -> Preprocessing {
        Preprocessing(background: try background.map(Preprocessing.Background.init(parsing:)), poisson: poissonBand != nil)
    }
}
