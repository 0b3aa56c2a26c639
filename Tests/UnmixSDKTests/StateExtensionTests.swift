import CUnmix
import Foundation
import Testing
@testable import UnmixSDK
import UnmixHost
import _TestSupport

/// The SDK's side of `unmix.state/2`: the envelope around a plugin's state, and `save`, `load`
/// and `model_shape` as the host sees them through the built plugins.
@Suite struct StateExtensionTests {
    // MARK: - The envelope

    static let envelope = StateEnvelope(r: 3, bands: 20, payload: Array("the plugin's own bytes".utf8))

    @Test func anEnvelopeReadsBackWhole() throws {
        let bytes = Self.envelope.encoded(plugin: "vca")
        #expect(bytes.count == StateEnvelope.headerSize + Self.envelope.payload.count + StateEnvelope.trailerSize, "\(bytes.count) bytes")
        let read = try StateEnvelope(decoding: bytes, plugin: "vca", name: "VCA")
        #expect(read == Self.envelope, "read back \(read)")
    }

    @Test func everyFlipAndEveryTruncationOfAnEnvelopeIsRefused() {
        var bytes = Self.envelope.encoded(plugin: "vca")
        for i in bytes.indices {
            for bit in 0..<8 {
                bytes[i] ^= 1 << bit
                #expect(throws: PluginError.self, "bit \(bit) of byte \(i) flipped") {
                    try StateEnvelope(decoding: bytes, plugin: "vca", name: "VCA")
                }
                bytes[i] ^= 1 << bit
            }
        }
        for length in 0..<bytes.count {
            #expect(throws: PluginError.self, "cut to \(length) bytes") {
                try StateEnvelope(decoding: Array(bytes[..<length]), plugin: "vca", name: "VCA")
            }
        }
        #expect(throws: PluginError.self, "a byte appended") {
            try StateEnvelope(decoding: bytes + [0], plugin: "vca", name: "VCA")
        }
    }

    @Test func anEnvelopeOfAnotherPluginIsRefused() {
        let bytes = Self.envelope.encoded(plugin: "vca")
        do {
            _ = try StateEnvelope(decoding: bytes, plugin: "nmf", name: "NMF")
            Issue.record("NMF read an envelope VCA wrote")
        } catch let error as PluginError {
            #expect(error.code == .invalidArgument && error.message.contains("another plugin"), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// An envelope with these header numbers and a correct checksum: what only the range checks refuse.
    static func crafted(r: UInt32, bands: UInt32, length: UInt64, payload: Int) -> [UInt8] {
        var bytes = StateEnvelope.magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        put(StateEnvelope.version)
        put(r)
        put(bands)
        put(length)
        bytes += [UInt8](repeating: 7, count: payload)
        put(StateEnvelope.checksum(id: "vca", bytes[...]))
        return bytes
    }

    @Test(arguments: [(UInt32(0), UInt32(5), UInt64(4), 4, "R = 0"), (5, 5, 4, 4, "R = 5 and 5 bands"), (6, 5, 4, 4, "R = 6"),
                      (2, 5, 5, 4, "5 bytes announced, 4 present"), (2, 5, .max, 4, "announced"), (2, 5, 3, 4, "3 bytes announced")])
    func anEnvelopeWithNumbersOutOfRangeIsRefused(_ r: UInt32, _ bands: UInt32, _ length: UInt64, _ payload: Int, _ reason: String) {
        do {
            _ = try StateEnvelope(decoding: Self.crafted(r: r, bands: bands, length: length, payload: payload), plugin: "vca", name: "VCA")
            Issue.record("R = \(r), \(bands) bands, length \(length) was accepted")
        } catch let error as PluginError {
            #expect(error.message.contains(reason), "expected '\(reason)' in: \(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect((try? StateEnvelope(decoding: Self.crafted(r: 2, bands: 5, length: 4, payload: 4), plugin: "vca", name: "VCA")) != nil,
                "the crafted envelope with numbers in range is read")
    }

    // MARK: - Through the C ABI of the built plugins

    static let plugins = ["vca", "nmf", "daeu"]

    @Test(arguments: plugins)
    func modelShapeIsBadStateBeforeAFitAndTheShapeAfterFitAndLoad(_ plugin: String) throws {
        let fitted = try FittedModel(builtPlugin(plugin))
        let fresh = try fitted.freshInstance()
        do {
            let shape = try fresh.modelShape()
            Issue.record("model_shape before any fit gave \(shape)")
        } catch let error as UnmixError {
            #expect(error.message.contains("model_shape failed (bad state)"), "\(error.message)")
        }
        let afterFit = try fitted.instance.modelShape()
        #expect(afterFit.r == fitted.r && afterFit.bands == fitted.cube.bands, "after fit: \(afterFit)")
        try fresh.loadState(fitted.state, r: fitted.r, bands: fitted.cube.bands)
        let afterLoad = try fresh.modelShape()
        #expect(afterLoad.r == fitted.r && afterLoad.bands == fitted.cube.bands, "after load: \(afterLoad)")
        // A failed fit forgets the model, so the shape is unknown again.
        #expect(throws: UnmixError.self) { try fresh.fit(fitted.cube, r: fitted.cube.bands) }
        #expect(throws: UnmixError.self, "model_shape after a failed fit") { try fresh.modelShape() }
    }

    @Test(arguments: plugins)
    func aCorruptedEnvelopeIsRefusedAndTheInstanceKeepsItsModel(_ plugin: String) throws {
        let fitted = try FittedModel(builtPlugin(plugin))
        let other = smallSyntheticCube(seed: 2, side: 8, bands: fitted.cube.bands)
        let expected = try fitted.instance.abundances(other)
        var damaged = [Array(fitted.state.dropLast()), fitted.state + [0]]
        for i in [0, 4, 8, 12, 16, StateEnvelope.headerSize + 3, fitted.state.count / 2, fitted.state.count - 1] {
            var flipped = fitted.state
            flipped[i] ^= 0x10
            damaged.append(flipped)
        }
        for bad in damaged {
            do {
                try fitted.instance.loadState(bad, r: fitted.r, bands: fitted.cube.bands)
                Issue.record("\(plugin) accepted a damaged state of \(bad.count) bytes")
            } catch let error as UnmixError {
                #expect(error.message.contains("load state failed (invalid argument)"), "\(error.message)")
            }
        }
        // The refused loads left the fitted model: same shape through the C ABI, same abundances.
        let shape = try fitted.instance.modelShape()
        #expect(shape.r == fitted.r && shape.bands == fitted.cube.bands, "shape after refused loads: \(shape)")
        expectClose(try fitted.instance.abundances(other, r: fitted.r), expected, tolerance: 0, "\(plugin) abundances after refused loads")
    }

    @Test func bothVersionsOfTheExtensionAreServedWithTheSameSaveAndLoad() throws {
        // The table straight from the library (already loaded by the host's loader, never closed).
        let path = builtProductsDirectory().appendingPathComponent("libunmix_vca.so").path
        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL), "dlopen \(path)")
        let entry = try #require(dlsym(handle, UNMIX_ENTRY_SYMBOL), "no \(UNMIX_ENTRY_SYMBOL)")
        typealias Entry = @convention(c) () -> UnsafePointer<unmix_plugin_t>?
        let table = try #require(unsafeBitCast(entry, to: Entry.self)())
        func ext(_ id: String) -> UnsafeRawPointer? { table.pointee.get_extension(table, id) }
        let v1 = try #require(ext(UNMIX_EXT_STATE)).assumingMemoryBound(to: unmix_state_ext_t.self).pointee
        let v2 = try #require(ext(UNMIX_EXT_STATE_2)).assumingMemoryBound(to: unmix_state2_ext_t.self).pointee
        #expect(ext("unmix.state/3") == nil, "an unknown version is served")
        #expect(unsafeBitCast(v1.save, to: UnsafeRawPointer.self) == unsafeBitCast(v2.save, to: UnsafeRawPointer.self), "save differs")
        #expect(unsafeBitCast(v1.load, to: UnsafeRawPointer.self) == unsafeBitCast(v2.load, to: UnsafeRawPointer.self), "load differs")
    }
}
