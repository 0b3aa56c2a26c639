import CUnmix
import Foundation

/// A plugin's descriptor, copied out of the C table into Swift values.
public struct PluginDescriptor: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var version: String
    public var summary: String
    public var description: String
    public var authors: String?
    public var license: String?
    public var url: String?
    public var capabilities: UInt64
    public var parameters: [ParameterInfo]
    /// "major.minor" of the ABI the plugin was built against.
    public var abiVersion: String

    public var isSpatial: Bool { capabilities & UInt64(UNMIX_CAP_SPATIAL) != 0 }
    public var isStochastic: Bool { capabilities & UInt64(UNMIX_CAP_STOCHASTIC) != 0 }
    public var canSaveState: Bool { capabilities & UInt64(UNMIX_CAP_STATE) != 0 }
    public var reportsProgress: Bool { capabilities & UInt64(UNMIX_CAP_PROGRESS) != 0 }

    /// The capability names, for `info`.
    public var capabilityNames: [String] {
        [(isSpatial, "spatial"), (isStochastic, "stochastic"), (canSaveState, "state"), (reportsProgress, "progress")]
            .filter(\.0).map(\.1)
    }

    public func parameter(named id: String) -> ParameterInfo? { parameters.first { $0.id == id } }
}

/// One entry of a plugin's parameter table.
public struct ParameterInfo: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case integer, real, boolean, choice }
    public var id: String
    public var kind: Kind
    public var help: String
    public var unit: String?
    public var defaultValue: Double
    public var min: Double?
    public var max: Double?
    public var logScale: Bool
    public var choices: [String]

    /// A value as users write it: integers without a decimal point, booleans as true/false,
    /// choices by name.
    public func format(_ value: Double) -> String {
        switch kind {
        case .integer: return String(Int64(value))
        case .real: return formatReal(value)
        case .boolean: return value != 0 ? "true" : "false"
        case .choice: return choices.indices.contains(Int(value)) ? choices[Int(value)] : "#\(Int(value))"
        }
    }

    /// The value of `text` for this parameter, or a one-line reason.
    public func parse(_ text: String) -> Result<Double, UnmixError> {
        let value: Double
        switch kind {
        case .integer:
            guard let v = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                return .failure(UnmixError("parameter '\(id)' expects an integer, got '\(text)'"))
            }
            value = Double(v)
        case .real:
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                return .failure(UnmixError("parameter '\(id)' expects a finite number, got '\(text)'"))
            }
            value = v
        case .boolean:
            switch text.lowercased() {
            case "true", "1", "yes", "on": value = 1
            case "false", "0", "no", "off": value = 0
            default: return .failure(UnmixError("parameter '\(id)' expects true or false, got '\(text)'"))
            }
        case .choice:
            guard let i = choices.firstIndex(where: { $0.lowercased() == text.lowercased() }) else {
                return .failure(UnmixError("parameter '\(id)' expects one of \(choices.joined(separator: ", ")), got '\(text)'"))
            }
            value = Double(i)
        }
        if let problem = problem(with: value) { return .failure(UnmixError(problem)) }
        return .success(value)
    }

    /// Why `value` is out of this parameter's range, or nil.
    public func problem(with value: Double) -> String? {
        if let min, value < min { return "parameter '\(id)' = \(format(value)) is below its minimum \(format(min))" }
        if let max, value > max { return "parameter '\(id)' = \(format(value)) is above its maximum \(format(max))" }
        if kind == .choice && !(value >= 0 && Int(value) < choices.count && value == value.rounded()) {
            return "parameter '\(id)' has no choice #\(value)"
        }
        if kind == .integer && value != value.rounded() { return "parameter '\(id)' must be an integer" }
        return nil
    }
}

/// Shortest round-tripping text for a real, as users expect (1e-06 → "1e-06", 0.5 → "0.5").
func formatReal(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

extension PluginDescriptor {
    /// Copies and checks a C descriptor: every required string present, parameter ids unique,
    /// types known, defaults inside their ranges. The reason for a refusal names what is wrong.
    init(_ c: unmix_descriptor_t, abiMajor: UInt32, abiMinor: UInt32) throws {
        func required(_ p: UnsafePointer<CChar>?, _ field: String) throws -> String {
            guard let p else { throw UnmixError("descriptor field '\(field)' is NULL") }
            let s = String(cString: p)
            guard !s.isEmpty else { throw UnmixError("descriptor field '\(field)' is empty") }
            return s
        }
        func optional(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
        id = try required(c.id, "id")
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
            throw UnmixError("plugin id '\(id)' may only hold letters, digits, '_', '-' and '.'")
        }
        name = try required(c.name, "name")
        version = try required(c.version, "version")
        summary = optional(c.summary) ?? ""
        description = optional(c.description) ?? ""
        authors = optional(c.authors)
        license = optional(c.license)
        url = optional(c.url)
        capabilities = c.capabilities
        abiVersion = "\(abiMajor).\(abiMinor)"
        guard c.param_count == 0 || c.params != nil else {
            throw UnmixError("descriptor declares \(c.param_count) parameters but no table")
        }
        var params = [ParameterInfo]()
        for i in 0..<Int(c.param_count) {
            let p = c.params[i]
            let pid = try required(p.id, "params[\(i)].id")
            guard !params.contains(where: { $0.id == pid }) else { throw UnmixError("parameter id '\(pid)' declared twice") }
            let kind: ParameterInfo.Kind
            switch p.type {
            case unmix_param_type(UNMIX_PARAM_INTEGER): kind = .integer
            case unmix_param_type(UNMIX_PARAM_REAL): kind = .real
            case unmix_param_type(UNMIX_PARAM_BOOLEAN): kind = .boolean
            case unmix_param_type(UNMIX_PARAM_CHOICE): kind = .choice
            default: throw UnmixError("parameter '\(pid)' has unknown type \(p.type)")
            }
            var choices = [String]()
            if kind == .choice {
                guard p.choice_count > 0, let list = p.choices else { throw UnmixError("choice parameter '\(pid)' has no choices") }
                for k in 0..<Int(p.choice_count) { choices.append(try required(list[k], "params[\(i)].choices[\(k)]")) }
            }
            var info = ParameterInfo(
                id: pid, kind: kind, help: optional(p.help) ?? "", unit: optional(p.unit),
                defaultValue: p.default_value,
                min: p.flags & UInt32(UNMIX_PARAM_HAS_MIN) != 0 ? p.min_value : nil,
                max: p.flags & UInt32(UNMIX_PARAM_HAS_MAX) != 0 ? p.max_value : nil,
                logScale: p.flags & UInt32(UNMIX_PARAM_LOG_SCALE) != 0, choices: choices)
            if kind == .boolean { info.min = 0; info.max = 1 }
            if kind == .choice { info.min = nil; info.max = nil }
            guard p.default_value.isFinite else { throw UnmixError("parameter '\(pid)' has a non-finite default") }
            if let problem = info.problem(with: p.default_value) {
                throw UnmixError("the default of \(problem)")
            }
            params.append(info)
        }
        parameters = params
    }
}
