import Foundation
import CHDF5

/// Writing HDF5 files the way h5py does, so that Python tools read back what they expect:
/// strings as variable-length UTF-8 scalars, integers as 64-bit, floats as 64-bit, booleans as
/// h5py's 8-bit FALSE/TRUE enum.
extension HDF5Handle where Kind == HDF5FileKind {
    /// Creates (or truncates) the HDF5 file at `path`; messages name it `name` (the file it
    /// will be renamed to, when `path` is a temporary file).
    static func create(_ path: String, named name: String? = nil) throws -> HDF5File {
        let name = name ?? path
        try HDF5.prepare(name)
        let access = try HDF5Plist(H5Pcreate(H5P_CLS_FILE_ACCESS_ID_g), file: name, path: "", "create a file access list")
        try HDF5.check(H5Pset_file_locking(access.id, false, true), "switch file locking off", file: name)
        // Every object at a multiple of 8 bytes, so that readers can map float32 samples in place.
        try HDF5.check(H5Pset_alignment(access.id, 1, 8), "set the alignment", file: name)
        let folder = (path as NSString).deletingLastPathComponent
        guard folder.isEmpty || FileManager.default.fileExists(atPath: folder) else {
            throw UnmixError("cannot write \(name): no such folder \(folder)")
        }
        return try HDF5File(H5Fcreate(path, 2 /* H5F_ACC_TRUNC */, HDF5.defaultPlist, access.id), file: name, path: "/",
                            "create it as HDF5")
    }

    /// Flushes and closes the file now (rather than when the last handle goes), so that a
    /// failure to write is reported.
    func flush() throws {
        try HDF5.check(H5Fflush(id, H5F_SCOPE_GLOBAL), "write it", file: file)
    }
}

extension HDF5Handle where Kind: HDF5Container {
    /// Creates the group `name` in this group.
    func createGroup(_ name: String) throws -> HDF5Group {
        guard HDF5.isLinkName(name) else { throw UnmixError("\(file): '\(name)' cannot name an HDF5 group") }
        return try HDF5Group(H5Gcreate2(id, name, HDF5.defaultPlist, HDF5.defaultPlist, HDF5.defaultPlist), file: file,
                             path: childPath(name), "create the group '\(childPath(name))'")
    }

    /// Writes `values` (C order over `shape`) as the dataset `name`: float32 or float64 little
    /// endian, contiguous, or chunked by `chunks` and deflated at `deflate` (1…9, with shuffle).
    @discardableResult
    func writeDataset<T: HDF5Storable>(_ name: String, _ values: UnsafeBufferPointer<T>, shape: [Int],
                                      chunks: [Int]? = nil, deflate: Int? = nil) throws -> HDF5Dataset {
        let path = childPath(name)
        let what = "write the dataset '\(path)'"
        guard HDF5.isLinkName(name) else { throw UnmixError("\(file): '\(name)' cannot name an HDF5 dataset") }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, { $0 &* $1 }) == values.count, shape.count <= HDF5.maximumRank else {
            throw UnmixError("\(file): cannot \(what): \(values.count) values for shape \(shape)")
        }
        var dims = shape.map { hsize_t($0) }
        let space = try HDF5Space(H5Screate_simple(Int32(dims.count), &dims, nil), file: file, path: path, what)
        let creation = try HDF5Plist(H5Pcreate(H5P_CLS_DATASET_CREATE_ID_g), file: file, path: path, what)
        if let chunks {
            var chunkDims = chunks.map { hsize_t($0) }
            try HDF5.check(H5Pset_chunk(creation.id, Int32(chunkDims.count), &chunkDims), what, file: file)
            if let deflate {
                try HDF5.check(H5Pset_shuffle(creation.id), what, file: file)
                try HDF5.check(H5Pset_deflate(creation.id, UInt32(deflate)), what, file: file)
            }
        }
        let dataset = try HDF5Dataset(H5Dcreate2(id, name, T.fileType, space.id, HDF5.defaultPlist, creation.id, HDF5.defaultPlist),
                                      file: file, path: path, what)
        if let base = values.baseAddress, values.count > 0 {
            try HDF5.check(H5Dwrite(dataset.id, T.memoryType, HDF5.all, HDF5.all, HDF5.defaultPlist, base), what, file: file)
        }
        return dataset
    }
}

/// The element types we write: Float32 and Double, as IEEE little-endian in the file.
protocol HDF5Storable {
    static var fileType: hid_t { get }
    static var memoryType: hid_t { get }
}

extension Float: HDF5Storable {
    static var fileType: hid_t { H5T_IEEE_F32LE_g }
    static var memoryType: hid_t { H5T_NATIVE_FLOAT_g }
}

extension Double: HDF5Storable {
    static var fileType: hid_t { H5T_IEEE_F64LE_g }
    static var memoryType: hid_t { H5T_NATIVE_DOUBLE_g }
}

extension HDF5Handle where Kind: HDF5Object {
    /// Writes the attribute `name` of this object (which must not have one yet).
    func setAttribute(_ name: String, _ value: HDF5Value) throws {
        let what = "write the attribute '\(name)' of \(displayPath)"
        guard !name.isEmpty, !name.utf8.contains(0) else { throw UnmixError("\(file): cannot \(what): invalid name") }
        var count: hsize_t = 1
        let isArray: Bool
        if case .doubles(let values) = value { count = hsize_t(values.count); isArray = true } else { isArray = false }
        let space = try HDF5Space(isArray ? H5Screate_simple(1, &count, nil) : H5Screate(H5S_SCALAR), file: file, path: path, what)
        func create(_ type: hid_t) throws -> HDF5Attribute {
            try HDF5Attribute(H5Acreate2(id, name, type, space.id, HDF5.defaultPlist, HDF5.defaultPlist), file: file, path: path, what)
        }
        switch value {
        case .string(let text):
            let type = try HDF5Type(H5Tcopy(H5T_C_S1_g), file: file, path: path, what)
            try HDF5.check(H5Tset_size(type.id, -1 /* H5T_VARIABLE */), what, file: file)
            try HDF5.check(H5Tset_cset(type.id, H5T_CSET_UTF8), what, file: file)
            let attribute = try create(type.id)
            try text.withCString { pointer in
                var string: UnsafePointer<CChar>? = pointer
                try HDF5.check(H5Awrite(attribute.id, type.id, &string), what, file: file)
            }
        case .integer(let number):
            var number = number
            let attribute = try create(H5T_STD_I64LE_g)
            try HDF5.check(H5Awrite(attribute.id, H5T_NATIVE_INT64_g, &number), what, file: file)
        case .double(let number):
            var number = number
            let attribute = try create(H5T_IEEE_F64LE_g)
            try HDF5.check(H5Awrite(attribute.id, H5T_NATIVE_DOUBLE_g, &number), what, file: file)
        case .bool(let flag):
            let type = try HDF5.booleanType(file: file, what: what)
            var byte: Int8 = flag ? 1 : 0
            let attribute = try create(type.id)
            try HDF5.check(H5Awrite(attribute.id, type.id, &byte), what, file: file)
        case .doubles(let values):
            let attribute = try create(H5T_IEEE_F64LE_g)
            if !values.isEmpty {
                try values.withUnsafeBufferPointer { buffer in
                    _ = try HDF5.check(H5Awrite(attribute.id, H5T_NATIVE_DOUBLE_g, buffer.baseAddress!), what, file: file)
                }
            }
        case .other(let description):
            throw UnmixError("\(file): cannot \(what): \(description) cannot be written")
        }
    }
}

extension HDF5 {
    /// h5py's boolean: an enum over int8 with FALSE = 0 and TRUE = 1 (NumPy reads it as `bool`).
    static func booleanType(file: String, what: String) throws -> HDF5Type {
        let type = try HDF5Type(H5Tenum_create(H5T_NATIVE_INT8_g), file: file, path: "", what)
        var no: Int8 = 0
        var yes: Int8 = 1
        try check(H5Tenum_insert(type.id, "FALSE", &no), what, file: file)
        try check(H5Tenum_insert(type.id, "TRUE", &yes), what, file: file)
        return type
    }
}
