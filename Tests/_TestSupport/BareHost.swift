import CUnmix
import Foundation
import Testing
import UnmixHost

/// What a fit through `fitWithBareHost` returned: the status and the plugin's last error.
public struct BareHostFit {
    public var status: unmix_status
    public var lastError: String
}

/// Fits the plugin library at `path` under a host as an ABI 1.0 host would be: no callbacks and
/// no host extensions (`get_extension` NULL, so no `unmix.axis/1`), driving the C table
/// directly. `values` are the parameter values, set with seed 0.
public func fitWithBareHost(path: String, values: [Double], cube: CubeData, r: Int) throws -> BareHostFit {
    let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL), "dlopen \(path)")
    let symbol = try #require(dlsym(handle, UNMIX_ENTRY_SYMBOL), "no entry symbol in \(path)")
    typealias Entry = @convention(c) () -> UnsafePointer<unmix_plugin_t>?
    let table = try #require(unsafeBitCast(symbol, to: Entry.self)()).pointee
    var host = unmix_host_t(abi_major: 1, abi_minor: 0, host_data: nil, log: nil, progress: nil,
                            should_cancel: nil, get_extension: nil)
    return try withUnsafePointer(to: &host) { hostPointer in
        let instance = try #require(table.create(hostPointer))
        defer { table.destroy(instance) }
        let set = values.withUnsafeBufferPointer { table.set_params(instance, $0.baseAddress, UInt32($0.count), 0) }
        try #require(set == unmix_status(UNMIX_OK), "set_params returned \(set)")
        var out = [Float](repeating: 0, count: r * cube.bands)
        let values = cube.values
        let status = values.withUnsafeBufferPointer { data in
            var c = unmix_cube_t(rows: UInt32(cube.rows), cols: UInt32(cube.cols), bands: UInt32(cube.bands),
                                 data: data.baseAddress)
            return table.fit(instance, &c, UInt32(r), &out)
        }
        return BareHostFit(status: status, lastError: table.last_error(instance).map { String(cString: $0) } ?? "")
    }
}
