import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The conformance suite every plugin must pass (after scikit-learn's `check_estimator`):
/// each first-party plugin the package built, the C example and the `minimal` fixture, loaded
/// through the real loader and driven through `PluginInstance`, as `unmix run` drives them.
@Suite struct ConformanceTests {
    /// The number of endmembers fitted throughout.
    static let r = 3
    /// Two different 16 × 16 × 200 cubes, and one with fewer bands.
    static let cubeA = smallSyntheticCube(seed: 1)
    static let cubeB = smallSyntheticCube(seed: 2)
    static let narrowCube = smallSyntheticCube(seed: 1, side: 8, bands: 100)

    /// A fresh instance with every parameter at its default and the given seed.
    func makeInstance(_ library: PluginLibrary, seed: UInt64 = 1) throws -> PluginInstance {
        let instance = try PluginInstance(library)
        try instance.setParameters(Self.quickValues(library.descriptor), seed: seed)
        return instance
    }

    /// The defaults, with the work budget of iterative methods cut (this suite checks the
    /// contract, not quality: each plugin's own tests check quality at real settings). Only
    /// parameters with these conventional ids are touched, each kept inside its declared range.
    static let quickBudget: [String: Double] = ["epochs": 2, "iterations": 4, "max_iter": 20, "training_spectra": 200]

    static func quickValues(_ d: PluginDescriptor) -> [Double] {
        d.parameters.map { p in
            guard p.kind == .integer, let quick = quickBudget[p.id] else { return p.defaultValue }
            return min(p.defaultValue, max(quick, p.min ?? quick))
        }
    }

    func expectAllFinite(_ values: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            Issue.record("\(what)[\(i)] = \(values[i]) is not finite", sourceLocation: sourceLocation)
        }
    }

    /// The suite must never silently check less than the package builds: the `libunmix_*.so`
    /// files beside the test bundle are exactly the plugin products of Package.swift.
    @Test func everyBuiltPluginIsChecked() throws {
        let declared = try firstPartyPluginProducts().map { "lib\($0).so" }
        #expect(declared.contains("libunmix_vca.so") && declared.count >= 8,
                "firstPartyPlugins as read from Package.swift: \(declared)")
        let built = builtPluginLibraries().map(\.lastPathComponent)
        #expect(Set(built) == Set(declared) && built.count == declared.count,
                "built in \(builtProductsDirectory().path): \(built.sorted()); declared: \(declared.sorted()); missing \(Set(declared).subtracting(built).sorted()), unexpected \(Set(built).subtracting(declared).sorted())")
    }

    @Test(arguments: PluginUnderTest.all)
    func descriptorIsValid(_ plugin: PluginUnderTest) throws {
        let d = try plugin.load().descriptor
        for (field, value) in [("id", d.id), ("name", d.name), ("version", d.version), ("summary", d.summary)] {
            #expect(!value.trimmingCharacters(in: .whitespaces).isEmpty, "descriptor field '\(field)' is empty")
        }
        #expect(d.abiVersion.hasPrefix("1."), "ABI version: expected 1.x, observed \(d.abiVersion)")
        let ids = d.parameters.map(\.id)
        #expect(Set(ids).count == ids.count, "parameter ids are not unique: \(ids)")
        for p in d.parameters {
            #expect(p.defaultValue.isFinite, "\(p.id): default \(p.defaultValue) is not finite")
            if let min = p.min { #expect(p.defaultValue >= min, "\(p.id): default \(p.defaultValue) below min \(min)") }
            if let max = p.max { #expect(p.defaultValue <= max, "\(p.id): default \(p.defaultValue) above max \(max)") }
            if let min = p.min, let max = p.max { #expect(min <= max, "\(p.id): min \(min) > max \(max)") }
            switch p.kind {
            case .choice:
                #expect(!p.choices.isEmpty, "\(p.id): a choice parameter without choices")
                #expect(!p.choices.contains(""), "\(p.id): an empty choice id in \(p.choices)")
                #expect(p.defaultValue >= 0 && p.defaultValue < Double(p.choices.count) && p.defaultValue == p.defaultValue.rounded(),
                        "\(p.id): default \(p.defaultValue) is not a choice index below \(p.choices.count)")
            case .integer:
                #expect(p.defaultValue == p.defaultValue.rounded(), "\(p.id): integer default \(p.defaultValue)")
            case .boolean:
                #expect(p.defaultValue == 0 || p.defaultValue == 1, "\(p.id): boolean default \(p.defaultValue)")
            case .real:
                break
            }
        }
    }

    @Test(arguments: PluginUnderTest.all)
    func fitAndAbundancesHaveTheDocumentedShapes(_ plugin: PluginUnderTest) throws {
        let library = try plugin.load()
        let instance = try makeInstance(library)
        let cube = Self.cubeA
        let endmembers = try instance.fit(cube, r: Self.r)
        #expect(endmembers.count == Self.r * cube.bands, "endmembers: expected \(Self.r * cube.bands) values, observed \(endmembers.count)")
        expectAllFinite(endmembers, "endmembers")
        let abundances = try instance.abundances(cube, r: Self.r)
        #expect(abundances.count == cube.pixels * Self.r)
        expectAllFinite(abundances, "abundances")
        // Abundances of another cube with the same bands but another size.
        let other = smallSyntheticCube(seed: 3, side: 5)
        let otherAbundances = try instance.abundances(other, r: Self.r)
        #expect(otherAbundances.count == other.pixels * Self.r)
        expectAllFinite(otherAbundances, "abundances of a 5 × 5 cube")
    }

    @Test(arguments: PluginUnderTest.all)
    func sameSeedGivesIdenticalResults(_ plugin: PluginUnderTest) throws {
        let library = try plugin.load()
        func once() throws -> (endmembers: [Float], abundances: [Float]) {
            let instance = try makeInstance(library, seed: 7)
            let e = try instance.fit(Self.cubeA, r: Self.r)
            return (e, try instance.abundances(Self.cubeA, r: Self.r))
        }
        let first = try once(), second = try once()
        expectClose(second.endmembers, first.endmembers, tolerance: 0, "endmembers")
        expectClose(second.abundances, first.abundances, tolerance: 0, "abundances")
    }

    /// A new fit forgets the last: fit A then fit B gives what a fresh instance fitted on B gives.
    @Test(arguments: PluginUnderTest.all)
    func aSecondFitForgetsTheFirst(_ plugin: PluginUnderTest) throws {
        let library = try plugin.load()
        let reused = try makeInstance(library)
        _ = try reused.fit(Self.cubeA, r: Self.r)
        _ = try reused.abundances(Self.cubeA, r: Self.r)
        let reusedEndmembers = try reused.fit(Self.cubeB, r: Self.r)
        let reusedAbundances = try reused.abundances(Self.cubeB, r: Self.r)

        let fresh = try makeInstance(library)
        let freshEndmembers = try fresh.fit(Self.cubeB, r: Self.r)
        let freshAbundances = try fresh.abundances(Self.cubeB, r: Self.r)

        expectClose(reusedEndmembers, freshEndmembers, tolerance: 0, "endmembers after fit A, fit B")
        expectClose(reusedAbundances, freshAbundances, tolerance: 0, "abundances after fit A, fit B")
    }

    /// The ABI: `fit` "forgets any earlier fit, even when it fails". After a good fit and a
    /// failing one (R = 0), `abundances` must fail as before any fit.
    @Test(arguments: PluginUnderTest.all)
    func aFailedFitForgetsTheEarlierFit(_ plugin: PluginUnderTest) throws {
        let instance = try makeInstance(try plugin.load())
        _ = try instance.fit(Self.cubeA, r: Self.r)
        #expect(throws: UnmixError.self, "fit with R = 0 must fail") { _ = try instance.fit(Self.cubeA, r: 0) }
        #expect(throws: UnmixError.self, "abundances after a failed fit must fail") {
            _ = try instance.abundances(Self.cubeA, r: Self.r)
        }
    }

    @Test(arguments: PluginUnderTest.all)
    func abundancesBeforeFitFail(_ plugin: PluginUnderTest) throws {
        let instance = try makeInstance(try plugin.load())
        #expect(throws: UnmixError.self) { _ = try instance.abundances(Self.cubeA, r: Self.r) }
    }

    @Test(arguments: PluginUnderTest.all)
    func abundancesOfACubeWithOtherBandsFail(_ plugin: PluginUnderTest) throws {
        let instance = try makeInstance(try plugin.load())
        _ = try instance.fit(Self.cubeA, r: Self.r)
        #expect(throws: UnmixError.self, "\(Self.narrowCube.bands) bands after a fit on \(Self.cubeA.bands)") {
            _ = try instance.abundances(Self.narrowCube, r: Self.r)
        }
        // The instance is still usable afterwards.
        let abundances = try instance.abundances(Self.cubeA, r: Self.r)
        #expect(abundances.count == Self.cubeA.pixels * Self.r)
    }

    /// R outside 1 ≤ R < bands is refused with an error, not a crash.
    @Test(arguments: PluginUnderTest.all, [0, 200, 201])
    func endmemberCountOutOfRangeFails(_ plugin: PluginUnderTest, r: Int) throws {
        let instance = try makeInstance(try plugin.load())
        #expect(Self.cubeA.bands == 200 && Self.cubeA.pixels > 201, "the R table assumes 200 bands and more pixels")
        #expect(throws: UnmixError.self, "fit with R = \(r) on \(Self.cubeA.bands) bands") {
            _ = try instance.fit(Self.cubeA, r: r)
        }
    }

    /// set_params refuses a wrong number of values, and every out-of-range value with a reason
    /// naming the parameter.
    @Test(arguments: PluginUnderTest.all)
    func setParamsRejectsBadValues(_ plugin: PluginUnderTest) throws {
        let library = try plugin.load()
        let d = library.descriptor
        let defaults = d.parameters.map(\.defaultValue)
        let instance = try PluginInstance(library)
        #expect(throws: UnmixError.self, "\(defaults.count + 1) values for \(defaults.count) parameters") {
            try instance.setParameters(defaults + [0], seed: 0)
        }
        for (index, p) in d.parameters.enumerated() {
            var bad = [Double]()
            switch p.kind {
            case .integer, .real:
                if let min = p.min { bad.append(min - 1) }
                if let max = p.max { bad.append(max + 1) }
            case .boolean:
                bad.append(2)
            case .choice:
                bad += [Double(p.choices.count), -1]
            }
            for value in bad {
                var values = defaults
                values[index] = value
                expectUnmixError(containing: [p.id]) { try instance.setParameters(values, seed: 0) }
            }
        }
        // The defaults are still accepted afterwards.
        try instance.setParameters(defaults, seed: 0)
    }

    /// A plugin declares the state capability exactly when it offers the extension; when it
    /// does, a model saved and loaded into a new instance gives the same abundances.
    @Test(arguments: PluginUnderTest.all)
    func stateRoundTrip(_ plugin: PluginUnderTest) throws {
        let library = try plugin.load()
        let instance = try makeInstance(library)
        _ = try instance.fit(Self.cubeA, r: Self.r)
        let expected = try instance.abundances(Self.cubeB, r: Self.r)
        let saved = try instance.saveState()
        #expect((saved != nil) == library.descriptor.canSaveState,
                "state capability \(library.descriptor.canSaveState), extension \(saved != nil ? "present" : "absent")")
        guard let saved, library.descriptor.canSaveState else { return }
        let restored = try makeInstance(library)
        try restored.loadState(saved, r: Self.r)
        let observed = try restored.abundances(Self.cubeB, r: Self.r)
        expectClose(observed, expected, tolerance: 0, "abundances after save and load")
        // A truncated state, or one whose header is altered (the SDK's first value, then the
        // plugin's own first value, a size in every state we ship), is refused with an error
        // (never a trap), and the instance it was offered to still works.
        var altered = [saved, saved]
        for (k, offset) in [0, 16].enumerated() where saved.count >= offset + 8 {
            withUnsafeBytes(of: (-1.5).bitPattern.littleEndian) { altered[k].replaceSubrange(offset..<(offset + 8), with: $0) }
        }
        for bad in [Array(saved.dropLast(8))] + altered {
            #expect(throws: UnmixError.self, "a state of \(bad.count) bytes was accepted") { try restored.loadState(bad, r: Self.r) }
        }
        expectClose(try restored.abundances(Self.cubeB, r: Self.r), expected, tolerance: 0, "abundances after a refused load")
        // Any 8-byte word replaced by a hostile value (the headers, every k-th word after them,
        // the end) is loaded or refused with an error, never a trap or a runaway allocation:
        // this test runs in-process, so a trap would end the whole run. The probe holds the good
        // model throughout: a refused load must leave it as it was (the ABI's "leave the instance
        // as it was"), checked by its abundances; after an accepted one the good model must load
        // again. (Abundances are not asked of an accepted hostile model: under unmix.state/1 the
        // host cannot know its R, and a changed R would write past the buffer.)
        let probe = try makeInstance(library)
        try probe.loadState(saved, r: Self.r)
        let words = saved.count / 8
        let positions = Set(Array(0..<min(words, 24)) + Array(stride(from: 24, to: words, by: max(1, words / 16)))
                            + Array(max(0, words - 4)..<words))
        var refused = 0
        for word in positions.sorted() {
            for value in [Double.nan, -1, 9_007_199_254_740_992, 7] {   // not an integer, negative, huge, plausible
                var bad = saved
                withUnsafeBytes(of: value.bitPattern.littleEndian) { bad.replaceSubrange((word * 8)..<(word * 8 + 8), with: $0) }
                guard bad != saved else { continue }
                let what = "word \(word) of \(words) = \(value)"
                let accepted: Bool
                do {
                    try probe.loadState(bad, r: Self.r)
                    accepted = true
                } catch let error as UnmixError {
                    #expect(error.message.hasPrefix("\(library.descriptor.id): load state failed"),
                            "\(what): refused with \"\(error.message)\"")
                    accepted = false
                } catch {
                    Issue.record("\(what): \(error) is not an UnmixError")
                    return
                }
                if accepted {
                    try probe.loadState(saved, r: Self.r)   // fails the test when the good model no longer loads
                } else {
                    refused += 1
                    let after = try probe.abundances(Self.cubeB, r: Self.r)
                    if after != expected {
                        expectClose(after, expected, tolerance: 0, "abundances after the refused load of \(what)")
                        return
                    }
                }
            }
        }
        // Some of them are refused (a header word set to NaN or -1 at least), or the probe proved nothing.
        #expect(refused > 0, "none of \(positions.count * 4) altered states was refused")
    }
}
