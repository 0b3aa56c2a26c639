import Foundation
import UnmixHost

enum ListCommand {
    static let spec = CommandSpec(
        name: "list", abstract: "List the plugins found on the search path, and the libraries that failed to load.",
        discussion: """
            Search order: --plugin-path DIR (repeatable), UNMIX_PLUGIN_PATH (colon-separated), the \
            first-party plugins beside the executable, ~/.local/lib/unmix/plugins, \
            /usr/local/lib/unmix/plugins. Regular files named libunmix_*.so or unmix_*.so are loaded, \
            each by a worker process (a library that crashes or hangs is listed as failed); what they \
            declare is kept in a registry file (UNMIX_REGISTRY, else ~/.cache/unmix/registry.json) and \
            read again until the library changes.
            """,
        options: [OptionSpec(["--json"], help: "Print one JSON document instead of a table.")])

    /// What `list --json` prints (and `serve` answers).
    static func document(_ registry: PluginRegistry) -> [String: Any] {
        [
            "plugins": registry.plugins.map { p -> [String: Any] in
                ["id": p.descriptor.id, "name": p.descriptor.name, "version": p.descriptor.version,
                 "abi_version": p.descriptor.abiVersion, "path": p.path, "summary": p.descriptor.summary]
            },
            "failures": registry.failures.map { ["path": $0.path, "reason": $0.reason] },
            "notes": registry.notes,
        ]
    }

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        guard args.positionals.isEmpty else { throw UnmixError.usage("'unmix list' takes no arguments") }
        if args.flag("--json") {
            print(jsonText(document(registry)))
            return 0
        }
        if registry.plugins.isEmpty {
            print("no plugins found (see 'unmix list --help' for where they are searched)")
        } else {
            print(renderTable(["ID", "NAME", "VERSION", "ABI", "SUMMARY"], registry.plugins.map {
                [$0.descriptor.id, $0.descriptor.name, $0.descriptor.version, $0.descriptor.abiVersion, $0.descriptor.summary]
            }), terminator: "")
            print("\nloaded from:")
            for p in registry.plugins { print("  \(p.descriptor.id): \(p.path)") }
        }
        if !registry.notes.isEmpty {
            print("\nnames:")
            for note in registry.notes { print("  \(note)") }
        }
        if !registry.failures.isEmpty {
            print("\nfailed to load:")
            for f in registry.failures { print("  \(f.path): \(f.reason)") }
        }
        return 0
    }
}

enum InfoCommand {
    static let spec = CommandSpec(
        name: "info", abstract: "Show a plugin's description, capabilities and parameters.",
        positionals: [("name", "The plugin's id or name (case-insensitive).")],
        options: [OptionSpec(["--json"], help: "Print one JSON document instead of text.")])

    static func run(_ args: ParsedArguments, _ registry: PluginRegistry) throws -> Int32 {
        guard args.positionals.count == 1 else { throw UnmixError.usage("'unmix info' takes one plugin name") }
        let plugin = try registry.find(args.positionals[0])
        let d = plugin.descriptor
        if args.flag("--json") {
            print(jsonText(document(plugin)))
            return 0
        }
        print("\(d.name) (\(d.id)) \(d.version), plugin ABI \(d.abiVersion)")
        print(plugin.path)
        if !d.summary.isEmpty { print("\n\(d.summary)") }
        if !d.description.isEmpty { print("\n" + wrap(d.description, width: 90)) }
        print("")
        print("capabilities: \(d.capabilityNames.isEmpty ? "none" : d.capabilityNames.joined(separator: ", "))")
        if let a = d.authors { print("authors:      \(a)") }
        if let l = d.license { print("license:      \(l)") }
        if let u = d.url { print("url:          \(u)") }
        print("")
        if d.parameters.isEmpty {
            print("parameters: none")
        } else {
            print("parameters (set with --set key=value):")
            print(renderTable(["ID", "TYPE", "DEFAULT", "RANGE", "HELP"], d.parameters.map { p in
                [p.id, p.kind.rawValue + (p.logScale ? " (log)" : ""), p.format(p.defaultValue) + (p.unit.map { " \($0)" } ?? ""),
                 rangeText(p), p.help]
            }), terminator: "")
        }
        return 0
    }

    /// What `info --json` prints (and `serve` answers).
    static func document(_ plugin: InstalledPlugin) -> [String: Any?] {
        let d = plugin.descriptor
        return [
            "id": d.id, "name": d.name, "version": d.version, "abi_version": d.abiVersion, "path": plugin.path,
            "summary": d.summary, "description": d.description, "authors": d.authors, "license": d.license,
            "url": d.url, "capabilities": d.capabilityNames,
            "parameters": d.parameters.map { p -> [String: Any?] in
                ["id": p.id, "type": p.kind.rawValue, "default": jsonValue(p, p.defaultValue),
                 "min": p.kind == .boolean ? nil : p.min.map { jsonValue(p, $0) },
                 "max": p.kind == .boolean ? nil : p.max.map { jsonValue(p, $0) },
                 "choices": p.kind == .choice ? p.choices : nil, "help": p.help, "unit": p.unit,
                 "log_scale": p.logScale]
            },
        ] as [String: Any?]
    }

    private static func jsonValue(_ p: ParameterInfo, _ v: Double) -> Any {
        switch p.kind {
        case .integer: return Int64(v)
        case .real: return v
        case .boolean: return v != 0
        case .choice: return p.format(v)
        }
    }

    private static func rangeText(_ p: ParameterInfo) -> String {
        switch p.kind {
        case .boolean: return "true|false"
        case .choice: return p.choices.joined(separator: "|")
        case .integer, .real:
            let lo = p.min.map { p.format($0) } ?? "-inf", hi = p.max.map { p.format($0) } ?? "inf"
            return p.min == nil && p.max == nil ? "any" : "[\(lo), \(hi)]"
        }
    }
}

/// Wraps text at spaces to lines of at most `width` characters, keeping paragraph breaks.
func wrap(_ text: String, width: Int) -> String {
    text.components(separatedBy: "\n").map { paragraph -> String in
        var lines = [String](), line = ""
        for word in paragraph.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }.joined(separator: "\n")
}
