// The libFuzzer target of the model-file parser (`scripts/fuzz model`): compiled with the UnmixIO
// sources into one instrumented binary. Each input is the whole content of a model file, given
// to `ModelFile.decode(bytes:path:)`, the entry `ModelFile.read` uses after its size check:
// once as it is, and once with its last four bytes replaced by the CRC-32 of the rest, since
// almost no mutation keeps the checksum right and the header checks behind it would otherwise
// go unfuzzed. A model or an `UnmixError` of one line naming the file are both fine; a trap, a
// sanitizer report, a hang or any other error is a bug.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    check(bytes)
    if bytes.count >= 4 {
        let crc = CRC32.checksum(bytes[..<(bytes.count - 4)])
        for k in 0..<4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
        check(bytes)
    }
    return 0
}

func check(_ bytes: [UInt8]) {
    do {
        let model = try ModelFile.decode(bytes: bytes, path: "fuzz.unmix")
        // What decode accepted must satisfy what it promises.
        precondition(model.r >= 1 && model.r < model.bands && model.endmembers.count == model.r * model.bands,
                     "decode accepted an inconsistent model")
        precondition(model.endmembers.allSatisfy(\.isFinite), "decode accepted non-finite endmembers")
    } catch let error as UnmixError {
        precondition(!error.message.contains("\n"), "a refusal of several lines: \(error.message)")
        precondition(error.message.hasPrefix("fuzz.unmix"), "a refusal that does not name the file: \(error.message)")
    } catch {
        preconditionFailure("decode threw something other than UnmixError: \(error)")
    }
}
