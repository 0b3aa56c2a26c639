import Foundation

/// A trained model on disk (`unmix run --save-model FILE`, read by `unmix apply`): which plugin
/// and version made it, with which parameters, for how many bands and endmembers, the fitted
/// endmembers, and the plugin's own state bytes (the `unmix.state/1` extension).
///
/// Layout: the line `unmix-model 1`, one line of JSON (the header), then R·B little-endian
/// float32 endmembers, then the state bytes to the end of the file.
public struct ModelFile: Sendable, Equatable {
    public var pluginID: String
    public var pluginVersion: String
    /// Parameter values in the plugin's table order, and as users write them (for display).
    public var values: [Double]
    public var parameters: [String: String]
    public var seed: UInt64
    public var bands: Int
    public var r: Int
    /// R × B.
    public var endmembers: [Float]
    public var state: [UInt8]
    /// The signal axis the model was trained on (after the selection); nil in files that predate it.
    public var signalAxis: Axis?
    /// The selection the model was trained with (`--range`, `--roi`), which `apply` repeats.
    public var selection: Selection

    public init(pluginID: String, pluginVersion: String, values: [Double], parameters: [String: String], seed: UInt64,
                bands: Int, r: Int, endmembers: [Float], state: [UInt8], signalAxis: Axis? = nil,
                selection: Selection = Selection()) {
        self.pluginID = pluginID
        self.pluginVersion = pluginVersion
        self.values = values
        self.parameters = parameters
        self.seed = seed
        self.bands = bands
        self.r = r
        self.endmembers = endmembers
        self.state = state
        self.signalAxis = signalAxis
        self.selection = selection
    }

    static let magic = "unmix-model 1\n"

    public func encoded() -> Data {
        var data = Data(Self.magic.utf8)
        var header: [String: Any] = [
            "plugin": pluginID, "version": pluginVersion, "values": values, "parameters": parameters,
            "seed": seed, "bands": bands, "r": r, "state_bytes": state.count,
            "selection": Self.jsonObject(selection),
        ]
        if let signalAxis { header["signal_axis"] = Self.jsonObject(signalAxis) }
        let json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        data.append(json)
        data.append(UInt8(ascii: "\n"))
        for v in endmembers { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: state)
        return data
    }

    public static func read(_ path: String) throws -> ModelFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UnmixError("cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied or I/O error" : "no such file")")
        }
        let bytes = [UInt8](data)
        let magic = Array(Self.magic.utf8)
        guard bytes.count > magic.count, Array(bytes[..<magic.count]) == magic else {
            throw UnmixError("\(path) is not an unmix model file")
        }
        guard let end = bytes[magic.count...].firstIndex(of: UInt8(ascii: "\n")),
              let header = try? parseJSON(Data(bytes[magic.count..<end])),
              let id = header["plugin"] as? String, let version = header["version"] as? String,
              let values = header["values"] as? [Double], let parameters = header["parameters"] as? [String: String],
              let seed = (header["seed"] as? NSNumber)?.uint64Value, let bands = header["bands"] as? Int,
              let r = header["r"] as? Int, let stateBytes = header["state_bytes"] as? Int, bands > 0, r > 0, stateBytes >= 0
        else { throw UnmixError("\(path): corrupt model header") }
        let axis = try (header["signal_axis"]).map { try decodeJSONObject(Axis.self, $0, path) }
        let selection = try (header["selection"]).map { try decodeJSONObject(Selection.self, $0, path) } ?? Selection()
        if let axis, axis.size != bands { throw UnmixError("\(path): corrupt model header (an axis of \(axis.size) channels for \(bands) bands)") }
        let start = end + 1
        let expected = try r.checkedTimes(bands, "\(path): corrupt model header").checkedTimes(4, "\(path): corrupt model header")
            .addingChecked(stateBytes, "\(path): corrupt model header")
        guard bytes.count - start == expected else {
            throw UnmixError("\(path): truncated or corrupt model (expected \(expected) bytes after the header, found \(bytes.count - start))")
        }
        let endmembers = (0..<(r * bands)).map { i in
            bytes[(start + 4 * i)..<(start + 4 * i + 4)].withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        }
        return ModelFile(pluginID: id, pluginVersion: version, values: values, parameters: parameters, seed: seed,
                         bands: bands, r: r, endmembers: endmembers, state: Array(bytes[(start + r * bands * 4)...]),
                         signalAxis: axis, selection: selection)
    }

    /// A Codable value as a Foundation JSON object, for the header dictionary.
    static func jsonObject<T: Encodable>(_ value: T) -> Any {
        let data = try! JSONEncoder().encode(value)
        return try! JSONSerialization.jsonObject(with: data)
    }
}

/// Decodes a Codable value from a Foundation JSON object read out of `path`.
func decodeJSONObject<T: Decodable>(_ type: T.Type, _ object: Any, _ path: String) throws -> T {
    guard JSONSerialization.isValidJSONObject(object),
          let data = try? JSONSerialization.data(withJSONObject: object), let value = try? JSONDecoder().decode(T.self, from: data)
    else { throw UnmixError("\(path): corrupt model header (a malformed \(T.self) entry)") }
    return value
}
