import CHDF5

/// What closes an HDF5 identifier of one kind, and what to call it in messages.
protocol HDF5Kind {
    static func close(_ id: hid_t) -> herr_t
}

/// Files, groups and datasets: objects that carry attributes.
protocol HDF5Object: HDF5Kind {}
/// Files and groups: objects that hold links to other objects.
protocol HDF5Container: HDF5Object {}

enum HDF5FileKind: HDF5Container { static func close(_ id: hid_t) -> herr_t { H5Fclose(id) } }
enum HDF5GroupKind: HDF5Container { static func close(_ id: hid_t) -> herr_t { H5Gclose(id) } }
enum HDF5DatasetKind: HDF5Object { static func close(_ id: hid_t) -> herr_t { H5Dclose(id) } }
enum HDF5AttributeKind: HDF5Kind { static func close(_ id: hid_t) -> herr_t { H5Aclose(id) } }
enum HDF5SpaceKind: HDF5Kind { static func close(_ id: hid_t) -> herr_t { H5Sclose(id) } }
enum HDF5TypeKind: HDF5Kind { static func close(_ id: hid_t) -> herr_t { H5Tclose(id) } }
enum HDF5PlistKind: HDF5Kind { static func close(_ id: hid_t) -> herr_t { H5Pclose(id) } }

/// One open HDF5 identifier of kind `Kind`, closed when the last reference goes. `file` (the
/// path the user gave) and `path` (the object inside the file) name it in messages.
final class HDF5Handle<Kind: HDF5Kind> {
    let id: hid_t
    let file: String
    let path: String

    /// Takes ownership of `id`, the result of an HDF5 call doing `what`: an `UnmixError` when
    /// the call failed (negative identifier).
    init(_ id: hid_t, file: String, path: String, _ what: @autoclosure () -> String) throws {
        guard id >= 0 else { throw HDF5.failure(what(), file: file) }
        self.id = id
        self.file = file
        self.path = path
    }

    deinit { _ = Kind.close(id) }

    /// `path` for messages: "'Experiments/x/data'", or "the root group".
    var displayPath: String { path.isEmpty || path == "/" ? "the root group" : "'\(path)'" }

    /// The path of the child `name` of this object.
    func childPath(_ name: String) -> String { path.isEmpty || path == "/" ? name : "\(path)/\(name)" }
}

typealias HDF5File = HDF5Handle<HDF5FileKind>
typealias HDF5Group = HDF5Handle<HDF5GroupKind>
typealias HDF5Dataset = HDF5Handle<HDF5DatasetKind>
typealias HDF5Attribute = HDF5Handle<HDF5AttributeKind>
typealias HDF5Space = HDF5Handle<HDF5SpaceKind>
typealias HDF5Type = HDF5Handle<HDF5TypeKind>
typealias HDF5Plist = HDF5Handle<HDF5PlistKind>
