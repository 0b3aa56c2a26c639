import Foundation
import Testing
import UnmixHost
import _TestSupport

/// The hostile libraries of `installHostileLibraries` (Tests/Fixtures/plugins/hostile.c and the
/// odd files): that each one is what its name says, and what the in-process descriptor checks
/// already refuse. Nothing here calls a mode whose harm would reach this process (crashes, exits,
/// loops, sleeps, overruns, the 100 GB allocation, stdout): those are for tests against workers.
@Suite struct HostileFixtureTests {
    @Test(arguments: HostileMode.compiled)
    func eachModeCompiles(_ mode: HostileMode) throws {
        try withTemporaryDirectory { dir in
            let url = try buildHostilePlugin(mode, into: dir)
            #expect(url.lastPathComponent == mode.fileName)
            let head = try FileHandle(forReadingFrom: url).read(upToCount: 4) ?? Data()
            #expect(head == Data([0x7F, 0x45, 0x4C, 0x46]), "\(mode.fileName) is not an ELF file: \(Array(head))")
            // Only the library is left behind (the missing dependency's helper is gone).
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            #expect(left == [mode.fileName], "left in the folder: \(left)")
        }
    }

    /// Every mode and odd file in one folder, under names discovery would look at, each once.
    @Test func installPlacesEveryModeUnderAPluginName() throws {
        try withTemporaryDirectory { dir in
            let placed = try installHostileLibraries(HostileMode.allCases, into: dir)
            #expect(Set(placed.keys) == Set(HostileMode.allCases), "placed \(placed.keys.map(\.rawValue).sorted())")
            let names = placed.values.map(\.lastPathComponent)
            #expect(Set(names).count == HostileMode.allCases.count, "file names collide: \(names.sorted())")
            let ignored = names.filter { !PluginSearchPath.isPluginFileName($0) }
            #expect(ignored.isEmpty, "discovery would not look at \(ignored)")
            let inFolder = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            #expect(Set(inFolder) == Set(names), "the folder holds \(inFolder.sorted())")
        }
    }

    /// The odd files are what they are named: a text file, an empty file, a FIFO, and a library
    /// the dynamic loader refuses for its missing helper (asked of dlopen itself, not the host:
    /// what the host reports is the loader's business). The FIFO is never opened.
    @Test func oddFilesAreWhatTheyAreNamed() throws {
        try withTemporaryDirectory { dir in
            let placed = try installHostileLibraries([.notELF, .empty, .fifo, .missingDependency], into: dir)
            func type(_ mode: HostileMode) -> mode_t {
                var s = stat()
                return lstat(placed[mode]!.path, &s) == 0 ? s.st_mode & S_IFMT : 0
            }
            #expect(type(.fifo) == S_IFIFO, "libunmix_fifo.so: mode \(String(type(.fifo), radix: 8))")
            for mode in [HostileMode.notELF, .empty, .missingDependency] {
                #expect(type(mode) == S_IFREG, "\(mode.fileName) is not a regular file")
            }
            let text = try Data(contentsOf: placed[.notELF]!)
            #expect(!text.isEmpty && text.prefix(4) != Data([0x7F, 0x45, 0x4C, 0x46]), "libunmix_text.so: \(Array(text.prefix(4)))")
            #expect(try Data(contentsOf: placed[.empty]!).isEmpty)

            // dlopen's own reasons (the libraries are never mapped, so nothing runs).
            func dlopenError(_ mode: HostileMode) -> String {
                withPluginLoaderLock {
                    if let handle = dlopen(placed[mode]!.path, RTLD_NOW | RTLD_LOCAL) {
                        dlclose(handle)
                        return "loaded"
                    }
                    return dlerror().map { String(cString: $0) } ?? "no dlerror text"
                }
            }
            let needs = dlopenError(.missingDependency)
            #expect(needs.contains("libhostile_helper.so") && needs.contains("No such file"), "libunmix_needs.so: \(needs)")
            let notELF = dlopenError(.notELF)
            #expect(notELF.contains("invalid ELF header"), "libunmix_text.so: \(notELF)")
            let empty = dlopenError(.empty)
            #expect(empty.contains("file too short"), "libunmix_empty.so: \(empty)")
        }
    }

    /// The table modes that are safe to load in-process are refused by the descriptor checks,
    /// each with its one line. (lying_choices is left out: a checker that read its 1000
    /// choices would crash this process. The host's checks refuse a choice_count above 256
    /// before reading any, which DescriptorCheckTests shows with choice_count 257.)
    @Test(arguments: [
        (HostileMode.nanBounds, ["descriptor field 'params[0].min_value'", "(parameter 'alpha')", "is NaN"]),
        (HostileMode.hugeDefault, ["descriptor field 'params[0].default_value'", "(parameter 'method')", "no choice #1e+300"]),
        (HostileMode.stateFlag, ["descriptor field 'capabilities'", "UNMIX_CAP_STATE", "unmix.state/2", "unmix.state/1"]),
    ])
    func tableModesAreRefused(mode: HostileMode, fragments: [String]) throws {
        try withTemporaryDirectory { dir in
            let url = try buildHostilePlugin(mode, into: dir)
            expectUnmixError(containing: fragments) {
                _ = try withPluginLoaderLock { try PluginLibrary.load(path: url.path) }
            }
        }
    }

    /// shadow's table is valid on its own (id "evil", name "VCA"): whether a name may answer for
    /// another plugin's id is decided among all plugins found, not by one descriptor.
    @Test func shadowHasAValidTable() throws {
        try withTemporaryDirectory { dir in
            let url = try buildHostilePlugin(.shadow, into: dir)
            let d = try withPluginLoaderLock { try PluginLibrary.load(path: url.path) }.descriptor
            #expect(d.id == "evil" && d.name == "VCA", "id \(d.id), name \(d.name)")
        }
    }

    /// The modes whose harm waits for a call have a valid table (so a host fails on them for the
    /// named behaviour only): the id, the two abundance promises, no parameters. Loading runs
    /// only their entry function, which is plain.
    @Test(arguments: [HostileMode.crashFit, .abortFit, .exitFit, .loopFit, .sleepCreate, .nanEndmembers, .infAbundances,
                      .nanAbundances, .overrun, .hugeAlloc, .forgedError, .wrongShape])
    func callTimeModesHaveAValidTable(_ mode: HostileMode) throws {
        try withTemporaryDirectory { dir in
            let url = try buildHostilePlugin(mode, into: dir)
            let d = try withPluginLoaderLock { try PluginLibrary.load(path: url.path) }.descriptor
            #expect(d.id == mode.pluginID, "id: expected \(mode.pluginID ?? "-"), observed \(d.id)")
            #expect(d.capabilities == 0x30, "capabilities: expected nonnegative | sum-to-one (0x30), observed 0x\(String(d.capabilities, radix: 16))")
            #expect(d.parameters.isEmpty, "parameters: \(d.parameters.map(\.id))")
        }
    }

    /// The result modes that are harmless in-process really return what they are named for
    /// (otherwise a host test against them could pass for want of anything to catch): on a
    /// 4 × 4 × 10 cube with R = 2.
    @Test(arguments: [HostileMode.nanEndmembers, .infAbundances, .nanAbundances, .wrongShape, .forgedError])
    func resultModesMisbehaveAsNamed(_ mode: HostileMode) throws {
        try withTemporaryDirectory { dir in
            let url = try buildHostilePlugin(mode, into: dir)
            let library = try withPluginLoaderLock { try PluginLibrary.load(path: url.path) }
            let instance = try PluginInstance(library)
            try instance.setParameters([], seed: 0)
            let cube = smallSyntheticCube(seed: 1, side: 4, bands: 10)
            if mode == .forgedError {
                // Whatever the host makes of the text (cutting it to one printable line is its
                // job), the fit fails with the forged reason.
                do {
                    _ = try instance.fit(cube, r: 2)
                    Issue.record("fit succeeded")
                } catch let error as UnmixError {
                    #expect(error.message.contains("forged"), "reason: \(error.message.debugDescription)")
                }
                return
            }
            let endmembers = try instance.fit(cube, r: 2)
            let abundances = try instance.abundances(cube)
            let badEndmembers = endmembers.filter { !$0.isFinite }.count
            let badAbundances = abundances.filter { !$0.isFinite }.count
            let sums = stride(from: 0, to: abundances.count, by: 2).map { abundances[$0] + abundances[$0 + 1] }
            switch mode {
            case .nanEndmembers:
                #expect(badEndmembers == 1 && endmembers[1].isNaN, "non-finite endmembers: \(badEndmembers), e[1] = \(endmembers[1])")
            case .infAbundances:
                #expect(badAbundances == 1 && abundances[abundances.count - 2] == .infinity, "non-finite abundances: \(badAbundances)")
            case .nanAbundances:
                #expect(badAbundances == 1 && abundances[0].isNaN, "non-finite abundances: \(badAbundances), a[0] = \(abundances[0])")
            default:
                #expect(sums.allSatisfy { Swift.abs($0 - 3) < 1e-6 }, "pixel sums: \(sums)")
            }
            if mode != .nanEndmembers { #expect(badEndmembers == 0, "non-finite endmembers: \(badEndmembers)") }
        }
    }
}
