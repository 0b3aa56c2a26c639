import Foundation

/// JSON text of a value built from dictionaries, arrays, strings, numbers, booleans and nil
/// (`Optional.none` and non-finite numbers become `null`). Keys sorted, pretty-printed.
public func jsonText(_ value: Any?) -> String {
    let data = try! JSONSerialization.data(withJSONObject: jsonSafe(value),
                                           options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// The same as `jsonText` on one line (a line-per-message protocol: `serve`).
public func compactJSON(_ value: Any?) -> String {
    let data = try! JSONSerialization.data(withJSONObject: jsonSafe(value), options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

private func jsonSafe(_ value: Any?) -> Any {
    guard let value else { return NSNull() }
    switch value {
    case let d as Double: return d.isFinite ? d : NSNull()
    case let f as Float: return f.isFinite ? Double(f) : NSNull()
    case let dict as [String: Any?]: return dict.mapValues { jsonSafe($0) }
    case let dict as [String: Any]: return dict.mapValues { jsonSafe($0) }
    case let array as [Any?]: return array.map { jsonSafe($0) }
    case let array as [Any]: return array.map { jsonSafe($0) }
    case let u as UInt64: return NSNumber(value: u)
    case Optional<Any>.none: return NSNull()
    default: return value
    }
}

/// Parses JSON text into Foundation values (for reading `run.json` back).
public func parseJSON(_ data: Data) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw UnmixError("expected a JSON object")
    }
    return object
}
