import Foundation
import Testing
import UnmixHost

/// The bytes of an `.npy` file built by hand: magic, version, header length (2 bytes for 1.0,
/// 4 for 2.0 and 3.0, little endian), the header text as given (no padding added) and the payload.
public func npyFileBytes(version: UInt8 = 1, header: String, payload: [UInt8]) -> Data {
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    let length = header.utf8.count
    bytes += version == 1 ? [UInt8(length & 0xFF), UInt8(length >> 8)]
        : [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
    return Data(bytes + Array(header.utf8) + payload)
}

/// Writes the eels3 synthetic scene drawn with `seed` to the folder `dir`, as `unmix synth`
/// does (cube.npy, endmembers.npy, abundances.npy, meta.json), and returns `dir`.
@discardableResult
public func writeEels3Dataset(to dir: URL, seed: UInt64 = 0) throws -> URL {
    try SyntheticDataset.generate(.eels3, seed: seed).write(to: dir)
    return dir
}

/// Expects a failed command: exactly one line on stderr, starting with "unmix: error:" and
/// holding every one of `fragments`, and exit status `status`. A failure prints the status and
/// all of stderr.
public func expectOneErrorLine(_ result: (status: Int32, stdout: String, stderr: String), status: Int32,
                               containing fragments: [String] = [],
                               sourceLocation: SourceLocation = #_sourceLocation) {
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        .filter { !$0.isEmpty }
    #expect(result.status == status, "exit status: expected \(status), observed \(result.status); stderr: \(result.stderr)",
            sourceLocation: sourceLocation)
    #expect(lines.count == 1, "stderr: expected one line, observed \(lines.count): \(result.stderr)",
            sourceLocation: sourceLocation)
    let line = lines.first ?? ""
    #expect(line.hasPrefix("unmix: error: "), "stderr line does not start with 'unmix: error: ': \(line)",
            sourceLocation: sourceLocation)
    let missing = fragments.filter { !line.contains($0) }
    #expect(missing.isEmpty, "stderr line \"\(line)\" lacks \(missing)", sourceLocation: sourceLocation)
}

/// Expects that nothing was written for `--out out`: the folder does not exist, and its parent
/// holds no hidden staging folder `.NAME.partial-*`.
public func expectNoOutputLeft(_ out: URL, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!FileManager.default.fileExists(atPath: out.path), "\(out.path) exists after a failure",
            sourceLocation: sourceLocation)
    let parent = out.deletingLastPathComponent()
    let staging = ((try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [])
        .filter { $0.hasPrefix(".\(out.lastPathComponent).partial-") }
    #expect(staging.isEmpty, "staging folders left in \(parent.path): \(staging)", sourceLocation: sourceLocation)
}

/// The JSON object printed on stdout; records an issue (with the text) when it is not one.
public func parseJSONObject(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    do {
        return try parseJSON(Data(text.utf8))
    } catch {
        Issue.record("stdout is not one JSON object (\(error)): \(text)", sourceLocation: sourceLocation)
        throw error
    }
}
