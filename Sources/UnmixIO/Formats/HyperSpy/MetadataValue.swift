/// A value of a metadata tree written into a HyperSpy file (`metadata` of a signal): strings,
/// numbers, booleans, number lists, and nested dictionaries, which become HDF5 groups (HyperSpy
/// reads them back as its `DictionaryTreeBrowser` nodes).
public enum MetadataValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case numbers([Double])
    case dictionary([String: MetadataValue])
}

extension MetadataValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                         ExpressibleByBooleanLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(dictionaryLiteral elements: (String, MetadataValue)...) {
        self = .dictionary(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension Dictionary where Key == String, Value == MetadataValue {
    /// This tree with `other` merged in: dictionaries present in both are merged recursively,
    /// any other value of `other` replaces ours.
    func merging(tree other: [String: MetadataValue]) -> [String: MetadataValue] {
        var result = self
        for (key, value) in other {
            if case .dictionary(let mine) = result[key], case .dictionary(let theirs) = value {
                result[key] = .dictionary(mine.merging(tree: theirs))
            } else {
                result[key] = value
            }
        }
        return result
    }
}
