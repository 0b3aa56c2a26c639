import Foundation

/// Parameter values for a plugin: its defaults, overridden by `key=value` settings.
/// Unknown keys and bad values are refused with the list of valid parameters.
public func resolveParameters(_ d: PluginDescriptor, settings: [String]) throws -> [Double] {
    var values = d.parameters.map(\.defaultValue)
    for setting in settings {
        guard let eq = setting.firstIndex(of: "="), eq != setting.startIndex else {
            throw UnmixError.usage("--set expects key=value, got '\(setting)'")
        }
        let key = String(setting[..<eq]), text = String(setting[setting.index(after: eq)...])
        guard let index = d.parameters.firstIndex(where: { $0.id == key }) else {
            let valid = d.parameters.map(\.id).joined(separator: ", ")
            throw UnmixError("unknown parameter '\(key)' for \(d.id) (valid: \(valid.isEmpty ? "none" : valid))")
        }
        values[index] = try d.parameters[index].parse(text).get()
    }
    return values
}

/// `PLUGIN.key=value` settings grouped by plugin id, each checked against its plugin.
public func groupPluginSettings(_ settings: [String], _ plugins: [InstalledPlugin]) throws -> [String: [String]] {
    var grouped = [String: [String]]()
    for s in settings {
        guard let dot = s.firstIndex(of: "."), let eq = s.firstIndex(of: "="), dot < eq else {
            throw UnmixError.usage("--set expects PLUGIN.key=value, got '\(s)'")
        }
        let name = String(s[..<dot]).lowercased()
        guard let plugin = plugins.first(where: { $0.descriptor.id.lowercased() == name || $0.descriptor.name.lowercased() == name }) else {
            throw UnmixError("--set \(s): '\(name)' is not among the chosen plugins (\(plugins.map(\.descriptor.id).joined(separator: ", ")))")
        }
        grouped[plugin.descriptor.id, default: []].append(String(s[s.index(after: dot)...]))
    }
    for plugin in plugins { _ = try resolveParameters(plugin.descriptor, settings: grouped[plugin.descriptor.id] ?? []) }
    return grouped
}

/// What one run of a plugin produced.
public struct RunResult: Sendable {
    public var r: Int
    /// R × B.
    public var endmembers: [Float]
    /// pixels × R.
    public var abundances: [Float]
    public var fitSeconds: Double
    public var abundanceSeconds: Double
    public var rmse: Double
}

/// Monotonic seconds.
public func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Creates an instance in this process, sets `values` and `seed`, fits `r` endmembers on `cube`
/// and estimates its abundances, timing both steps. For tests of plugins and of the worker: a
/// crash here ends the caller's process (commands go through `Runner`, in workers).
public func runPlugin(_ library: PluginLibrary, cube: CubeData, r: Int, values: [Double], seed: UInt64,
                      axis: Axis? = nil, verbose: Bool = false) throws -> (RunResult, PluginInstance) {
    let instance = try PluginInstance(library, verbose: verbose)
    instance.setSignalAxis(axis.flatMap { $0.isUncalibrated ? nil : $0 })
    try instance.setParameters(values, seed: seed)
    let t0 = now()
    let endmembers = try instance.fit(cube, r: r)
    let t1 = now()
    let abundances = try instance.abundances(cube)
    let t2 = now()
    let rmse = reconstructionRMSE(cube: cube, pixels: cube.pixels, bands: cube.bands,
                                  endmembers: endmembers, abundances: abundances, r: r)
    return (RunResult(r: r, endmembers: endmembers, abundances: abundances, fitSeconds: t1 - t0,
                      abundanceSeconds: t2 - t1, rmse: rmse), instance)
}

