import CUnmix
import Foundation
import Testing
import UnmixHost

/// What a fit driven by `fitWithCancellingHost` returned: its status, and how many progress
/// reports and cancel checks the plugin made.
public struct CancelledFit {
    public var status: unmix_status
    public var progressReports: Int
    public var cancelChecks: Int
}

/// Fits the plugin library at `path` with a host whose `should_cancel` answers yes from its
/// (`allowedChecks` + 1)-th call on, driving the C table directly (the real host's cancel is the
/// process-wide SIGINT flag). `values` are the parameter values, set with seed 1.
public func fitWithCancellingHost(path: String, values: [Double], cube: CubeData, r: Int,
                                  allowedChecks: Int) throws -> CancelledFit {
    let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL), "dlopen \(path)")
    let symbol = try #require(dlsym(handle, UNMIX_ENTRY_SYMBOL), "no entry symbol in \(path)")
    typealias Entry = @convention(c) () -> UnsafePointer<unmix_plugin_t>?
    let table = try #require(unsafeBitCast(symbol, to: Entry.self)()).pointee

    final class Counters { var checks = 0; var progress = 0; let allowed: Int; init(_ allowed: Int) { self.allowed = allowed } }
    let counters = Counters(allowedChecks)
    var host = unmix_host_t(
        abi_major: UInt32(UNMIX_ABI_MAJOR), abi_minor: UInt32(UNMIX_ABI_MINOR),
        host_data: Unmanaged.passUnretained(counters).toOpaque(),
        log: nil,
        progress: { host, _, _ in
            Unmanaged<Counters>.fromOpaque(host!.pointee.host_data!).takeUnretainedValue().progress += 1
        },
        should_cancel: { host in
            let c = Unmanaged<Counters>.fromOpaque(host!.pointee.host_data!).takeUnretainedValue()
            c.checks += 1
            return c.checks > c.allowed
        },
        get_extension: nil)
    let status: unmix_status = try withUnsafePointer(to: &host) { hostPointer in
        let instance = try #require(table.create(hostPointer))
        defer { table.destroy(instance) }
        let set = values.withUnsafeBufferPointer { table.set_params(instance, $0.baseAddress, UInt32($0.count), 1) }
        try #require(set == unmix_status(UNMIX_OK), "set_params returned \(set)")
        var out = [Float](repeating: 0, count: r * cube.bands)
        return cube.values.withUnsafeBufferPointer { data in
            var c = unmix_cube_t(rows: UInt32(cube.rows), cols: UInt32(cube.cols), bands: UInt32(cube.bands),
                                 data: data.baseAddress)
            return table.fit(instance, &c, UInt32(r), &out)
        }
    }
    return CancelledFit(status: status, progressReports: counters.progress, cancelChecks: counters.checks)
}
