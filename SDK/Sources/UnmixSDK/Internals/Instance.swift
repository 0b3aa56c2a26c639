import CUnmix
import Foundation

/// One plugin instance behind an `unmix_instance_t *`: the parameter values set by the host,
/// the model, what was fitted, and the last error text.
///
/// Every ABI check lives here, so a plugin type only sees valid calls: parameter values against
/// the declared table, cube shapes, finite data, R in range, `abundances` only after `fit`.
final class Instance {
    let host: UnsafePointer<unmix_host_t>?
    let box: AnyModelBox
    private var values: [Double]
    private var seed: UInt64 = 0
    /// Bands and R of the fitted model, nil before a successful fit.
    private var fitted: (bands: Int, r: Int)?
    private(set) var lastError: UnsafeMutablePointer<CChar>

    init(host: UnsafePointer<unmix_host_t>?, box: AnyModelBox) {
        self.host = host
        self.box = box
        self.lastError = strdup("")
        self.values = box.currentValues() // the defaults, read from a fresh model
    }

    deinit { free(lastError) }

    /// Runs `body`, turning any thrown error into a status and a last-error line.
    func guarded(_ body: () throws -> Void) -> unmix_status {
        do {
            try body()
            setError("")
            return unmix_status(UNMIX_OK)
        } catch let error as PluginError {
            setError(error.message)
            return error.code.rawValue
        } catch let error as NumericsError {
            setError(error.description)
            return unmix_status(UNMIX_ERR_NUMERICAL)
        } catch {
            setError(String(describing: error))
            return unmix_status(UNMIX_ERR_INTERNAL)
        }
    }

    private func setError(_ message: String) {
        free(lastError)
        // One line, as the ABI promises.
        lastError = strdup(message.split(whereSeparator: \.isNewline).joined(separator: " "))
    }

    private var context: RunContext { RunContext(seed: seed, host: host) }

    func setParams(_ pointer: UnsafePointer<Double>?, _ count: Int, _ seed: UInt64) throws {
        guard count == box.parameterCount else {
            throw PluginError.invalidArgument("set_params: \(count) values given, the plugin has \(box.parameterCount) parameters")
        }
        let given = count == 0 ? [] : Array(UnsafeBufferPointer(start: pointer, count: count))
        if count > 0 && pointer == nil { throw PluginError.invalidArgument("set_params: NULL values") }
        for (i, v) in given.enumerated() {
            if let problem = box.problem(parameter: i, value: v) { throw PluginError.invalidArgument(problem) }
        }
        values = given
        self.seed = seed
    }

    private func view(_ cube: UnsafePointer<unmix_cube_t>?) throws -> Cube {
        guard let c = cube?.pointee else { throw PluginError.invalidArgument("no cube") }
        guard c.rows > 0, c.cols > 0, c.bands > 0 else {
            throw PluginError.invalidArgument("empty cube (\(c.rows)×\(c.cols)×\(c.bands))")
        }
        guard let data = c.data else { throw PluginError.invalidArgument("cube without data") }
        let count = Int(c.rows) * Int(c.cols) * Int(c.bands)
        let buffer = UnsafeBufferPointer(start: data, count: count)
        if let bad = buffer.firstIndex(where: { !$0.isFinite }) {
            throw PluginError.invalidArgument("the cube holds a non-finite value (\(buffer[bad])) at pixel \(bad / Int(c.bands)), band \(bad % Int(c.bands))")
        }
        return Cube(rows: Int(c.rows), cols: Int(c.cols), bands: Int(c.bands), data: buffer)
    }

    func fit(_ cubePointer: UnsafePointer<unmix_cube_t>?, _ r: Int, _ out: UnsafeMutablePointer<Float>?) throws {
        // The ABI: a fit forgets any earlier fit, even when it fails, so forget before any check.
        fitted = nil
        let cube = try view(cubePointer)
        guard let out else { throw PluginError.invalidArgument("fit: no output array") }
        guard r >= 1, r < cube.bands else {
            throw PluginError.invalidArgument("R = \(r) must be at least 1 and below the number of bands (\(cube.bands))")
        }
        guard r <= cube.pixels else {
            throw PluginError.invalidArgument("R = \(r) exceeds the number of pixels (\(cube.pixels))")
        }
        box.reset(values: values)
        let e = try box.fit(cube, r: r, context: context)
        guard e.rows == r, e.cols == cube.bands else {
            throw PluginError(.internal, "fit returned \(e.rows)×\(e.cols) endmembers, expected \(r)×\(cube.bands)")
        }
        guard e.isFinite else { throw PluginError.numerical("fit produced non-finite endmembers") }
        for i in 0..<e.storage.count { out[i] = Float(e.storage[i]) }
        fitted = (cube.bands, r)
    }

    func abundances(_ cubePointer: UnsafePointer<unmix_cube_t>?, _ out: UnsafeMutablePointer<Float>?) throws {
        guard let fitted else { throw PluginError.badState("abundances called before a successful fit") }
        let cube = try view(cubePointer)
        guard let out else { throw PluginError.invalidArgument("abundances: no output array") }
        guard cube.bands == fitted.bands else {
            throw PluginError.badState("the cube has \(cube.bands) bands, the model was fitted on \(fitted.bands)")
        }
        let a = try box.abundances(cube, context: context)
        guard a.rows == cube.pixels, a.cols == fitted.r else {
            throw PluginError(.internal, "abundances returned \(a.rows)×\(a.cols), expected \(cube.pixels)×\(fitted.r)")
        }
        guard a.isFinite else { throw PluginError.numerical("abundances are not finite") }
        for i in 0..<a.storage.count { out[i] = Float(a.storage[i]) }
    }

    func saveState() throws -> [UInt8] {
        guard let fitted else { throw PluginError.badState("save called before a successful fit") }
        // The SDK prefixes the plugin's bytes with bands and R, so `load` can restore the checks.
        var header = [UInt8]()
        withUnsafeBytes(of: UInt64(fitted.bands).littleEndian) { header += $0 }
        withUnsafeBytes(of: UInt64(fitted.r).littleEndian) { header += $0 }
        return header + (try box.saveState())
    }

    /// All or nothing: a state that cannot be read leaves the fitted model (if any) in place.
    func loadState(_ bytes: [UInt8]) throws {
        func size(at offset: Int) -> Int? {
            let raw = bytes[offset..<(offset + 8)].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            return Int(exactly: raw).flatMap { $0 > 0 ? $0 : nil }
        }
        guard bytes.count >= 16, let bands = size(at: 0), let r = size(at: 8), r < bands else {
            throw PluginError.invalidArgument("load: not a state saved by this plugin (bad header)")
        }
        try box.loadState(Array(bytes[16...]), values: values)
        fitted = (bands, r)
    }
}
