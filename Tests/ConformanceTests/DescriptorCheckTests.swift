import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The whole-table checks of a plugin's descriptor, through the real loader: one build of
/// `Tests/Fixtures/plugins/bad_table.c` per rule, each breaking that rule alone, refused with one
/// line naming the field; and the valid variations, which load.
@Suite struct DescriptorCheckTests {
    /// One rule of the checks: the `RULE_` macro of bad_table.c, the field the refusal must name
    /// and a fragment of its reason.
    struct Rule: Sendable, CustomTestStringConvertible {
        var name: String
        var field: String
        var reason: String
        var testDescription: String { name }
        init(_ name: String, _ field: String, _ reason: String) {
            (self.name, self.field, self.reason) = (name, field, reason)
        }
    }

    static let rules: [Rule] = [
        // Ids.
        Rule("id_uppercase", "id", "not a lower-case id"),
        Rule("id_leading_underscore", "id", "not a lower-case id"),
        Rule("id_non_ascii", "id", "not a lower-case id"),
        Rule("id_too_long", "id", "above the limit of 64"),
        Rule("id_empty", "id", "is empty"),
        Rule("param_id_uppercase", "params[1].id", "not a lower-case id"),
        Rule("param_id_duplicate", "params[1].id", "declared twice"),
        // Strings.
        Rule("version_null", "version", "is NULL"),
        Rule("name_newline", "name", "U+000A"),
        Rule("name_not_utf8", "name", "not valid UTF-8"),
        Rule("summary_escape", "summary", "U+001B"),
        Rule("license_bidi_override", "license", "U+202E"),
        Rule("url_too_long", "url", "longer than 4096 bytes"),
        Rule("description_too_long", "description", "longer than 65536 bytes"),
        Rule("description_control", "description", "U+0007"),
        Rule("help_too_long", "params[1].help", "longer than 4096 bytes"),
        Rule("help_newline", "params[1].help", "U+000A"),
        Rule("unit_escape", "params[1].unit", "U+001B"),
        // The table.
        Rule("unknown_capability", "capabilities", "0x40"),
        Rule("param_count_too_many", "param_count", "1025"),
        Rule("params_null", "params", "is NULL"),
        Rule("param_type_unknown", "params[1].type", "7"),
        // Reals.
        Rule("real_default_nan", "params[1].default_value", "NaN"),
        Rule("real_default_infinite", "params[1].default_value", "not finite"),
        Rule("real_min_nan", "params[1].min_value", "NaN"),
        Rule("real_max_infinite", "params[1].max_value", "not finite"),
        Rule("real_min_above_max", "params[1].min_value", "above max_value"),
        Rule("real_default_below_min", "params[1].default_value", "below its minimum"),
        Rule("real_default_above_max", "params[1].default_value", "above its maximum"),
        // Integers.
        Rule("integer_default_fractional", "params[0].default_value", "not an integer"),
        Rule("integer_min_fractional", "params[0].min_value", "not an integer"),
        Rule("integer_max_huge", "params[0].max_value", "below 2^53"),
        Rule("integer_default_huge", "params[0].default_value", "below 2^53"),
        // Booleans.
        Rule("boolean_default_two", "params[2].default_value", "0 or 1"),
        Rule("boolean_default_half", "params[2].default_value", "0 or 1"),
        // Choices.
        Rule("choice_count_zero", "params[3].choice_count", "not between 1 and 256"),
        Rule("choice_count_too_many", "params[3].choice_count", "not between 1 and 256"),
        Rule("choices_null", "params[3].choices", "is NULL"),
        Rule("choice_null", "params[3].choices[1]", "is NULL"),
        Rule("choice_empty", "params[3].choices[1]", "is empty"),
        Rule("choice_duplicate", "params[3].choices[1]", "repeats choices[0]"),
        Rule("choice_unprintable", "params[3].choices[1]", "U+001B"),
        Rule("choice_default_fractional", "params[3].default_value", "no choice #0.5"),
        Rule("choice_default_out_of_range", "params[3].default_value", "no choice #2"),
        Rule("choice_default_negative", "params[3].default_value", "no choice #-1"),
        Rule("choice_default_huge", "params[3].default_value", "no choice #1e+300"),
    ]

    /// Builds bad_table.c with `-DRULE_<rule>` (none: the valid table) and loads it in-process.
    static func load(rule: String?, in dir: URL) throws -> PluginLibrary {
        let output = dir.appendingPathComponent("libunmix_bad_table_\(rule ?? "none").so")
        try buildCPlugin(source: fixtureSource("bad_table"), output: output, defines: rule.map { ["-DRULE_\($0)"] } ?? [])
        return try withPluginLoaderLock { try PluginLibrary.load(path: output.path) }
    }

    @Test(arguments: rules)
    func eachRuleIsRefusedNamingTheField(_ rule: Rule) throws {
        try withTemporaryDirectory { dir in
            expectUnmixError(containing: ["descriptor field '\(rule.field)'", rule.reason]) {
                _ = try Self.load(rule: rule.name, in: dir)
            }
        }
    }

    /// The table every rule starts from is valid, so each refusal above is its rule's alone.
    @Test func theUnbrokenTableLoads() throws {
        try withTemporaryDirectory { dir in
            let d = try Self.load(rule: nil, in: dir).descriptor
            #expect(d.id == "bad_table" && d.parameters.map(\.id) == ["iterations", "alpha", "verbose", "method"],
                    "loaded \(d.id) with parameters \(d.parameters.map(\.id))")
        }
    }

    /// What the checks allow: newlines, tabs and non-ASCII letters in the description; the
    /// longest id and description; bounds without their flags (never read, NaN or not); and
    /// capability bits unknown to this host from a plugin built for a later minor version,
    /// which are cleared (ABI 1.x only adds bits, and such a plugin must work with an older host).
    @Test(arguments: ["ok_multiline_description", "ok_longest", "ok_unflagged_nan_bounds", "ok_future_capability"])
    func validVariationsLoad(rule: String) throws {
        try withTemporaryDirectory { dir in
            let d = try Self.load(rule: rule, in: dir).descriptor
            switch rule {
            case "ok_future_capability":
                #expect(d.capabilities == 1, "capabilities: expected only spatial (1) kept, observed \(d.capabilities)")
                #expect(d.abiVersion.hasPrefix("1."), "ABI version \(d.abiVersion)")
            case "ok_longest":
                #expect(d.id.count == 64 && d.description.utf8.count == 64 * 1024, "id \(d.id.count), description \(d.description.utf8.count)")
            case "ok_unflagged_nan_bounds":
                let alpha = d.parameter(named: "alpha")
                #expect(alpha?.min == nil && alpha?.max == nil, "alpha's bounds: \(String(describing: alpha))")
            default:
                #expect(d.description.contains("\n\tAn indented") && d.description.contains("Ångström"), "description: \(d.description)")
            }
        }
    }
}
