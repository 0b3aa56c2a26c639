import UnmixHost

/// A small command-line parser: each option declared once, beside its help text.
///
/// Phase one of two (as ripgrep's LowArgs/HiArgs): strings only. Commands then turn these into
/// a loaded plugin, parsed parameter values and an opened cube.
public struct OptionSpec: Sendable {
    /// All spellings, e.g. ["-r", "--endmembers"]; the last one is the canonical key.
    public var names: [String]
    /// The placeholder of the value (e.g. "R"), or nil for a flag.
    public var value: String?
    public var help: String
    public var repeatable = false
    public var hidden = false

    public init(_ names: [String], value: String? = nil, help: String, repeatable: Bool = false, hidden: Bool = false) {
        self.names = names
        self.value = value
        self.help = help
        self.repeatable = repeatable
        self.hidden = hidden
    }

    var key: String { names.last! }
}

/// A subcommand's surface: what it does, its positionals and options.
public struct CommandSpec: Sendable {
    public var name: String
    public var abstract: String
    public var discussion: String = ""
    public var positionals: [(name: String, help: String)]
    public var options: [OptionSpec]

    public init(name: String, abstract: String, discussion: String = "",
                positionals: [(name: String, help: String)] = [], options: [OptionSpec]) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.positionals = positionals
        self.options = options + CommandSpec.common
    }

    /// Options every command accepts.
    static let common: [OptionSpec] = [
        OptionSpec(["--plugin-path"], value: "DIR", help: "Look for plugins in DIR first (repeatable).", repeatable: true),
        OptionSpec(["-v", "--verbose"], help: "Show the plugins' log and progress messages on stderr."),
        OptionSpec(["-h", "--help"], help: "Show this help."),
    ]

    /// The fixed help layout: OVERVIEW, USAGE, ARGUMENTS, OPTIONS.
    public var help: String {
        var out = "OVERVIEW: \(abstract)\n"
        if !discussion.isEmpty { out += "\n\(discussion)\n" }
        let positionalText = positionals.map { " <\($0.name)>" }.joined()
        out += "\nUSAGE: unmix \(name)\(positionalText) [options]\n"
        if !positionals.isEmpty {
            out += "\nARGUMENTS:\n"
            for p in positionals { out += pad("  <\(p.name)>", p.help) }
        }
        out += "\nOPTIONS:\n"
        for o in options where !o.hidden {
            out += pad("  " + o.names.joined(separator: ", ") + (o.value.map { " <\($0)>" } ?? ""), o.help)
        }
        return out
    }
}

/// Left column padded to 30 characters, help after it (on the next line when too long).
func pad(_ left: String, _ right: String) -> String {
    let width = 30
    if left.count < width - 1 { return left + String(repeating: " ", count: width - left.count) + right + "\n" }
    return left + "\n" + String(repeating: " ", count: width) + right + "\n"
}

/// The strings of one command line, by option key.
public struct ParsedArguments: Sendable {
    /// The words parsed, as given.
    public var words: [String] = []
    public var positionals: [String] = []
    public var values: [String: [String]] = [:]
    public var flags: Set<String> = []

    public func flag(_ key: String) -> Bool { flags.contains(key) }
    public func value(_ key: String) -> String? { values[key]?.last }
    public func all(_ key: String) -> [String] { values[key] ?? [] }

    /// The integer value of an option, or nil when absent; a usage error when not an integer.
    public func integer(_ key: String) throws -> Int? {
        guard let text = value(key) else { return nil }
        guard let v = Int(text) else { throw UnmixError.usage("\(key) expects an integer, got '\(text)'") }
        return v
    }

    /// The value of a required option.
    public func required(_ key: String) throws -> String {
        guard let v = value(key) else { throw UnmixError.usage("missing required option \(key)") }
        return v
    }

    /// Parses `arguments` (the words after the subcommand) against `spec`.
    public static func parse(_ arguments: [String], _ spec: CommandSpec) throws -> ParsedArguments {
        var out = ParsedArguments()
        out.words = arguments
        var i = 0
        var onlyPositionals = false
        while i < arguments.count {
            let word = arguments[i]
            i += 1
            if onlyPositionals || !word.hasPrefix("-") || word == "-" {
                out.positionals.append(word)
                continue
            }
            if word == "--" { onlyPositionals = true; continue }
            var name = word
            var inline: String?
            if word.hasPrefix("--"), let eq = word.firstIndex(of: "=") {
                name = String(word[..<eq])
                inline = String(word[word.index(after: eq)...])
            }
            guard let option = spec.options.first(where: { $0.names.contains(name) }) else {
                throw UnmixError.usage("unknown option '\(name)' for 'unmix \(spec.name)' (see 'unmix \(spec.name) --help')")
            }
            if option.value == nil {
                if inline != nil { throw UnmixError.usage("option \(name) takes no value") }
                out.flags.insert(option.key)
                continue
            }
            let value: String
            if let inline { value = inline } else {
                guard i < arguments.count else { throw UnmixError.usage("option \(name) needs a value <\(option.value!)>") }
                value = arguments[i]
                i += 1
            }
            if !option.repeatable && out.values[option.key] != nil {
                throw UnmixError.usage("option \(name) given twice")
            }
            out.values[option.key, default: []].append(value)
        }
        return out
    }
}
