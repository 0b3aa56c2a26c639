@_exported import UnmixNumerics

/// An unmixing method, written in Swift, shipped as an unmix plugin.
///
/// The contract follows scikit-learn's estimators: stored hyperparameters with their defaults
/// and no logic in `init()`; a declared parameter table (`parameters`, by key path); `fit`
/// learns the endmembers and forgets any earlier fit; `abundances` estimates the proportions of
/// any cube with the same bands under the fitted model. One line exports the type:
///
/// ```swift
/// @_cdecl("unmix_plugin_entry")
/// public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(MyMethod.self) }
/// ```
///
/// The SDK builds the C table from `info` and `parameters`, checks every value the host sends
/// against the table, checks shapes and finiteness of the data, turns thrown errors into status
/// codes with a last-error message, and never lets an error unwind into the host.
public protocol Unmixer {
    /// Who the plugin is: id, name, version, texts and capabilities.
    static var info: PluginInfo { get }
    /// The hyperparameters the host may set, in display order. Defaults are the values
    /// `init()` leaves in the stored properties.
    static var parameters: [Parameter<Self>] { get }

    /// A model with every hyperparameter at its default; no other work.
    init()

    /// Learns `r` endmembers from `cube` and returns them (R × B, row = endmember).
    /// The SDK guarantees 1 ≤ r < bands, r ≤ pixels and finite data.
    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix

    /// The abundances of `cube` (P × R, row p = pixel p) under the fitted model.
    /// Called only after a successful `fit` (or `loadState`), with a cube of the fitted bands.
    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix
}

/// An `Unmixer` whose fitted model can be saved and restored (the `unmix.state/2` extension,
/// and `unmix.state/1` for older hosts).
///
/// The SDK wraps the plugin's bytes in an envelope of its own that records R and the bands of
/// the model, checks the envelope whole before `loadState` sees the bytes, and answers the
/// host's `model_shape` from it; the plugin only writes and reads its own payload.
public protocol StatefulUnmixer: Unmixer {
    /// The fitted model as bytes, in a format of the plugin's choosing.
    func saveState() throws -> [UInt8]
    /// Restores a model written by `saveState()`. Throw (`PluginError.invalidArgument`) on any
    /// bytes that are not exactly what `saveState()` wrote; a throwing load leaves the plugin's
    /// current model in place (the SDK restores into a fresh value).
    mutating func loadState(_ bytes: [UInt8]) throws
}

/// What a plugin tells the host about itself.
public struct PluginInfo: Sendable {
    public var id: String
    public var name: String
    public var version: String
    public var summary: String
    public var description: String
    public var authors: String?
    public var license: String?
    public var url: String?
    public var capabilities: Capabilities

    public init(id: String, name: String, version: String, summary: String, description: String,
                authors: String? = nil, license: String? = nil, url: String? = nil,
                capabilities: Capabilities = []) {
        self.id = id
        self.name = name
        self.version = version
        self.summary = summary
        self.description = description
        self.authors = authors
        self.license = license
        self.url = url
        self.capabilities = capabilities
    }
}

/// The capability bits of the ABI (`UNMIX_CAP_*`). `.state` is added by the SDK for a
/// `StatefulUnmixer`, so a plugin never declares it by hand.
public struct Capabilities: OptionSet, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Uses the rows × cols layout, not just the list of pixels.
    public static let spatial = Capabilities(rawValue: 1 << 0)
    /// Random: results depend on the seed.
    public static let stochastic = Capabilities(rawValue: 1 << 1)
    /// Can save and restore its fitted model.
    public static let state = Capabilities(rawValue: 1 << 2)
    /// Reports progress and honours cancellation.
    public static let progress = Capabilities(rawValue: 1 << 3)
    /// Every abundance the plugin returns is ≥ 0 (the SDK and the host check it).
    public static let abundancesNonnegative = Capabilities(rawValue: 1 << 4)
    /// Each pixel's R abundances sum to 1 within 1e-3 (the SDK and the host check it).
    public static let abundancesSumToOne = Capabilities(rawValue: 1 << 5)
}
