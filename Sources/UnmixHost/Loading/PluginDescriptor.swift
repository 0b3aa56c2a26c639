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
        [(isSpatial, "spatial"), (isStochastic, "stochastic"), (canSaveState, "state"), (reportsProgress, "progress"),
         (capabilities & UInt64(UNMIX_CAP_ABUNDANCES_NONNEGATIVE) != 0, "nonnegative"),
         (capabilities & UInt64(UNMIX_CAP_ABUNDANCES_SUM_TO_ONE) != 0, "sum-to-one")]
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
        case .integer: return Int64(exactly: value).map { String($0) } ?? "\(value)"
        case .real: return formatReal(value)
        case .boolean: return value != 0 ? "true" : "false"
        case .choice: return choiceIndex(value).map { choices[$0] } ?? "#\(formatReal(value))"
        }
    }

    /// The index `value` names among the choices, or nil when it names none (not an integer,
    /// out of range, NaN or huge: decided on the Double, so that no value traps).
    public func choiceIndex(_ value: Double) -> Int? {
        guard value >= 0, value < Double(choices.count), value == value.rounded(.towardZero) else { return nil }
        return Int(value)
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
        guard value.isFinite else { return "parameter '\(id)' = \(value) is not a finite number" }
        if let min, value < min { return "parameter '\(id)' = \(format(value)) is below its minimum \(format(min))" }
        if let max, value > max { return "parameter '\(id)' = \(format(value)) is above its maximum \(format(max))" }
        if kind == .choice && choiceIndex(value) == nil {
            return "parameter '\(id)' has no choice #\(formatReal(value)) (it has \(choices.count))"
        }
        if kind == .integer && !(value == value.rounded() && Swift.abs(value) < PluginDescriptor.integerLimit) {
            return "parameter '\(id)' must be an integer of magnitude below 2^53"
        }
        if kind == .boolean && value != 0 && value != 1 { return "parameter '\(id)' must be 0 or 1" }
        return nil
    }
}

/// Shortest round-tripping text for a real, as users expect (1e-06 → "1e-06", 0.5 → "0.5").
public func formatReal(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}


extension PluginDescriptor {
    // MARK: - Limits of a descriptor
    // Far above what any honest plugin declares, so that a table read from an unknown library is
    // bounded in what the host reads, stores and prints.

    /// Longest plugin or parameter id, in characters (all ASCII).
    static let idLength = 64
    /// Longest `description`, in bytes.
    static let descriptionBytes = 64 * 1024
    /// Longest of every other string (name, version, summary, authors, license, url, help, unit,
    /// choice), in bytes.
    static let stringBytes = 4 * 1024
    /// Most parameters in a table, and most choices of a choice parameter.
    static let parameterLimit = 1024
    static let choiceLimit = 256
    /// Integers cross the ABI as doubles: exact only below 2^53 in magnitude.
    static let integerLimit = 9_007_199_254_740_992.0
    /// The capability bits ABI 1.2 defines (UNMIX_CAP_SPATIAL … UNMIX_CAP_ABUNDANCES_SUM_TO_ONE).
    static let knownCapabilities = UInt64(UNMIX_CAP_SPATIAL | UNMIX_CAP_STOCHASTIC | UNMIX_CAP_STATE | UNMIX_CAP_PROGRESS
                                          | UNMIX_CAP_ABUNDANCES_NONNEGATIVE | UNMIX_CAP_ABUNDANCES_SUM_TO_ONE)

    /// Copies and checks a C descriptor as a whole, reading no string past its length limit and no
    /// array past its count limit:
    /// - ids (the plugin's and each parameter's) are 1 to 64 characters of `[a-z0-9_.-]`
    ///   starting with a letter or a digit; parameter ids are unique;
    /// - every string is valid UTF-8 without control characters (newlines and tabs only in
    ///   `description`), bidirectional overrides or line separators, and at most 4 KiB
    ///   (`description`: 64 KiB); id, name and version are present and not empty;
    /// - at most 1024 parameters; each of a known type, its default finite; bounds (of integers
    ///   and reals, when flagged) finite with min ≤ max and the default between them; integer
    ///   defaults and bounds integral and below 2^53 in magnitude; boolean defaults 0 or 1;
    ///   choices 1 to 256 non-empty strings, unique ignoring case (users type them in any
    ///   case), the default an index among them;
    /// - capability bits above UNMIX_CAP_ABUNDANCES_SUM_TO_ONE (bit 5) are refused from a plugin
    ///   built for ABI 1.2 or earlier, which has no such bit (a corrupt or lying table), and
    ///   ignored (cleared) from one built for a later 1.x: minor versions add capability bits,
    ///   and a plugin must work with a host that does not know its newer ones.
    ///
    /// A refusal is one line naming the field, e.g. "descriptor field 'params[0].min_value'
    /// (parameter 'alpha') is NaN".
    init(_ c: unmix_descriptor_t, abiMajor: UInt32, abiMinor: UInt32) throws {
        typealias Me = PluginDescriptor
        id = try Me.readID(c.id, field: "id")
        name = try Me.readRequired(c.name, field: "name")
        version = try Me.readRequired(c.version, field: "version")
        summary = try Me.readString(c.summary, field: "summary") ?? ""
        description = try Me.readString(c.description, field: "description", limit: Me.descriptionBytes, multiline: true) ?? ""
        authors = try Me.readString(c.authors, field: "authors")
        license = try Me.readString(c.license, field: "license")
        url = try Me.readString(c.url, field: "url")
        abiVersion = "\(abiMajor).\(abiMinor)"

        let unknown = c.capabilities & ~Me.knownCapabilities
        if unknown != 0 && abiMinor <= UInt32(UNMIX_ABI_MINOR) {
            throw Me.refusal("capabilities", "has bits 0x\(String(unknown, radix: 16)) that ABI \(abiVersion) does not define")
        }
        capabilities = c.capabilities & Me.knownCapabilities

        guard c.param_count <= UInt32(Me.parameterLimit) else {
            throw Me.refusal("param_count", "is \(c.param_count), above the limit of \(Me.parameterLimit)")
        }
        guard c.param_count == 0 || c.params != nil else {
            throw Me.refusal("params", "is NULL while param_count is \(c.param_count)")
        }
        var params = [ParameterInfo]()
        for i in 0..<Int(c.param_count) {
            let info = try Me.readParameter(c.params[i], index: i)
            guard !params.contains(where: { $0.id == info.id }) else {
                throw Me.refusal("params[\(i)].id", "'\(info.id)' is declared twice")
            }
            params.append(info)
        }
        parameters = params
    }

    /// One entry of the parameter table, checked (see `init`).
    private static func readParameter(_ p: unmix_param_info_t, index i: Int) throws -> ParameterInfo {
        let pid = try readID(p.id, field: "params[\(i)].id")
        func refuse(_ field: String, _ problem: String) -> UnmixError {
            refusal("params[\(i)].\(field)", problem, parameter: pid)
        }
        let kind: ParameterInfo.Kind
        switch p.type {
        case unmix_param_type(UNMIX_PARAM_INTEGER): kind = .integer
        case unmix_param_type(UNMIX_PARAM_REAL): kind = .real
        case unmix_param_type(UNMIX_PARAM_BOOLEAN): kind = .boolean
        case unmix_param_type(UNMIX_PARAM_CHOICE): kind = .choice
        default: throw refuse("type", "is \(p.type), not a known parameter type")
        }
        let help = try readString(p.help, field: "params[\(i)].help") ?? ""
        let unit = try readString(p.unit, field: "params[\(i)].unit")

        func checkNumber(_ v: Double, _ field: String) throws {
            if v.isNaN { throw refuse(field, "is NaN") }
            if !v.isFinite { throw refuse(field, "is \(v), not finite") }
            if kind == .integer && !(v == v.rounded() && abs(v) < integerLimit) {
                throw refuse(field, "is \(v), not an integer of magnitude below 2^53")
            }
        }
        try checkNumber(p.default_value, "default_value")
        var min: Double?, max: Double?
        var choices = [String]()
        switch kind {
        case .integer, .real:
            if p.flags & UInt32(UNMIX_PARAM_HAS_MIN) != 0 {
                try checkNumber(p.min_value, "min_value")
                min = p.min_value
            }
            if p.flags & UInt32(UNMIX_PARAM_HAS_MAX) != 0 {
                try checkNumber(p.max_value, "max_value")
                max = p.max_value
            }
            if let min, let max, min > max { throw refuse("min_value", "is \(min), above max_value \(max)") }
        case .boolean:
            // Always 0...1, whatever the flags say (unmix.h, Parameters).
            (min, max) = (0, 1)
            guard p.default_value == 0 || p.default_value == 1 else {
                throw refuse("default_value", "is \(p.default_value); a boolean's is 0 or 1")
            }
        case .choice:
            guard p.choice_count >= 1, p.choice_count <= UInt32(choiceLimit) else {
                throw refuse("choice_count", "is \(p.choice_count), not between 1 and \(choiceLimit)")
            }
            guard let list = p.choices else { throw refuse("choices", "is NULL while choice_count is \(p.choice_count)") }
            for k in 0..<Int(p.choice_count) {
                let choice = try readRequired(list[k], field: "params[\(i)].choices[\(k)]")
                if let same = choices.firstIndex(where: { $0.lowercased() == choice.lowercased() }) {
                    throw refuse("choices[\(k)]", "\(shown(choice)) repeats choices[\(same)] (ignoring case)")
                }
                choices.append(choice)
            }
        }
        let info = ParameterInfo(
            id: pid, kind: kind, help: help, unit: unit, defaultValue: p.default_value, min: min, max: max,
            logScale: p.flags & UInt32(UNMIX_PARAM_LOG_SCALE) != 0, choices: choices)
        if let problem = info.problem(with: p.default_value) {
            throw refuse("default_value", "is out of range: \(problem)")
        }
        return info
    }

    // MARK: - Strings

    /// A plugin or parameter id: required, 1 to `idLength` characters of `[a-z0-9_.-]`, the first
    /// a letter or a digit.
    private static func readID(_ p: UnsafePointer<CChar>?, field: String) throws -> String {
        let id = try readRequired(p, field: field)
        guard id.utf8.count <= idLength else {
            throw refusal(field, "is \(id.utf8.count) characters long, above the limit of \(idLength)")
        }
        func allowed(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2E || b == 0x2D }
        guard id.utf8.allSatisfy(allowed), let first = id.utf8.first, first != 0x5F, first != 0x2E, first != 0x2D else {
            throw refusal(field, "\(shown(id)) is not a lower-case id (a-z, 0-9, '_', '.', '-', starting with a letter or digit)")
        }
        return id
    }

    /// A string that must be present and not empty.
    private static func readRequired(_ p: UnsafePointer<CChar>?, field: String) throws -> String {
        guard let s = try readString(p, field: field) else { throw refusal(field, "is NULL") }
        guard !s.isEmpty else { throw refusal(field, "is empty") }
        return s
    }

    /// The string at `p` (nil for NULL), read no further than `limit` bytes past its start:
    /// refused when longer, not UTF-8, or holding a character that is not printable (newlines
    /// and tabs are allowed only when `multiline`).
    private static func readString(_ p: UnsafePointer<CChar>?, field: String, limit: Int = stringBytes,
                                   multiline: Bool = false) throws -> String? {
        guard let p else { return nil }
        let length = strnlen(p, limit + 1)
        guard length <= limit else { throw refusal(field, "is longer than \(limit) bytes") }
        guard let s = String(validating: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self) else {
            throw refusal(field, "is not valid UTF-8")
        }
        if let bad = s.unicodeScalars.first(where: { !isPrintable($0, multiline: multiline) }) {
            let code = String(bad.value, radix: 16, uppercase: true)
            throw refusal(field, "holds the unprintable character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code)")
        }
        return s
    }

    /// Not a control character (C0, DEL, C1), a bidirectional embedding, override or isolate
    /// (text that displays in another order than it reads), nor a Unicode line or paragraph
    /// separator. `multiline` allows newline and tab.
    private static func isPrintable(_ c: Unicode.Scalar, multiline: Bool) -> Bool {
        if multiline && (c == "\n" || c == "\t") { return true }
        switch c.value {
        case 0x00...0x1F, 0x7F...0x9F: return false
        case 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: return false
        default: return true
        }
    }

    /// A string as a refusal shows it: quoted, escapes visible, cut to 64 characters.
    private static func shown(_ s: String) -> String {
        (s.count > 64 ? String(s.prefix(64)) + "…" : s).debugDescription
    }

    private static func refusal(_ field: String, _ problem: String, parameter: String? = nil) -> UnmixError {
        UnmixError("descriptor field '\(field)'\(parameter.map { " (parameter '\($0)')" } ?? "") \(problem)")
    }
}
