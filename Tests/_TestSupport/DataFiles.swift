import Foundation
import Testing
import UnmixHost

/// The folder of real microscope files shared beside the repository (`../shared/data/rosettasciio`),
/// or nil when it is absent (tests that need it then skip with a message).
public func sharedDataDirectory() -> URL? {
    let url = repositoryRoot().deletingLastPathComponent().appendingPathComponent("shared/data/rosettasciio")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
}

/// A real file of the shared data folder, or nil when the folder is absent.
public func sharedDataFile(_ name: String) -> URL? {
    sharedDataDirectory()?.appendingPathComponent(name)
}

/// The message tests print when they skip for want of the shared data.
public let sharedDataMissing = "../shared/data/rosettasciio is absent: tests of real microscope files skipped"

/// A committed fixture file: `Tests/Fixtures/data/<name>` (written by the public tools through
/// `scripts/make-fixtures`).
public func dataFixture(_ name: String) -> URL {
    repositoryRoot().appendingPathComponent("Tests/Fixtures/data/\(name)")
}

/// Deterministic mutations of a file's bytes, for robustness tests: single bytes set to 0x00,
/// 0xFF or 0x7F, 4-byte words set to 0xFFFFFFFF or 0x7FFFFFFF (sizes that lie), truncations
/// and a doubled tail. `count` mutants, the same ones every run for a given `seed`.
public func mutants(of bytes: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    guard !bytes.isEmpty else { return [] }
    var out = [[UInt8]]()
    for i in 0..<count {
        var m = bytes
        let at = Int(next() % UInt64(bytes.count))
        switch i % 8 {
        case 0: m[at] = 0
        case 1: m[at] = 0xFF
        case 2: m[at] ^= UInt8(1 << (next() % 8))
        case 3, 4:
            let word: [UInt8] = i % 8 == 3 ? [0xFF, 0xFF, 0xFF, 0xFF] : [0xFF, 0xFF, 0xFF, 0x7F]
            for k in 0..<4 where at + k < m.count { m[at + k] = word[(k + Int(next() % 2)) % 4] }
        case 5: m = Array(m[..<at])
        case 6: m[at] = 0x7F
        default: m += m[at...]
        }
        out.append(m)
    }
    return out
}
