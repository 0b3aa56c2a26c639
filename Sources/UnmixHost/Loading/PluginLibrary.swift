import CLTDL
import CUnmix
import Foundation

/// A plugin library loaded with libltdl, its table checked and its descriptor copied.
///
/// Libraries are made resident and never unloaded: unloading a Swift image crashes the Swift
/// runtime later, and a host has no way to know which language a plugin was written in.
public final class PluginLibrary: @unchecked Sendable {
    public let path: String
    public let descriptor: PluginDescriptor
    let table: UnsafePointer<unmix_plugin_t>

    init(path: String, table: UnsafePointer<unmix_plugin_t>, descriptor: PluginDescriptor) {
        self.path = path
        self.table = table
        self.descriptor = descriptor
    }

    /// Loads the library at `path` and checks it; the error's message is the reason alone
    /// (the caller pairs it with the path).
    public static func load(path: String) throws -> PluginLibrary {
        try LTDL.initialise()
        guard let handle = lt_dlopen(path) else {
            throw UnmixError("cannot load: \(loaderText(path) ?? LTDL.lastError())")
        }
        // Never unload (see the type's note); also stops a later lt_dlexit from closing it.
        _ = lt_dlmakeresident(handle)
        guard let symbol = lt_dlsym(handle, UNMIX_ENTRY_SYMBOL) else {
            throw UnmixError("no '\(UNMIX_ENTRY_SYMBOL)' function: not an unmix plugin")
        }
        typealias Entry = @convention(c) () -> UnsafePointer<unmix_plugin_t>?
        let entry = unsafeBitCast(symbol, to: Entry.self)
        guard let table = entry() else { throw UnmixError("'\(UNMIX_ENTRY_SYMBOL)' returned NULL") }
        let t = table.pointee
        guard t.abi_major == UInt32(UNMIX_ABI_MAJOR) else {
            throw UnmixError("built for plugin ABI \(t.abi_major).\(t.abi_minor), this host speaks ABI \(UNMIX_ABI_MAJOR).\(UNMIX_ABI_MINOR)")
        }
        guard let d = t.descriptor else { throw UnmixError("the plugin table has no descriptor") }
        guard t.create != nil, t.destroy != nil, t.set_params != nil, t.fit != nil, t.abundances != nil,
              t.last_error != nil, t.get_extension != nil else {
            throw UnmixError("the plugin table lacks a required function")
        }
        let descriptor = try PluginDescriptor(d.pointee, abiMajor: t.abi_major, abiMinor: t.abi_minor)
        // The state capability is a promise of the extension: a save that finds none would write
        // an empty model.
        if descriptor.canSaveState && t.get_extension(table, UNMIX_EXT_STATE_2) == nil
            && t.get_extension(table, UNMIX_EXT_STATE) == nil {
            throw UnmixError("descriptor field 'capabilities' declares UNMIX_CAP_STATE, but get_extension offers neither '\(UNMIX_EXT_STATE_2)' nor '\(UNMIX_EXT_STATE)'")
        }
        return PluginLibrary(path: path, table: table, descriptor: descriptor)
    }

    /// A plugin extension by id, or nil.
    func extensionPointer(_ id: String) -> UnsafeRawPointer? {
        table.pointee.get_extension(table, id)
    }
}

/// The dynamic loader's own reason for refusing `path` ("invalid ELF header", "file too short",
/// a missing dependency by name): libltdl reports most of them as "file not found", having
/// tried other file names after the real failure. Asked in a worker, whose process may be
/// spoiled by the attempt.
private func loaderText(_ path: String) -> String? {
    if dlopen(path, RTLD_LAZY | RTLD_LOCAL) != nil { return nil }
    guard let text = dlerror() else { return nil }
    let message = String(cString: text)
    // dlerror starts with the path it was given; the caller names the file already.
    return message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
}

/// The process-wide libltdl session, started once.
enum LTDL {
    private static let started: Int32 = lt_dlinit()

    static func initialise() throws {
        if started != 0 { throw UnmixError("libltdl failed to initialise: \(lastError())") }
    }

    static func lastError() -> String {
        guard let e = lt_dlerror() else { return "unknown libltdl error" }
        return String(cString: e)
    }
}
