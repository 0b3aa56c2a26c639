// Helpers shared by the ripple, ENVI and TIA tests: expectations written by the fixture
// scripts, files in temporary folders, and mutation runs over pairs of files.
import Foundation
import Testing
import UnmixIO
import _TestSupport

/// One axis as a fixture script recorded it.
struct ExpectedAxis: Decodable {
    var name: String
    var size: Int
    var offset: Double
    var scale: Double
    var units: String
}

/// Reads `Tests/Fixtures/data/<folder>/expected.json` into `T`.
func fixtureExpectations<T: Decodable>(_ folder: String, as: T.Type) throws -> T {
    let data = try Data(contentsOf: dataFixture("\(folder)/expected.json"))
    return try JSONDecoder().decode(T.self, from: data)
}

/// Little-endian bytes of fixed-width values, for hand-made files.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T, bigEndian: Bool = false) {
        let v = bigEndian ? value.bigEndian : value.littleEndian
        withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) }
    }
    mutating func append(_ value: Double) { append(value.bitPattern) }
    mutating func append(_ value: Float) { append(value.bitPattern) }
    mutating func append(_ text: String) { bytes.append(contentsOf: Array(text.utf8)) }
}

/// Writes `files` (name → bytes) into `folder`.
func writeFiles(_ files: [String: [UInt8]], in folder: URL) throws {
    for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
}

/// Opens `open` after writing `files` into a fresh temporary folder.
func openWritten(_ files: [String: [UInt8]], open: String) throws -> Dataset {
    try withTemporaryDirectory { dir in
        try writeFiles(files, in: dir)
        return try Datasets.open(dir.appendingPathComponent(open).path)
    }
}

/// How a mutation run went: mutants tried, opened, and refused with an `UnmixError`.
struct MutationOutcome {
    var tried = 0
    var opened = 0
    var refused = 0
}

/// Runs `count` mutants of every file of a set (one file mutated at a time, the others
/// intact) through `Datasets.open` of `open`, and records an issue for anything but a
/// success or an `UnmixError` of one line.
@discardableResult
func runMutants(of files: [String: [UInt8]], open: String, count: Int, seed: UInt64,
                sourceLocation: SourceLocation = #_sourceLocation) throws -> MutationOutcome {
    var outcome = MutationOutcome()
    try withTemporaryDirectory { dir in
        for (index, name) in files.keys.sorted().enumerated() {
            guard let original = files[name] else { continue }
            for (m, mutant) in mutants(of: original, count: count, seed: seed &+ UInt64(index)).enumerated() {
                var set = files
                set[name] = mutant
                try writeFiles(set, in: dir)
                do {
                    let dataset = try Datasets.open(dir.appendingPathComponent(open).path)
                    #expect(dataset.cube.values.count == dataset.cube.rows * dataset.cube.cols * dataset.cube.bands,
                            sourceLocation: sourceLocation)
                    outcome.opened += 1
                } catch let error as UnmixError {
                    #expect(!error.message.contains("\n"), "mutant \(m) of \(name): \(error.message)", sourceLocation: sourceLocation)
                    outcome.refused += 1
                } catch {
                    Issue.record("mutant \(m) of \(name): \(type(of: error)): \(error)", sourceLocation: sourceLocation)
                }
                outcome.tried += 1
            }
        }
    }
    return outcome
}

/// The bytes of the files in `folder` named in `names`.
func readFiles(_ names: [String], in folder: URL) throws -> [String: [UInt8]] {
    var files = [String: [UInt8]]()
    for name in names { files[name] = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name))) }
    return files
}

/// Compares a dataset's axis with one a fixture recorded.
func expectAxis(_ axis: Axis, _ expected: ExpectedAxis, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(axis.name == expected.name, "\(what) name", sourceLocation: sourceLocation)
    #expect(axis.size == expected.size, "\(what) size", sourceLocation: sourceLocation)
    #expect(axis.offset == expected.offset, "\(what) offset \(axis.offset) ≠ \(expected.offset)", sourceLocation: sourceLocation)
    #expect(axis.scale == expected.scale, "\(what) scale \(axis.scale) ≠ \(expected.scale)", sourceLocation: sourceLocation)
    #expect(axis.units == expected.units, "\(what) units '\(axis.units)' ≠ '\(expected.units)'", sourceLocation: sourceLocation)
    #expect(axis.values == nil, "\(what) should be uniform", sourceLocation: sourceLocation)
}
