/// One hyperparameter of `Model`, declared by key path: its id, type, bounds and help.
///
/// The default is whatever `Model()` stores at the key path, so it is written once, in the
/// stored property. Values cross the ABI as `Double` (integers exactly, booleans as 0/1,
/// choices as the index of the case in `allCases`).
public struct Parameter<Model> {
    public enum Kind {
        case integer(min: Int?, max: Int?)
        case real(min: Double?, max: Double?, logScale: Bool)
        case boolean
        case choice([String])
    }

    public let id: String
    public let help: String
    public let unit: String?
    public let kind: Kind
    let get: (Model) -> Double
    let set: (inout Model, Double) -> Void

    /// An integer hyperparameter in `min...max` (either bound may be omitted).
    public static func integer(_ id: String, _ path: WritableKeyPath<Model, Int>, min: Int? = nil,
                               max: Int? = nil, unit: String? = nil, help: String) -> Parameter {
        Parameter(id: id, help: help, unit: unit, kind: .integer(min: min, max: max),
                  get: { Double($0[keyPath: path]) }, set: { $0[keyPath: path] = Int($1) })
    }

    /// A real hyperparameter in `min...max` (either bound may be omitted); `logScale` hints
    /// that it is best explored in powers of ten.
    public static func real(_ id: String, _ path: WritableKeyPath<Model, Double>, min: Double? = nil,
                            max: Double? = nil, logScale: Bool = false, unit: String? = nil,
                            help: String) -> Parameter {
        Parameter(id: id, help: help, unit: unit, kind: .real(min: min, max: max, logScale: logScale),
                  get: { $0[keyPath: path] }, set: { $0[keyPath: path] = $1 })
    }

    /// A boolean hyperparameter.
    public static func boolean(_ id: String, _ path: WritableKeyPath<Model, Bool>, help: String) -> Parameter {
        Parameter(id: id, help: help, unit: nil, kind: .boolean,
                  get: { $0[keyPath: path] ? 1 : 0 }, set: { $0[keyPath: path] = $1 != 0 })
    }

    /// A choice among the cases of a string enum; the ids shown to users are the raw values.
    public static func choice<C>(_ id: String, _ path: WritableKeyPath<Model, C>, help: String) -> Parameter
    where C: CaseIterable & RawRepresentable, C.RawValue == String, C.AllCases.Index == Int {
        let cases = Array(C.allCases)
        return Parameter(id: id, help: help, unit: nil, kind: .choice(cases.map(\.rawValue)),
                         get: { model in
                             let value = model[keyPath: path]
                             return Double(cases.firstIndex { $0.rawValue == value.rawValue } ?? 0)
                         },
                         set: { $0[keyPath: path] = cases[Int($1)] })
    }

    /// Why `value` is not acceptable for this parameter, or nil when it is.
    public func problem(with value: Double) -> String? {
        switch kind {
        case let .integer(min, max):
            guard value.isFinite, value == value.rounded(), abs(value) < 0x1p53 else {
                return "parameter '\(id)' must be an integer, got \(value)"
            }
            if let min, value < Double(min) { return "parameter '\(id)' = \(Int(value)) is below its minimum \(min)" }
            if let max, value > Double(max) { return "parameter '\(id)' = \(Int(value)) is above its maximum \(max)" }
        case let .real(min, max, _):
            guard value.isFinite else { return "parameter '\(id)' must be finite, got \(value)" }
            if let min, value < min { return "parameter '\(id)' = \(value) is below its minimum \(min)" }
            if let max, value > max { return "parameter '\(id)' = \(value) is above its maximum \(max)" }
        case .boolean:
            if value != 0 && value != 1 { return "parameter '\(id)' must be 0 or 1, got \(value)" }
        case let .choice(names):
            if !(value.isFinite && value == value.rounded() && value >= 0 && value < Double(names.count)) {
                return "parameter '\(id)' must be a choice index in 0..<\(names.count) (\(names.joined(separator: ", "))), got \(value)"
            }
        }
        return nil
    }
}
