import CUnmix
import Foundation

/// Builds the C plugin table for `type` and returns it; call it from the library's one
/// exported function:
///
/// ```swift
/// @_cdecl("unmix_plugin_entry")
/// public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(VCA.self) }
/// ```
///
/// Each plugin library holds its own copy of this SDK (Swift modules are linked statically into
/// every plugin), so the registration below is per library. The table, descriptor and strings
/// are built once and live as long as the library.
public func exportPlugin<U: Unmixer>(_ type: U.Type) -> UnsafeRawPointer {
    registrationLock.lock()
    defer { registrationLock.unlock() }
    if let table = registration?.table { return UnsafeRawPointer(table) }
    let made = Registration(
        table: makeTable(descriptor: makeDescriptor(U.self)),
        makeBox: { ModelBox<U>() },
        stateExtensions: (U.self as? any StatefulUnmixer.Type) != nil ? makeStateExtensions() : nil)
    registration = made
    return UnsafeRawPointer(made.table)
}

// MARK: - Registration

private struct Registration {
    let table: UnsafeMutablePointer<unmix_plugin_t>
    let makeBox: () -> AnyModelBox
    /// `unmix.state/2` and `unmix.state/1` (the same save and load), for a `StatefulUnmixer`.
    let stateExtensions: (v2: UnsafeMutablePointer<unmix_state2_ext_t>, v1: UnsafeMutablePointer<unmix_state_ext_t>)?
}

nonisolated(unsafe) private var registration: Registration?
private let registrationLock = NSLock()

/// A C string that lives as long as the library.
private func permanent(_ s: String?) -> UnsafePointer<CChar>? {
    guard let s else { return nil }
    return UnsafePointer(strdup(s))
}

private func makeDescriptor<U: Unmixer>(_ type: U.Type) -> UnsafeMutablePointer<unmix_descriptor_t> {
    let info = U.info
    let defaults = U()
    let parameters = U.parameters
    var ids = Set<String>()
    for p in parameters {
        precondition(ids.insert(p.id).inserted, "plugin \(info.id): parameter id '\(p.id)' declared twice")
        if let problem = p.problem(with: p.get(defaults)) {
            preconditionFailure("plugin \(info.id): default of \(problem)")
        }
    }
    let params = UnsafeMutablePointer<unmix_param_info_t>.allocate(capacity: max(1, parameters.count))
    for (i, p) in parameters.enumerated() {
        var c = unmix_param_info_t()
        c.id = permanent(p.id)
        c.help = permanent(p.help)
        c.unit = permanent(p.unit)
        c.default_value = p.get(defaults)
        switch p.kind {
        case let .integer(min, max):
            c.type = unmix_param_type(UNMIX_PARAM_INTEGER)
            if let min { c.flags |= UInt32(UNMIX_PARAM_HAS_MIN); c.min_value = Double(min) }
            if let max { c.flags |= UInt32(UNMIX_PARAM_HAS_MAX); c.max_value = Double(max) }
        case let .real(min, max, logScale):
            c.type = unmix_param_type(UNMIX_PARAM_REAL)
            if let min { c.flags |= UInt32(UNMIX_PARAM_HAS_MIN); c.min_value = min }
            if let max { c.flags |= UInt32(UNMIX_PARAM_HAS_MAX); c.max_value = max }
            if logScale { c.flags |= UInt32(UNMIX_PARAM_LOG_SCALE) }
        case .boolean:
            c.type = unmix_param_type(UNMIX_PARAM_BOOLEAN)
            c.flags = UInt32(UNMIX_PARAM_HAS_MIN | UNMIX_PARAM_HAS_MAX)
            c.min_value = 0
            c.max_value = 1
        case let .choice(names):
            c.type = unmix_param_type(UNMIX_PARAM_CHOICE)
            let list = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: names.count)
            for (k, name) in names.enumerated() { list[k] = permanent(name) }
            c.choice_count = UInt32(names.count)
            c.choices = UnsafePointer(list)
        }
        params[i] = c
    }
    var capabilities = info.capabilities
    if U.self is any StatefulUnmixer.Type { capabilities.insert(.state) } else { capabilities.remove(.state) }
    let d = UnsafeMutablePointer<unmix_descriptor_t>.allocate(capacity: 1)
    d.initialize(to: unmix_descriptor_t(
        id: permanent(info.id), name: permanent(info.name), version: permanent(info.version),
        summary: permanent(info.summary), description: permanent(info.description),
        authors: permanent(info.authors), license: permanent(info.license), url: permanent(info.url),
        capabilities: capabilities.rawValue, param_count: UInt32(parameters.count),
        params: parameters.isEmpty ? nil : UnsafePointer(params)))
    return d
}

// MARK: - The C thunks (non-generic: they reach the model through the registration)

private func instance(_ p: OpaquePointer) -> Instance {
    Unmanaged<Instance>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

private func makeTable(descriptor: UnsafeMutablePointer<unmix_descriptor_t>) -> UnsafeMutablePointer<unmix_plugin_t> {
    let table = UnsafeMutablePointer<unmix_plugin_t>.allocate(capacity: 1)
    table.initialize(to: unmix_plugin_t(
        abi_major: UInt32(UNMIX_ABI_MAJOR),
        abi_minor: UInt32(UNMIX_ABI_MINOR),
        descriptor: UnsafePointer(descriptor),
        create: { host in
            guard let registration else { return nil }
            let made = Instance(host: host, box: registration.makeBox())
            return OpaquePointer(Unmanaged.passRetained(made).toOpaque())
        },
        destroy: { p in
            guard let p else { return }
            Unmanaged<Instance>.fromOpaque(UnsafeRawPointer(p)).release()
        },
        set_params: { p, values, count, seed in
            guard let p else { return unmix_status(UNMIX_ERR_INVALID_ARGUMENT) }
            let me = instance(p)
            return me.guarded { try me.setParams(values, Int(count), seed) }
        },
        fit: { p, cube, r, out in
            guard let p else { return unmix_status(UNMIX_ERR_INVALID_ARGUMENT) }
            let me = instance(p)
            return me.guarded { try me.fit(cube, Int(r), out) }
        },
        abundances: { p, cube, out in
            guard let p else { return unmix_status(UNMIX_ERR_INVALID_ARGUMENT) }
            let me = instance(p)
            return me.guarded { try me.abundances(cube, out) }
        },
        last_error: { p in
            guard let p else { return nil }
            return UnsafePointer(instance(p).lastError)
        },
        get_extension: { _, id in
            guard let id, let registration else { return nil }
            guard let state = registration.stateExtensions else { return nil }
            if strcmp(id, UNMIX_EXT_STATE_2) == 0 { return UnsafeRawPointer(state.v2) }
            if strcmp(id, UNMIX_EXT_STATE) == 0 { return UnsafeRawPointer(state.v1) }
            return nil
        }))
    return table
}

/// The state thunks, shared by both versions of the extension.
private let saveThunk: @convention(c) (OpaquePointer?, unmix_write_fn?, UnsafeMutableRawPointer?) -> unmix_status = { p, write, context in
    guard let p else { return unmix_status(UNMIX_ERR_INVALID_ARGUMENT) }
    let me = instance(p)
    return me.guarded {
        guard let write else { throw PluginError.invalidArgument("save: no write function") }
        let bytes = try me.saveState()
        let ok = bytes.withUnsafeBytes { write(context, $0.baseAddress, $0.count) }
        if !ok { throw PluginError(.internal, "save: the host's write function failed") }
    }
}

private let loadThunk: @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> unmix_status = { p, bytes, size in
    guard let p else { return unmix_status(UNMIX_ERR_INVALID_ARGUMENT) }
    let me = instance(p)
    return me.guarded {
        guard let bytes else { throw PluginError.invalidArgument("load: no bytes") }
        try me.loadState(Array(UnsafeRawBufferPointer(start: bytes, count: size)))
    }
}

private func makeStateExtensions() -> (v2: UnsafeMutablePointer<unmix_state2_ext_t>, v1: UnsafeMutablePointer<unmix_state_ext_t>) {
    let v1 = UnsafeMutablePointer<unmix_state_ext_t>.allocate(capacity: 1)
    v1.initialize(to: unmix_state_ext_t(save: saveThunk, load: loadThunk))
    let v2 = UnsafeMutablePointer<unmix_state2_ext_t>.allocate(capacity: 1)
    v2.initialize(to: unmix_state2_ext_t(
        save: saveThunk,
        load: loadThunk,
        model_shape: { p, r, bands in
            guard let p, let r, let bands else { return unmix_status(UNMIX_ERR_INVALID_ARGUMENT) }
            let me = instance(p)
            return me.guarded {
                let shape = try me.modelShape()
                r.pointee = UInt32(shape.r)
                bands.pointee = UInt32(shape.bands)
            }
        }))
    return (v2, v1)
}
