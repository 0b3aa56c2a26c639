// The libFuzzer target of every reader (`scripts/fuzz`): compiled with the UnmixIO sources into
// one instrumented binary. Each input is a bundle of files, so that formats of two files
// (ripple, ENVI, TIA) are fuzzed as pairs:
//
//     repeated { u16 little-endian name length, name, u32 little-endian size, bytes }
//
// The files are written to a scratch folder and the first one is opened as `unmix` opens an
// input (`Datasets.open`). Success and `UnmixError` are both fine; a trap, a sanitizer report
// or a hang is a bug. `pack.py` turns the seed folders of Tests/Fixtures/fuzz into bundles.
import Foundation

nonisolated(unsafe) let scratch: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-fuzz-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

/// The files of a bundle, or nil when it is malformed (names are restricted to a safe set).
func unbundle(_ bytes: UnsafeBufferPointer<UInt8>) -> [(name: String, data: Data)]? {
    var files = [(name: String, data: Data)]()
    var i = 0
    func read(_ n: Int) -> UnsafeBufferPointer<UInt8>? {
        guard n >= 0, i + n <= bytes.count else { return nil }
        defer { i += n }
        return UnsafeBufferPointer(rebasing: bytes[i..<(i + n)])
    }
    while i < bytes.count && files.count < 4 {
        guard let l = read(2) else { return nil }
        let nameLength = Int(l[0]) | Int(l[1]) << 8
        guard nameLength > 0, nameLength <= 64, let nameBytes = read(nameLength) else { return nil }
        let name = String(decoding: nameBytes, as: UTF8.self)
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }), !name.hasPrefix("."),
              !files.contains(where: { $0.name == name }) else { return nil }
        guard let s = read(4) else { return nil }
        let size = Int(s[0]) | Int(s[1]) << 8 | Int(s[2]) << 16 | Int(s[3]) << 24
        guard let body = read(size) else { return nil }
        files.append((name, Data(body)))
    }
    return files.isEmpty ? nil : files
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, let files = unbundle(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    for (name, bytes) in files { try? bytes.write(to: URL(fileURLWithPath: "\(scratch)/\(name)")) }
    defer { for (name, _) in files { unlink("\(scratch)/\(name)") } }
    _ = try? Datasets.open("\(scratch)/\(files[0].name)")
    return 0
}
