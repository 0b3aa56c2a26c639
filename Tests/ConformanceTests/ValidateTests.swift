import Foundation
import Testing
import UnmixHost
import _TestSupport

/// `unmix validate` passes every plugin we ship and both examples, and fails every hostile
/// library, naming the check it fails.
@Suite(.serialized) struct ValidateTests {
    /// The libraries that must pass: every first-party plugin, the Swift example, the C example.
    static var shipped: [String] {
        builtPluginLibraries().map(\.lastPathComponent) + ["libexample_shallowae.so", "C example (atgp)"]
    }

    @Test(arguments: shipped)
    func shippedLibrariesPass(_ name: String) throws {
        try withTemporaryDirectory { dir in
            let path = name == "C example (atgp)" ? try buildExampleCPlugin(into: dir).path
                : builtProductsDirectory().appendingPathComponent(name).path
            let result = try runUnmix(["validate", path, "--json"])
            let json = try parseJSONObject(result.stdout)
            let checks = json["checks"] as? [[String: Any]] ?? []
            let failed = checks.filter { $0["status"] as? String == "failed" }
            #expect(result.status == 0 && failed.isEmpty, "\(name): failed checks \(failed); stderr \(result.stderr)")
            // Every check ran: none of the always-applicable ones was skipped.
            let names = Set(checks.filter { $0["status"] as? String != "skipped" }.compactMap { $0["name"] as? String })
            for always in ["scan", "fit 8×8×16, R = 3", "fit 1×1 pixel, R = 1", "fit two bands, R = 1",
                           "same seed, same bits", "nothing on stdout"] {
                #expect(names.contains(always), "\(name): check '\(always)' did not run: \(checks)")
            }
        }
    }

    /// Each hostile library fails validation, and the failed check is the one its misbehaviour is about.
    static let hostile: [(HostileMode, String)] = [
        (.crashFit, "fit 8×8×16, R = 3"), (.exitFit, "fit 8×8×16, R = 3"), (.loopFit, "fit 8×8×16, R = 3"),
        (.sleepCreate, "fit 8×8×16, R = 3"), (.crashEntry, "scan"), (.crashConstructor, "scan"),
        (.nanEndmembers, "fit 8×8×16, R = 3"), (.nanAbundances, "fit 8×8×16, R = 3"), (.overrun, "fit 8×8×16, R = 3"),
        (.stdoutFit, "nothing on stdout"), (.wrongShape, "fit 8×8×16, R = 3"), (.lyingChoices, "scan"),
        (.hugeDefault, "scan"), (.nanBounds, "scan"), (.stateFlag, "scan"), (.notELF, "scan"), (.empty, "scan"),
        (.missingDependency, "scan"),
    ]

    struct HostileCase: Sendable, CustomTestStringConvertible {
        var mode: HostileMode
        var check: String
        var testDescription: String { mode.fileName }
    }

    @Test(arguments: hostile.map { HostileCase(mode: $0.0, check: $0.1) })
    func hostileLibrariesFailNamingTheCheck(_ c: HostileCase) throws {
        try withTemporaryDirectory { dir in
            let placed = try installHostileLibraries([c.mode], into: dir)
            let path = try #require(placed[c.mode]).path
            let result = try runUnmix(["validate", path, "--json", "--timeout", "2"])
            #expect(result.status == 1, "\(c.mode.fileName): exit \(result.status); stderr \(result.stderr)")
            let json = try parseJSONObject(result.stdout)
            let checks = json["checks"] as? [[String: Any]] ?? []
            let failed = checks.filter { $0["status"] as? String == "failed" }.compactMap { $0["name"] as? String }
            #expect(failed.contains(c.check), "\(c.mode.fileName): failed \(failed), expected '\(c.check)' among them: \(checks)")
        }
    }
}
