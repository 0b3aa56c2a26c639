import CHDF5

/// Reading HDF5 files: opening, walking links, attributes and datasets. Every size HDF5 reports
/// from the file is bounded before it sizes an allocation of ours.
enum HDF5Limits {
    /// At most this many links per group are listed.
    static let links = 10_000
    /// At most this many elements in an attribute, and bytes in a fixed-length string.
    static let attributeElements = 1 << 20
    /// At most this many bytes in a link name.
    static let nameBytes = 4096
}

/// What a link names: a group, a dataset, or something we do not follow (a soft or external
/// link, a named datatype).
enum HDF5ObjectType: Equatable {
    case group, dataset, other
}

extension HDF5Handle where Kind == HDF5FileKind {
    /// Opens the HDF5 file at `path` read-only (without file locking, which fails on read-only
    /// and network file systems and protects nothing when reading).
    static func open(_ path: String) throws -> HDF5File {
        try HDF5.prepare(path)
        let access = try HDF5Plist(H5Pcreate(H5P_CLS_FILE_ACCESS_ID_g), file: path, path: "", "create a file access list")
        try HDF5.check(H5Pset_file_locking(access.id, false, true), "switch file locking off", file: path)
        return try HDF5File(H5Fopen(path, 0 /* H5F_ACC_RDONLY */, access.id), file: path, path: "/", "open it as HDF5")
    }
}

// MARK: - Links

extension HDF5Handle where Kind: HDF5Container {
    /// The names of the links in this group, in name order (HDF5's default index, the order
    /// h5py and HyperSpy list them).
    func childNames() throws -> [String] {
        var info = H5G_info_t()
        try HDF5.check(H5Gget_info(id, &info), "list \(displayPath)", file: file)
        guard info.nlinks <= UInt64(HDF5Limits.links) else {
            throw UnmixError("\(file): \(displayPath) holds \(info.nlinks) links (at most \(HDF5Limits.links) are read)")
        }
        var names = [String]()
        for index in 0..<info.nlinks {
            let length = try HDF5.check(H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, HDF5.defaultPlist),
                                        "read the name of link \(index) of \(displayPath)", file: file)
            guard length <= HDF5Limits.nameBytes else {
                throw UnmixError("\(file): link \(index) of \(displayPath) has a \(length)-byte name")
            }
            var buffer = [CChar](repeating: 0, count: length + 1)
            try HDF5.check(H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, length + 1, HDF5.defaultPlist),
                           "read the name of link \(index) of \(displayPath)", file: file)
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// What the link `name` of this group points to; nil when there is no such link. Only
    /// hard links are followed: a soft or external link (which could lead to another file) is
    /// `.other`.
    func childType(_ name: String) throws -> HDF5ObjectType? {
        guard HDF5.isLinkName(name) else { return nil }
        let exists = try HDF5.check(H5Lexists(id, name, HDF5.defaultPlist), "look for '\(childPath(name))'", file: file)
        guard exists > 0 else { return nil }
        var link = H5L_info_t()
        try HDF5.check(H5Lget_info(id, name, &link, HDF5.defaultPlist), "read the link '\(childPath(name))'", file: file)
        guard link.type == H5L_TYPE_HARD else { return .other }
        var object = H5O_info_t()
        try HDF5.check(H5Oget_info_by_name2(id, name, &object, UInt32(H5O_INFO_BASIC), HDF5.defaultPlist),
                       "read the object '\(childPath(name))'", file: file)
        switch object.type {
        case H5O_TYPE_GROUP: return .group
        case H5O_TYPE_DATASET: return .dataset
        default: return .other
        }
    }

    /// The group linked as `name` (a hard link to a group, else an `UnmixError`).
    func group(_ name: String) throws -> HDF5Group {
        guard try childType(name) == .group else { throw UnmixError("\(file): '\(childPath(name))' is not a group") }
        return try HDF5Group(H5Gopen2(id, name, HDF5.defaultPlist), file: file, path: childPath(name),
                             "open the group '\(childPath(name))'")
    }

    /// The dataset linked as `name` (a hard link to a dataset, else an `UnmixError`).
    func dataset(_ name: String) throws -> HDF5Dataset {
        guard try childType(name) == .dataset else { throw UnmixError("\(file): '\(childPath(name))' is not a dataset") }
        return try HDF5Dataset(H5Dopen2(id, name, HDF5.defaultPlist), file: file, path: childPath(name),
                               "open the dataset '\(childPath(name))'")
    }
}

extension HDF5 {
    /// Whether `name` can be a link name (one path component); false for names HDF5 would
    /// read as a path.
    static func isLinkName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && !name.contains("/") && !name.utf8.contains(0)
    }
}

// MARK: - Attributes

extension HDF5Handle where Kind: HDF5Object {
    /// The attribute `name` of this object, or nil when it has none.
    func attribute(_ name: String) throws -> HDF5Value? {
        let exists = try HDF5.check(H5Aexists(id, name), "look for the attribute '\(name)' of \(displayPath)", file: file)
        guard exists > 0 else { return nil }
        let what = "read the attribute '\(name)' of \(displayPath)"
        let attribute = try HDF5Attribute(H5Aopen(id, name, HDF5.defaultPlist), file: file, path: path, what)
        let type = try HDF5Type(H5Aget_type(attribute.id), file: file, path: path, what)
        let space = try HDF5Space(H5Aget_space(attribute.id), file: file, path: path, what)
        return try HDF5.readValue(type: type, space: space, what: what, file: file) { memoryType, buffer in
            H5Aread(attribute.id, memoryType, buffer)
        }
    }

    /// The attribute `name` as a string: nil when absent or not a string.
    func stringAttribute(_ name: String) throws -> String? { try attribute(name)?.string }

    /// The attribute `name` as a number: nil when absent or not a number.
    func numberAttribute(_ name: String) throws -> Double? { try attribute(name)?.number }
}

extension HDF5 {
    /// Reads a value stored with `type` over `space` (an attribute, or a small dataset) through
    /// `read(memoryType, buffer)`. Strings, numbers and enums are read; sizes are bounded.
    static func readValue(type: HDF5Type, space: HDF5Space, what: String, file: String,
                          read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> HDF5Value {
        let count = try check(H5Sget_simple_extent_npoints(space.id), what, file: file)
        guard count <= HDF5Limits.attributeElements else { return .other("an array of \(count) elements") }
        let elements = Int(count)
        let typeClass = H5Tget_class(type.id)
        switch typeClass {
        case H5T_STRING:
            guard elements == 1 else { return .other(elements == 0 ? "an empty string array" : "an array of \(elements) strings") }
            return .string(try readString(type: type, what: what, file: file, read: read))
        case H5T_INTEGER, H5T_FLOAT:
            var values = [Double](repeating: 0, count: elements)
            if elements > 0 {
                try values.withUnsafeMutableBytes { buffer in
                    _ = try check(read(H5T_NATIVE_DOUBLE_g, buffer.baseAddress!), what, file: file)
                }
            }
            if elements == 1 {
                if typeClass == H5T_INTEGER, let exact = Int64(exactly: values[0]) { return .integer(exact) }
                return .double(values[0])
            }
            return .doubles(values)
        case H5T_ENUM:
            guard elements == 1 else { return .other("an array of \(elements) enum values") }
            return try readEnum(type: type, what: what, file: file, read: read)
        default:
            return .other("a value of HDF5 class \(typeClass.rawValue)")
        }
    }

    /// One string, variable-length or fixed-length (any padding; cut at the first NUL).
    private static func readString(type: HDF5Type, what: String, file: String,
                                   read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> String {
        let memory = try HDF5Type(H5Tcopy(H5T_C_S1_g), file: file, path: type.path, what)
        let variable = try check(H5Tis_variable_str(type.id), what, file: file) > 0
        if variable {
            try check(H5Tset_size(memory.id, -1 /* H5T_VARIABLE */), what, file: file)
            try check(H5Tset_cset(memory.id, H5Tget_cset(type.id) == H5T_CSET_UTF8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), what, file: file)
            var pointer: UnsafeMutablePointer<CChar>? = nil
            try withUnsafeMutablePointer(to: &pointer) { _ = try check(read(memory.id, UnsafeMutableRawPointer($0)), what, file: file) }
            guard let pointer else { return "" }
            defer { H5free_memory(pointer) }
            return String(cString: pointer)
        }
        let size = H5Tget_size(type.id)
        guard size > 0, size <= HDF5Limits.attributeElements else {
            throw UnmixError("\(file): cannot \(what): a fixed-length string of \(size) bytes")
        }
        try check(H5Tset_size(memory.id, size), what, file: file)
        try check(H5Tset_strpad(memory.id, H5T_STR_NULLPAD), what, file: file)
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBytes { buffer in _ = try check(read(memory.id, buffer.baseAddress!), what, file: file) }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An enum value (h5py's booleans are an 8-bit enum) as its integer value, read without
    /// conversion and decoded by the size, sign and byte order of the enum's base type.
    private static func readEnum(type: HDF5Type, what: String, file: String,
                                 read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> HDF5Value {
        let base = try HDF5Type(H5Tget_super(type.id), file: file, path: type.path, what)
        let size = H5Tget_size(type.id)
        guard [1, 2, 4, 8].contains(size), H5Tget_size(base.id) == size else { return .other("an enum of \(size) bytes") }
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBytes { buffer in _ = try check(read(type.id, buffer.baseAddress!), what, file: file) }
        let bigEndian = H5Tget_order(base.id) == H5T_ORDER_BE
        var raw: UInt64 = 0
        for byte in bigEndian ? bytes : bytes.reversed() { raw = raw << 8 | UInt64(byte) }
        if H5Tget_sign(base.id) == H5T_SGN_2, size < 8, raw >> (size * 8 - 1) & 1 == 1 {
            raw |= ~0 << UInt64(size * 8)
        }
        return .integer(Int64(bitPattern: raw))
    }
}
