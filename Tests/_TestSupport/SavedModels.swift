import Foundation
import UnmixHost

/// The built first-party plugin `name` (`libunmix_<name>.so` beside the test bundle).
public func builtPlugin(_ name: String) -> PluginUnderTest {
    .built(path: builtProductsDirectory().appendingPathComponent("libunmix_\(name).so").path)
}

/// The parameter defaults of `d` with the work budget of iterative methods cut, each value kept
/// inside its declared range: for tests that check contracts, not quality.
public func quickParameterValues(_ d: PluginDescriptor) -> [Double] {
    let budget: [String: Double] = ["epochs": 2, "iterations": 4, "max_iter": 20, "training_spectra": 200]
    return d.parameters.map { p in
        guard p.kind == .integer, let quick = budget[p.id] else { return p.defaultValue }
        return min(p.defaultValue, max(quick, p.min ?? quick))
    }
}

/// A fitted model of `plugin`, small enough to mutate byte by byte: R = `r` endmembers of a
/// `side` × `side` × `bands` crop of the eels3 scene, quick parameters, seed 1.
public struct FittedModel {
    public let library: PluginLibrary
    public let instance: PluginInstance
    public let values: [Double]
    public let cube: CubeData
    public let r: Int
    public let endmembers: [Float]
    /// The state through `PluginInstance.saveState()`.
    public let state: [UInt8]

    public init(_ plugin: PluginUnderTest, r: Int = 3, side: Int = 16, bands: Int = 20) throws {
        library = try plugin.load()
        instance = try PluginInstance(library)
        values = quickParameterValues(library.descriptor)
        try instance.setParameters(values, seed: 1)
        cube = smallSyntheticCube(seed: 1, side: side, bands: bands)
        self.r = r
        endmembers = try instance.fit(cube, r: r)
        guard let saved = try instance.saveState() else {
            throw UnmixError("\(library.descriptor.id) offers no state extension")
        }
        state = saved
    }

    /// The model file `unmix run --save-model` would write for this fit.
    public var modelFile: ModelFile {
        let d = library.descriptor
        return ModelFile(pluginID: d.id, pluginVersion: d.version, values: values,
                         parameters: Dictionary(uniqueKeysWithValues: d.parameters.enumerated().map { ($1.id, "\(values[$0])") }),
                         seed: 1, bands: cube.bands, r: r, endmembers: endmembers, state: state,
                         signalAxis: Axis(name: "Energy loss", size: cube.bands, offset: 100, scale: 0.5, units: "eV"))
    }

    /// A fresh instance of the same plugin with the same parameters, no model.
    public func freshInstance() throws -> PluginInstance {
        let made = try PluginInstance(library)
        try made.setParameters(values, seed: 1)
        return made
    }
}
