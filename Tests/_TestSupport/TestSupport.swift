// Shared helpers for the test targets.
import Foundation
import Testing
import UnmixHost

/// Runs `body` with a fresh, empty temporary directory, removed afterwards whatever happens.
public func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("unmix-test-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// Expects |observed − expected| ≤ tolerance; a failure prints expected, observed and error.
public func expectClose(_ observed: Double, _ expected: Double, tolerance: Double, _ what: String = "value",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let error = abs(observed - expected)
    #expect(error <= tolerance,
            "\(what): expected \(expected), observed \(observed), error \(error) > tolerance \(tolerance)",
            sourceLocation: sourceLocation)
}

/// Expects two arrays of the same length that agree element-wise within `tolerance`; a failure
/// prints the first offending index with expected, observed and error.
public func expectClose(_ observed: [Float], _ expected: [Float], tolerance: Float, _ what: String = "array",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard observed.count == expected.count else {
        Issue.record("\(what): expected \(expected.count) values, observed \(observed.count)",
                     sourceLocation: sourceLocation)
        return
    }
    if let i = observed.indices.first(where: { !(abs(observed[$0] - expected[$0]) <= tolerance) }) {
        let error = abs(observed[i] - expected[i])
        Issue.record("\(what)[\(i)]: expected \(expected[i]), observed \(observed[i]), error \(error) > tolerance \(tolerance)",
                     sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw an `UnmixError` whose one-line message contains every one of
/// `fragments`; a failure prints the message (or what was thrown instead).
public func expectUnmixError(containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                             _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an UnmixError containing \(fragments), but nothing was thrown",
                     sourceLocation: sourceLocation)
    } catch let error as UnmixError {
        let missing = fragments.filter { !error.message.contains($0) }
        #expect(missing.isEmpty, "message \"\(error.message)\" lacks \(missing)", sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), "message \"\(error.message)\" spans several lines",
                sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an UnmixError containing \(fragments), got \(type(of: error)): \(error)",
                     sourceLocation: sourceLocation)
    }
}
