import Foundation
import Testing
@testable import UnmixIO
import UnmixHost
import _TestSupport

/// Model file format 2: the checksum, the round trip, and refusal of every damaged, truncated or
/// crafted file with one line naming it, never a trap (these tests run in-process).
@Suite struct ModelFileTests {
    // MARK: - CRC-32

    @Test(arguments: [("123456789", UInt32(0xCBF4_3926)), ("", 0), ("a", 0xE8B7_BE43),
                      ("The quick brown fox jumps over the lazy dog", 0x414F_A339)])
    func crc32MatchesKnownCheckValues(_ text: String, _ expected: UInt32) {
        let observed = CRC32.checksum(Array(text.utf8))
        #expect(observed == expected, "CRC-32(\"\(text)\"): expected \(String(expected, radix: 16)), observed \(String(observed, radix: 16))")
    }

    @Test func crc32FedInPiecesIsTheCRCOfTheWhole() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var crc = CRC32()
        crc.update(bytes[..<333])
        crc.update(bytes[333..<334])
        crc.update(bytes[334...])
        #expect(crc.value == CRC32.checksum(bytes), "pieces \(crc.value), whole \(CRC32.checksum(bytes))")
    }

    // MARK: - Round trip

    static let sample = ModelFile(
        pluginID: "vca", pluginVersion: "1.0.0", values: [0, 1.5, -2], parameters: ["snr": "0", "mode": "fast"],
        seed: .max, bands: 6, r: 2, endmembers: (0..<12).map { Float($0) * 0.25 - 1 }, state: Array("UXST state".utf8),
        signalAxis: Axis(name: "Energy loss", size: 6, offset: 150, scale: 0.6, units: "eV", values: [1, 2, 3, 5, 8, 13]),
        selection: Selection(range: .init(start: 10, end: 16, inChannels: true),
                             roi: .init(rowStart: 0, rowEnd: 4, colStart: nil, colEnd: 9)))

    @Test func roundTripThroughAFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("m.unmix").path
            try Self.sample.encoded().write(to: URL(fileURLWithPath: path))
            let read = try ModelFile.read(path)
            #expect(read == Self.sample, "read back \(read)")
            #expect(read.seed == UInt64.max, "seed \(read.seed)")
        }
        var bare = Self.sample
        (bare.signalAxis, bare.selection, bare.state) = (nil, Selection(), [])
        let decoded = try ModelFile.decode(bytes: [UInt8](try bare.encoded()), path: "bare")
        #expect(decoded == bare, "decoded \(decoded)")
    }

    @Test func theFileStartsWithItsFormatAndEndsWithTheCRCOfTheRest() throws {
        let bytes = [UInt8](try Self.sample.encoded())
        #expect(bytes.starts(with: Array("unmix-model 2\n".utf8)), "starts with \(bytes.prefix(14))")
        let stored = bytes.suffix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        #expect(stored == CRC32.checksum(bytes.dropLast(4)), "stored CRC \(stored)")
    }

    @Test func encodingRefusesWhatReadingWouldRefuse() {
        var nan = Self.sample
        nan.values[0] = .nan
        var short = Self.sample
        short.endmembers.removeLast()
        var infinite = Self.sample
        infinite.endmembers[3] = .infinity
        var wide = Self.sample
        wide.r = 6
        for (what, model) in [("NaN value", nan), ("short endmembers", short), ("infinite endmember", infinite), ("R = bands", wide)] {
            #expect(throws: UnmixError.self, "\(what) was encoded") { try model.encoded() }
        }
    }

    // MARK: - Saved models of real plugins: every flip and every truncation

    /// One small saved model per plugin, made once per process (DAEU's network grows with R and
    /// the bands, so its model is R = 2 of 8 bands: about 4 KB, like the others at R = 3 of 20).
    static let saved: [String: Result<ModelFile, Error>] = Dictionary(uniqueKeysWithValues: ["vca", "nmf", "daeu"].map { name in
        (name, Result { try (name == "daeu" ? FittedModel(builtPlugin(name), r: 2, bands: 8) : FittedModel(builtPlugin(name))).modelFile })
    })

    static func bytes(of plugin: String) throws -> [UInt8] {
        let model = try #require(saved[plugin]).get()
        return [UInt8](try model.encoded())
    }

    /// Refused by `ModelFile.read`, with one line naming the file.
    static func expectRefused(_ bytes: [UInt8], at path: String, _ what: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let model = try ModelFile.read(path)
            Issue.record("\(what) was read (R = \(model.r), \(model.bands) bands)", sourceLocation: sourceLocation)
        } catch let error as UnmixError {
            #expect(!error.message.contains("\n") && error.message.contains(path), "\(what): \(error.message)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: ["vca", "nmf", "daeu"])
    func everySingleByteFlipIsRefused(_ plugin: String) throws {
        var bytes = try Self.bytes(of: plugin)
        #expect(bytes.count > 1000 && bytes.count < 8000, "a \(plugin) model of \(bytes.count) bytes")
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("\(plugin).unmix").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try ModelFile.read(path) == Self.saved[plugin]?.get(), "the unaltered \(plugin) model reads back")
            for i in bytes.indices {
                bytes[i] ^= 0xFF
                try Self.expectRefused(bytes, at: path, "\(plugin) model with byte \(i) of \(bytes.count) flipped")
                bytes[i] ^= 0xFF
            }
        }
    }

    @Test(arguments: ["vca", "nmf", "daeu"])
    func everyTruncationIsRefused(_ plugin: String) throws {
        let bytes = try Self.bytes(of: plugin)
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("\(plugin).unmix").path
            for length in 0..<bytes.count {
                try Self.expectRefused(Array(bytes[..<length]), at: path, "\(plugin) model cut to \(length) of \(bytes.count) bytes")
            }
        }
    }

    // MARK: - The restored model against the file

    @Test(arguments: ["vca", "nmf", "daeu"])
    func aRestoredModelHasTheFileShapeAndAppliesAsTheFittedOne(_ plugin: String) throws {
        let fitted = try FittedModel(builtPlugin(plugin))
        let model = try ModelFile.decode(bytes: [UInt8](try fitted.modelFile.encoded()), path: "\(plugin).unmix")
        let other = smallSyntheticCube(seed: 2, side: 8, bands: model.bands)
        let expected = try fitted.instance.abundances(other)
        let restored = try fitted.freshInstance()
        try restored.loadState(model.state, r: model.r, bands: model.bands)
        let shape = try restored.modelShape()
        #expect(shape.r == model.r && shape.bands == model.bands, "model_shape \(shape), file R = \(model.r), \(model.bands) bands")
        expectClose(try restored.abundances(other), expected, tolerance: 1e-6, "\(plugin) abundances after a round trip")
        // A header that disagrees with the state is caught by model_shape, before any buffer is sized.
        let liar = try fitted.freshInstance()
        #expect(throws: UnmixError.self, "a state of R = \(model.r) loaded as R = \(model.r + 1)") {
            try liar.loadState(model.state, r: model.r + 1, bands: model.bands)
        }
        #expect(throws: UnmixError.self, "a state of \(model.bands) bands loaded as \(model.bands + 1)") {
            try liar.loadState(model.state, r: model.r, bands: model.bands + 1)
        }
    }

    @Test func aStateOfAnotherPluginIsRefused() throws {
        let vca = try FittedModel(builtPlugin("vca"))
        let nmf = try FittedModel(builtPlugin("nmf"))
        let target = try nmf.freshInstance()
        do {
            try target.loadState(vca.state, r: vca.r, bands: vca.cube.bands)
            Issue.record("NMF accepted a VCA state")
        } catch let error as UnmixError {
            #expect(error.message.contains("load state failed (invalid argument)"), "\(error.message)")
        }
    }

    // MARK: - Crafted files with a correct checksum

    /// A format-2 file with this header line and `payload` after it, its CRC correct.
    static func crafted(_ header: String, payload: [UInt8] = [UInt8](repeating: 0x3F, count: 48)) -> [UInt8] {
        var bytes = Array("unmix-model 2\n".utf8) + Array(header.utf8) + [UInt8(ascii: "\n")] + payload
        let crc = CRC32.checksum(bytes)
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
        return bytes
    }

    /// A header of R = 2 × 5 bands with 8 state bytes (48 bytes after it), with `fields` replaced.
    static func header(_ fields: [String: String]) -> String {
        var all = ["format": "2", "plugin": "\"vca\"", "version": "\"1.0.0\"", "values": "[0, 1]", "parameters": "{}",
                   "seed": "7", "bands": "5", "r": "2", "state_bytes": "8", "selection": "{}"]
        for (k, v) in fields { all[k] = v }
        return "{" + all.filter { $0.value != "-" }.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }

    /// A signal axis object without its size, and without its closing brace.
    static let axis = #"{"name": "E", "offset": 0, "scale": 1, "units": "eV""#

    static let craftedHeaders: [(String, [String: String], String)] = [
        ("huge r", ["r": "4611686018427387904"], "is not below"),
        ("huge bands", ["bands": "4611686018427387904", "r": "3"], "do not add up"),
        ("r × bands overflows", ["r": "2147483648", "bands": "8589934592"], "do not add up"),
        ("r beyond Int", ["r": "99999999999999999999999"], "corrupt model header"),
        ("huge state_bytes", ["state_bytes": "9223372036854775807"], "do not add up"),
        ("state_bytes too large by one", ["state_bytes": "9"], "do not add up"),
        ("negative r", ["r": "-1"], "below 1"),
        ("negative bands", ["bands": "-5"], "below 2"),
        ("one band", ["bands": "1", "r": "1"], "below 2"),
        ("r = bands", ["r": "5"], "is not below"),
        ("negative state_bytes", ["state_bytes": "-8"], "state_bytes = -8"),
        ("NaN value", ["values": "[NaN]"], "corrupt model header"),
        ("infinite value", ["values": "[1e999]"], "corrupt model header"),
        ("negative seed", ["seed": "-1"], "corrupt model header"),
        ("fractional r", ["r": "2.5"], "corrupt model header"),
        ("axis size ≠ bands", ["signal_axis": axis + #", "size": 6}"#], "6 channels for 5 bands"),
        ("axis listing too few values", ["signal_axis": axis + #", "size": 5, "values": [1, 2]}"#], "listing 2 values"),
        ("huge channel range", ["selection": #"{"range": {"start": 1e300, "inChannels": true}}"#], "not a channel index"),
        ("negative region", ["selection": #"{"roi": {"rowStart": -4}}"#], "negative bound"),
        ("inverted region", ["selection": #"{"roi": {"colStart": 9, "colEnd": 2}}"#], "start is not below"),
        ("too many values", ["values": "[" + Array(repeating: "0", count: 5000).joined(separator: ",") + "]"], "more than 4096"),
        ("format field 1", ["format": "1"], "format 1 in a format-2 file"),
        ("no plugin", ["plugin": "-"], "no plugin"),
        ("deep nesting", ["parameters": String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)], "nested too deep"),
    ]

    @Test(arguments: craftedHeaders)
    func aCraftedHeaderWithACorrectChecksumIsRefused(_ what: String, _ fields: [String: String], _ reason: String) throws {
        let path = "crafted.unmix"
        do {
            let model = try ModelFile.decode(bytes: Self.crafted(Self.header(fields)), path: path)
            Issue.record("\(what): read as R = \(model.r), \(model.bands) bands")
        } catch let error as UnmixError {
            #expect(error.message.hasPrefix("\(path): ") && !error.message.contains("\n"), "\(what): \(error.message)")
            #expect(error.message.contains(reason), "\(what): expected '\(reason)' in: \(error.message)")
        }
    }

    @Test func theCraftedBaseHeaderIsReadSoTheRefusalsAboveAreTheFieldsDoing() throws {
        let model = try ModelFile.decode(bytes: Self.crafted(Self.header([:])), path: "base.unmix")
        #expect(model.r == 2 && model.bands == 5 && model.state.count == 8, "read \(model)")
        let nanEndmember = [UInt8](repeating: 0xFF, count: 48)
        #expect(throws: UnmixError.self, "NaN endmembers were read") {
            try ModelFile.decode(bytes: Self.crafted(Self.header([:]), payload: nanEndmember), path: "nan.unmix")
        }
    }

    // MARK: - Other formats and other files

    @Test func aFormatOneFileIsRefusedSayingItPredatesChecksums() throws {
        let old = Array("unmix-model 1\n{\"plugin\": \"vca\", \"r\": 2, \"bands\": 5}\n".utf8) + [UInt8](repeating: 0, count: 40)
        do {
            _ = try ModelFile.decode(bytes: old, path: "old.unmix")
            Issue.record("a format-1 file was read")
        } catch let error as UnmixError {
            #expect(error.message.hasPrefix("old.unmix: ") && error.message.contains("predates checksums")
                    && error.message.contains("again") && !error.message.contains("\n"), "\(error.message)")
        }
        #expect(throws: UnmixError.self) { try ModelFile.decode(bytes: Array("unmix-model 3\n{}\n".utf8), path: "new.unmix") }
        #expect(throws: UnmixError.self) { try ModelFile.decode(bytes: [], path: "empty.unmix") }
    }

    @Test func aFileOverTheLimitIsRefusedBeforeItIsRead() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("huge.unmix").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data(ModelFile.magic)))
            #expect(truncate(path, off_t(ModelFile.maximumSize) + 1) == 0, "truncate: \(errno)")   // sparse: no disk used
            let start = Date()
            do {
                _ = try ModelFile.read(path)
                Issue.record("a file of more than 4 GiB was read")
            } catch let error as UnmixError {
                #expect(error.message.contains(path) && error.message.contains("not read"), "\(error.message)")
            }
            #expect(Date().timeIntervalSince(start) < 1, "refusing took \(Date().timeIntervalSince(start)) s")
        }
    }

    @Test func aFolderOrAFIFOIsRefusedWithoutWaiting() throws {
        try withTemporaryDirectory { dir in
            let fifo = dir.appendingPathComponent("model.fifo").path
            #expect(mkfifo(fifo, 0o600) == 0, "mkfifo: \(errno)")
            for path in [dir.path, fifo, dir.appendingPathComponent("missing").path] {
                do {
                    _ = try ModelFile.read(path)
                    Issue.record("\(path) was read as a model")
                } catch let error as UnmixError {
                    #expect(error.message.contains(path) && !error.message.contains("\n"), "\(error.message)")
                }
            }
        }
    }
}
