import CHDF5

/// How a dataset is stored: its shape, element type, layout and filters, and where its bytes
/// are. A reader checks these (sizes against the file, filters against the library) before it
/// asks HDF5 for the samples.
struct HDF5Storage {
    enum Layout: String {
        case compact, contiguous, chunked, virtual, other
    }

    /// Dimensions, slowest first (C order); empty for a scalar.
    var shape: [Int]
    var typeClass: H5T_class_t
    /// Bytes per element.
    var typeSize: Int
    var isSigned: Bool
    /// The standard type the element type equals (two's-complement integers and IEEE floats,
    /// either byte order), which `RawLayout` can decode from the file's bytes; nil otherwise.
    var standard: (type: SampleType, order: ByteOrder)?
    var layout: Layout
    /// The chunk dimensions of a chunked dataset.
    var chunk: [Int]?
    /// The filters (compression, shuffle, …) in the pipeline: HDF5's id, its name, and whether
    /// this library has it.
    var filters: [(id: Int32, name: String, available: Bool)]
    /// How many external files hold the samples (raw data outside the HDF5 file).
    var externalFiles: Int
    /// The byte offset of the samples in the file, for a contiguous dataset whose space is
    /// allocated; nil otherwise.
    var offset: Int?
    /// The bytes of the file the samples occupy (compressed size for a filtered dataset).
    var storedBytes: UInt64

    /// The element count, or an `UnmixError` when it overflows.
    func elementCount(_ name: String) throws -> Int {
        try shape.reduce(1) { try $0.checkedTimes($1, "\(name): shape \(shape)") }
    }
}

extension HDF5 {
    /// The standard types `RawLayout` decodes, with their predefined HDF5 identifiers (valid
    /// once the library is open).
    static var standardTypes: [(id: hid_t, type: SampleType, order: ByteOrder)] {
        [(H5T_STD_I8LE_g, .int8, .little), (H5T_STD_I8BE_g, .int8, .big),
         (H5T_STD_U8LE_g, .uint8, .little), (H5T_STD_U8BE_g, .uint8, .big),
         (H5T_STD_I16LE_g, .int16, .little), (H5T_STD_I16BE_g, .int16, .big),
         (H5T_STD_U16LE_g, .uint16, .little), (H5T_STD_U16BE_g, .uint16, .big),
         (H5T_STD_I32LE_g, .int32, .little), (H5T_STD_I32BE_g, .int32, .big),
         (H5T_STD_U32LE_g, .uint32, .little), (H5T_STD_U32BE_g, .uint32, .big),
         (H5T_STD_I64LE_g, .int64, .little), (H5T_STD_I64BE_g, .int64, .big),
         (H5T_STD_U64LE_g, .uint64, .little), (H5T_STD_U64BE_g, .uint64, .big),
         (H5T_IEEE_F32LE_g, .float32, .little), (H5T_IEEE_F32BE_g, .float32, .big),
         (H5T_IEEE_F64LE_g, .float64, .little), (H5T_IEEE_F64BE_g, .float64, .big)]
    }

    /// The most dimensions a dataspace can have (`H5S_MAX_RANK`).
    static let maximumRank = 32
}

extension HDF5Handle where Kind == HDF5DatasetKind {
    /// The dataset's shape (slowest dimension first); empty for a scalar.
    func shape() throws -> [Int] {
        let space = try HDF5Space(H5Dget_space(id), file: file, path: path, "read the shape of \(displayPath)")
        return try HDF5.dimensions(of: space, what: "read the shape of \(displayPath)")
    }

    /// How the dataset is stored (see `HDF5Storage`).
    func storage() throws -> HDF5Storage {
        let what = "read how \(displayPath) is stored"
        let shape = try shape()
        let type = try HDF5Type(H5Dget_type(id), file: file, path: path, what)
        let typeClass = H5Tget_class(type.id)
        let typeSize = H5Tget_size(type.id)
        guard typeSize > 0 else { throw HDF5.failure(what, file: file) }
        var standard: (type: SampleType, order: ByteOrder)?
        if typeClass == H5T_INTEGER || typeClass == H5T_FLOAT {
            for candidate in HDF5.standardTypes where try HDF5.check(H5Tequal(type.id, candidate.id), what, file: file) > 0 {
                standard = (candidate.type, candidate.order)
                break
            }
        }
        let creation = try HDF5Plist(H5Dget_create_plist(id), file: file, path: path, what)
        let layout: HDF5Storage.Layout
        switch H5Pget_layout(creation.id) {
        case H5D_COMPACT: layout = .compact
        case H5D_CONTIGUOUS: layout = .contiguous
        case H5D_CHUNKED: layout = .chunked
        case H5D_VIRTUAL: layout = .virtual
        default: layout = .other
        }
        var chunk: [Int]?
        if layout == .chunked {
            var dims = [hsize_t](repeating: 0, count: HDF5.maximumRank)
            let rank = try HDF5.check(H5Pget_chunk(creation.id, Int32(HDF5.maximumRank), &dims), what, file: file)
            guard rank <= HDF5.maximumRank else { throw UnmixError("\(file): \(displayPath) has chunks of \(rank) dimensions") }
            chunk = try dims.prefix(Int(rank)).map { try HDF5.size($0, "a chunk dimension of \(displayPath)", file: file) }
        }
        let filterCount = try HDF5.check(H5Pget_nfilters(creation.id), what, file: file)
        guard filterCount <= 64 else { throw UnmixError("\(file): \(displayPath) declares \(filterCount) filters") }
        var filters = [(id: Int32, name: String, available: Bool)]()
        for index in 0..<UInt32(filterCount) {
            var flags: UInt32 = 0
            var valueCount = 8
            var values = [UInt32](repeating: 0, count: valueCount)
            var name = [CChar](repeating: 0, count: 80)
            var configuration: UInt32 = 0
            let filter = try HDF5.check(H5Pget_filter2(creation.id, index, &flags, &valueCount, &values, name.count, &name, &configuration),
                                        what, file: file)
            let available = try HDF5.check(H5Zfilter_avail(filter), what, file: file) > 0
            name[name.count - 1] = 0
            filters.append((filter, String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), available))
        }
        let externalFiles = Int(try HDF5.check(H5Pget_external_count(creation.id), what, file: file))
        var offset: Int?
        if layout == .contiguous, externalFiles == 0 {
            let address = H5Dget_offset(id)
            if address != haddr_t.max, address <= UInt64(Int.max) { offset = Int(address) }
        }
        return HDF5Storage(shape: shape, typeClass: typeClass, typeSize: typeSize, isSigned: H5Tget_sign(type.id) == H5T_SGN_2,
                           standard: standard, layout: layout, chunk: chunk, filters: filters, externalFiles: externalFiles,
                           offset: offset, storedBytes: H5Dget_storage_size(id))
    }

    /// Reads every element, converted by HDF5 to native Float32, into `buffer` (which must hold
    /// exactly the dataset's element count).
    func readFloats(into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress else { return }
        try HDF5.check(H5Dread(id, H5T_NATIVE_FLOAT_g, HDF5.all, HDF5.all, HDF5.defaultPlist, base),
                       "read the samples of \(displayPath)", file: file)
    }

    /// The values of a small 1-D (or scalar) numeric dataset, converted to Double.
    func readDoubles(limit: Int = HDF5Limits.attributeElements) throws -> [Double] {
        let what = "read \(displayPath)"
        let shape = try shape()
        guard shape.count <= 1 else { throw UnmixError("\(file): \(displayPath) is \(shape.count)-D, expected a list of numbers") }
        let count = shape.first ?? 1
        guard count <= limit else { throw UnmixError("\(file): \(displayPath) holds \(count) values (at most \(limit) read)") }
        let type = try HDF5Type(H5Dget_type(id), file: file, path: path, what)
        let typeClass = H5Tget_class(type.id)
        guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else {
            throw UnmixError("\(file): \(displayPath) does not hold numbers")
        }
        var values = [Double](repeating: 0, count: count)
        if count > 0 {
            try values.withUnsafeMutableBytes { buffer in
                _ = try HDF5.check(H5Dread(id, H5T_NATIVE_DOUBLE_g, HDF5.all, HDF5.all, HDF5.defaultPlist, buffer.baseAddress!), what, file: file)
            }
        }
        return values
    }
}

extension HDF5 {
    /// The dimensions of a simple (or scalar) dataspace, slowest first.
    static func dimensions(of space: HDF5Space, what: String) throws -> [Int] {
        let file = space.file
        switch H5Sget_simple_extent_type(space.id) {
        case H5S_SCALAR: return []
        case H5S_SIMPLE: break
        case H5S_NULL: throw UnmixError("\(file): cannot \(what): it holds no data (null dataspace)")
        default: throw failure(what, file: file)
        }
        let rank = try check(H5Sget_simple_extent_ndims(space.id), what, file: file)
        guard rank <= maximumRank else { throw UnmixError("\(file): cannot \(what): \(rank) dimensions") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        try check(H5Sget_simple_extent_dims(space.id, &dims, nil), what, file: file)
        return try dims.map { try size($0, "a dimension (\(what))", file: file) }
    }

    /// A size HDF5 read from the file, as an `Int`; an `UnmixError` when it does not fit.
    static func size(_ value: hsize_t, _ what: String, file: String) throws -> Int {
        guard value <= UInt64(Int.max) else { throw UnmixError("\(file): \(what) is \(value), too large") }
        return Int(value)
    }
}
