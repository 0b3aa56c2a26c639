import Foundation
import Testing
import UnmixHost
import _TestSupport

/// Plugin discovery through the real loader: what loads, what is refused and why, the search
/// order, which file names are looked at, and lookup by id or name.
@Suite struct LoaderTests {
    /// One library the host must refuse, and what the reason must mention.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var fileName: String
        var fragments: [String]
        var testDescription: String { fileName }
    }

    static let refusals: [Refusal] = [
        // The message names both versions: the plugin's (2.2, a major above) and the host's (1.2).
        Refusal(fileName: "libunmix_wrong_abi.so", fragments: ["2.2", "1.2"]),
        Refusal(fileName: "libunmix_no_entry.so", fragments: ["unmix_plugin_entry"]),
        Refusal(fileName: "libunmix_bad_descriptor.so", fragments: ["iterations"]),
        // A text file: the dynamic loader's own complaint, after the host's prefix.
        Refusal(fileName: "libunmix_notalib.so", fragments: ["cannot load: "]),
    ]

    @Test func discoverLoadsTheValidPluginAndReportsEachBadLibrary() throws {
        try withTemporaryDirectory { dir in
            for name in ["minimal", "wrong_abi", "no_entry", "bad_descriptor"] {
                try buildFixturePlugin(name, into: dir)
            }
            try Data("this is not a shared library\n".utf8).write(to: dir.appendingPathComponent("libunmix_notalib.so"))

            let registry = withPluginLoaderLock { PluginRegistry.discover(PluginSearchPath(directories: [dir.path])) }

            #expect(registry.plugins.map(\.descriptor.id) == ["minimal"],
                    "loaded \(registry.plugins.map(\.descriptor.id)), failures \(registry.failures)")
            #expect(registry.plugins.first?.path == dir.appendingPathComponent("libunmix_minimal.so").path)
            #expect(registry.failures.count == Self.refusals.count, "failures: \(registry.failures)")
            for refusal in Self.refusals {
                let path = dir.appendingPathComponent(refusal.fileName).path
                guard let failure = registry.failures.first(where: { $0.path == path }) else {
                    Issue.record("\(refusal.fileName) is not among the failures \(registry.failures)")
                    continue
                }
                let missing = refusal.fragments.filter { !failure.reason.contains($0) }
                #expect(missing.isEmpty, "\(refusal.fileName): reason \"\(failure.reason)\" lacks \(missing)")
                #expect(!failure.reason.contains("\n"), "\(refusal.fileName): reason spans lines: \"\(failure.reason)\"")
            }
            // The loader's text follows "cannot load: " for the text file.
            let notALib = registry.failures.first { $0.path.hasSuffix("libunmix_notalib.so") }
            #expect((notALib?.reason.count ?? 0) > "cannot load: ".count, "no loader text in \(String(describing: notALib))")
        }
    }

    /// The same id in two folders: the first folder on the search path wins, the other library
    /// is reported as already provided by the first.
    @Test(arguments: [false, true])
    func firstFolderWins(reversed: Bool) throws {
        try withTemporaryDirectory { root in
            // Two separate builds, so they are two distinct libraries to the dynamic loader.
            let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b")
            let libA = try buildFixturePlugin("minimal", into: a)
            let libB = try buildFixturePlugin("minimal", into: b)
            let (first, second) = reversed ? (libB, libA) : (libA, libB)
            let dirs = [first, second].map { $0.deletingLastPathComponent().path }

            let registry = withPluginLoaderLock { PluginRegistry.discover(PluginSearchPath(directories: dirs)) }

            #expect(registry.plugins.map(\.path) == [first.path])
            #expect(registry.failures.map(\.path) == [second.path])
            let reason = registry.failures.first?.reason ?? ""
            #expect(reason.contains("already provided") && reason.contains(first.path),
                    "expected 'already provided by \(first.path)', observed \"\(reason)\"")
        }
    }

    @Test(arguments: [
        ("libunmix_vca.so", true), ("unmix_vca.so", true), ("libunmix_.so", true),
        ("libvca.so", false), ("vca.so", false), ("libunmix_vca.so.1", false), ("libunmix_vca.dylib", false),
        ("unmixvca.so", false), ("libunmix_vca.so.txt", false), ("README.md", false), ("xlibunmix_vca.so", false),
    ])
    func pluginFileNames(name: String, loaded: Bool) {
        #expect(PluginSearchPath.isPluginFileName(name) == loaded, "\(name): expected \(loaded ? "loaded" : "ignored")")
    }

    /// Discovery looks only at `libunmix_*.so` and `unmix_*.so`: valid plugins under any other
    /// name are neither loaded nor reported.
    @Test func otherFileNamesAreIgnored() throws {
        try withTemporaryDirectory { dir in
            for name in ["libminimal.so", "minimal.so", "libunmix_minimal.so.1", "libunmix_minimal.dylib", "unmixminimal.so"] {
                try buildFixturePlugin("minimal", into: dir, fileName: name)
            }
            try Data("not a plugin".utf8).write(to: dir.appendingPathComponent("notes.txt"))
            let valid = try buildFixturePlugin("minimal", into: dir, fileName: "unmix_minimal.so")

            let registry = withPluginLoaderLock { PluginRegistry.discover(PluginSearchPath(directories: [dir.path])) }

            #expect(registry.plugins.map(\.path) == [valid.path])
            #expect(registry.failures.isEmpty, "unexpected failures: \(registry.failures)")
        }
    }

    /// Missing folders on the search path are skipped without a report.
    @Test func missingFoldersAreSkipped() throws {
        try withTemporaryDirectory { dir in
            try buildFixturePlugin("minimal", into: dir)
            let missing = dir.appendingPathComponent("no-such-folder").path
            let registry = withPluginLoaderLock {
                PluginRegistry.discover(PluginSearchPath(directories: [missing, dir.path]))
            }
            #expect(registry.plugins.map(\.descriptor.id) == ["minimal"])
            #expect(registry.failures.isEmpty, "unexpected failures: \(registry.failures)")
        }
    }

    /// A registry of `minimal` and the C example, built and loaded once for the `find` tests
    /// (the files are removed after loading; the libraries stay loaded).
    static let findRegistry: Result<PluginRegistry, Error> = Result {
        try withTemporaryDirectory { dir in
            try buildFixturePlugin("minimal", into: dir)
            try buildExampleCPlugin(into: dir)
            return withPluginLoaderLock { PluginRegistry.discover(PluginSearchPath(directories: [dir.path])) }
        }
    }

    /// `find` matches the id or the display name, ignoring case ("atgp" is named "ATGP + NNLS").
    @Test(arguments: [
        ("minimal", "minimal"), ("MINIMAL", "minimal"), ("Minimal", "minimal"),
        ("atgp", "atgp"), ("ATGP", "atgp"), ("ATGP + NNLS", "atgp"), ("atgp + nnls", "atgp"),
    ])
    func findIgnoresCase(query: String, expectedID: String) throws {
        let registry = try Self.findRegistry.get()
        #expect(registry.failures.isEmpty, "unexpected failures: \(registry.failures)")
        let found = try registry.find(query)
        #expect(found.descriptor.id == expectedID, "find(\"\(query)\"): expected \(expectedID), observed \(found.descriptor.id)")
    }

    @Test func findUnknownNameListsTheKnownPlugins() throws {
        let registry = try Self.findRegistry.get()
        expectUnmixError(containing: ["'nosuch'", "minimal", "atgp"]) { _ = try registry.find("nosuch") }
    }
}
