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
        try checkPromises(a)
        for i in 0..<a.storage.count { out[i] = Float(a.storage[i]) }
    }

    /// The abundance constraints the plugin declares, checked before the host sees a result, so
    /// that a broken promise is the plugin's error with a reason rather than the host's refusal.
    private func checkPromises(_ a: Matrix) throws {
        let promises = box.capabilities
        if promises.contains(.abundancesNonnegative), let i = a.storage.firstIndex(where: { $0 < 0 }) {
            throw PluginError(.internal, "abundance \(a.storage[i]) at pixel \(i / a.cols), endmember \(i % a.cols) is negative, but the plugin declares non-negative abundances")
        }
        if promises.contains(.abundancesSumToOne) {
            for p in 0..<a.rows {
                var total = 0.0
                for k in 0..<a.cols { total += a.storage[p * a.cols + k] }
                if abs(total - 1) > 1e-3 {
                    throw PluginError(.internal, "the abundances of pixel \(p) sum to \(total), but the plugin declares that they sum to one")
                }
            }
        }
    }

    func saveState() throws -> [UInt8] {
        guard let fitted else { throw PluginError.badState("save called before a successful fit or load") }
        return StateEnvelope(r: fitted.r, bands: fitted.bands, payload: try box.saveState()).encoded(plugin: box.pluginID)
    }

    /// All or nothing: the envelope is checked whole, then the plugin restores its payload into
    /// a fresh model; when either fails, the fitted model (if any) stays in place.
    func loadState(_ bytes: [UInt8]) throws {
        let envelope = try StateEnvelope(decoding: bytes, plugin: box.pluginID, name: box.pluginName)
        try box.loadState(envelope.payload, values: values)
        fitted = (envelope.bands, envelope.r)
    }

    /// R and the bands of the fitted or restored model.
    func modelShape() throws -> (r: Int, bands: Int) {
        guard let fitted else { throw PluginError.badState("model_shape called before a successful fit or load") }
        return (fitted.r, fitted.bands)
    }
}
