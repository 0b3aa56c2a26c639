import CHDF5
import CMatio
import Foundation

/// A MAT file opened through libmatio: the one place that holds a `mat_t*`, closed when the
/// value goes away. Every libmatio call of the reader and the writer goes through this type
/// and `MatVariable`; every failure is an `UnmixError` naming the file (`failure(_:)`).
///
/// libmatio trusts sizes it reads; this wrapper checks what can be checked before it lets
/// libmatio touch data: element counts against the file's size, counts against what one
/// libmatio call can address (`Int32`), complex and sparse variables refused before a read
/// would take their data for a plain array.
final class MatFile {
    /// The MAT versions libmatio reads.
    enum Version: Sendable {
        case v4, v5, v73

        /// "4", "5", "7.3": as users say it.
        var name: String {
            switch self {
            case .v4: return "4"
            case .v5: return "5"
            case .v73: return "7.3"
            }
        }
    }

    let path: String
    let version: Version
    /// The file's size in bytes when opened (for the checks of declared sizes).
    let size: Int
    private var handle: OpaquePointer?
    /// The datasets of a 7.3 file that HDF5 must not be asked to read, with the reason
    /// (`HDF5DatasetGuard`).
    private var damaged: [String: String] = [:]

    /// At most this many variables are listed (a corrupt file cannot make the listing endless).
    static let maximumVariables = 100_000
    /// Deflate packs at most about 1032 bytes into one; no compressed variable can hold more
    /// elements than this many times the file's size.
    static let maximumExpansion = 1100

    private init(path: String, version: Version, size: Int, handle: OpaquePointer) {
        self.path = path
        self.version = version
        self.size = size
        self.handle = handle
    }

    deinit {
        if let handle { Mat_Close(handle) }
    }

    /// The error of this file: `"<path>: <what>"`.
    func failure(_ what: String) -> UnmixError { UnmixError("\(path): \(what)") }

    /// Opens `path` for reading. Only regular files are opened.
    static func open(_ path: String) throws -> MatFile {
        // libmatio reads 7.3 files through HDF5, whose error printing goes off on this thread:
        // a failure reaches the user as one `UnmixError` line.
        try HDF5.prepare(path)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw UnmixError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw UnmixError("cannot read \(path): not a regular file") }
        // A 7.3 file's datasets are checked with HDF5 first, before libmatio has it open.
        let head = fileHead(path, count: 128)
        var damaged = [String: String]()
        if head.count == 128, head[124] == 0x00, head[125] == 0x02, head[126] == UInt8(ascii: "I") {
            let mapped = try MappedFile(path)
            if let problem = HDF5RootIndex.problem(mapped.bytes, name: path) {
                throw UnmixError("\(path): a damaged MATLAB 7.3 (HDF5) file: \(problem)")
            }
            damaged = HDF5DatasetGuard.damagedDatasets(path, fileSize: Int(info.st_size))
        }
        guard let handle = Mat_Open(path, Int32(MAT_ACC_RDONLY.rawValue)) else {
            throw UnmixError("\(path): not a MAT file libmatio can open (its header is not that of MATLAB 4, 5 or 7.3, or the file is damaged)")
        }
        let version: Version
        switch Mat_GetVersion(handle) {
        case MAT_FT_MAT4: version = .v4
        case MAT_FT_MAT5: version = .v5
        case MAT_FT_MAT73: version = .v73
        default:
            Mat_Close(handle)
            throw UnmixError("\(path): a MAT file of a version libmatio does not read")
        }
        let file = MatFile(path: path, version: version, size: Int(info.st_size), handle: handle)
        file.damaged = damaged
        return file
    }

    /// Creates `path` (replacing it) for writing, in `version` 5 or 7.3.
    static func create(_ path: String, version: Version) throws -> MatFile {
        let ft: mat_ft
        switch version {
        case .v73: ft = MAT_FT_MAT73
        case .v5: ft = MAT_FT_MAT5
        case .v4: throw UnmixError("cannot write \(path): MATLAB 4 files are not written")
        }
        try HDF5.prepare(path)
        guard let handle = Mat_CreateVer(path, nil, ft) else {
            throw UnmixError("cannot write \(path): libmatio could not create a MATLAB \(version.name) file there")
        }
        return MatFile(path: path, version: version, size: 0, handle: handle)
    }

    /// Closes the file, reporting whether libmatio could finish it (the writer's last step).
    func close() throws {
        guard let handle else { return }
        self.handle = nil
        guard Mat_Close(handle) == 0 else { throw UnmixError("cannot write \(path): libmatio failed to close the file") }
    }

    private func open() throws -> OpaquePointer {
        guard let handle else { throw failure("the file is already closed") }
        return handle
    }

    // MARK: - Reading

    /// Every variable of the file, described without its data (names, classes, dimensions).
    func variables() throws -> [MatVariable] {
        let handle = try open()
        guard Mat_Rewind(handle) == 0 else { throw failure("libmatio cannot rewind the file") }
        var found = [MatVariable]()
        while let info = Mat_VarReadNextInfo(handle) {
            guard found.count < MatFile.maximumVariables else {
                Mat_VarFree(info)
                throw failure("more than \(MatFile.maximumVariables) variables")
            }
            if let variable = MatVariable(owning: info, in: self) { found.append(variable) }
        }
        return found
    }

    /// The most elements a variable of this file can hold, given its size: one byte each
    /// uncompressed, or what deflate can expand to (HDF5's chunks of a 7.3 file may be
    /// deflated too).
    func plausibleElements(_ variable: MatVariable) -> Int {
        let compressed = version == .v73 || variable.isCompressed
        return size.multipliedReportingOverflow(by: compressed ? MatFile.maximumExpansion : 1).partialValue
    }

    /// Throws unless `variable` is a real numeric array whose data libmatio can be asked for:
    /// its element count fits one call and what the file's size can hold.
    func checkReadable(_ variable: MatVariable) throws {
        let what = "variable '\(variable.name)'"
        guard let sampleType = variable.sampleType else { throw failure("\(what) is \(variable.className), not a numeric array") }
        guard !variable.isComplex else { throw failure("\(what) is complex: only real arrays are read") }
        guard let count = variable.count else { throw failure("\(what): its dimensions \(variable.shapeText) overflow") }
        guard count <= Int(Int32.max) else {
            throw failure("\(what) has \(count) elements, more than libmatio reads at once (2^31 - 1)")
        }
        if let problem = damaged[variable.name] { throw failure("\(what) is damaged: \(problem)") }
        guard count <= plausibleElements(variable) else {
            throw failure("\(what) declares \(variable.shapeText) \(sampleType.rawValue) elements, more than the \(size)-byte file can hold")
        }
    }

    /// Reads every element of the numeric `variable` into `buffer` (as many elements as
    /// `variable.count`), converted by libmatio to the type of `target` (Float32 or Float64).
    ///
    /// libmatio converts from the stored class (and the smaller integer type MATLAB may store
    /// a double array in) to the class it is told the variable has: the reader sets that class
    /// for the call and puts the real one back afterwards. The buffer is first filled with NaN,
    /// so that data libmatio could not read (a truncated file) never passes for samples.
    func readElements<T: BinaryFloatingPoint>(_ variable: MatVariable, into buffer: UnsafeMutableBufferPointer<T>) throws {
        let handle = try open()
        try checkReadable(variable)
        guard let count = variable.count, buffer.count == count else {
            throw failure("variable '\(variable.name)': \(variable.shapeText) does not fit the buffer for it")
        }
        guard count > 0, let base = buffer.baseAddress else { return }
        buffer.initialize(repeating: .nan)
        let target: matio_classes
        switch T.self {
        case is Float.Type: target = MAT_C_SINGLE
        case is Double.Type: target = MAT_C_DOUBLE
        default: throw failure("internal: libmatio converts to Float32 or Float64 only")
        }
        let raw = variable.raw
        let stored = raw.pointee.class_type
        raw.pointee.class_type = target
        let status: Int32
        if version == .v73 {
            // A 7.3 variable is an HDF5 dataset: read it as one hyperslab (start 0, stride 1,
            // the whole extent). libmatio's linear read selects every element one by one, which
            // costs HDF5 about 18 times the data's size in selection memory.
            var start = [Int32](repeating: 0, count: variable.dims.count)
            var stride = [Int32](repeating: 1, count: variable.dims.count)
            var edge = variable.dims.map { Int32(clamping: $0) }
            status = Mat_VarReadData(handle, raw, base, &start, &stride, &edge)
        } else {
            status = Mat_VarReadDataLinear(handle, raw, base, 0, 1, Int32(count))
        }
        raw.pointee.class_type = stored
        guard status == 0 else {
            throw failure("libmatio cannot read the data of variable '\(variable.name)' (\(variable.shapeText) \(variable.className)): the file is damaged or truncated")
        }
    }

    /// Every element of a small numeric variable, as Float64 (at most `limit` elements).
    func doubles(_ variable: MatVariable, limit: Int) throws -> [Double] {
        guard let count = variable.count else { throw failure("variable '\(variable.name)': its dimensions overflow") }
        guard count <= limit else {
            throw failure("variable '\(variable.name)' has \(count) elements where at most \(limit) are expected")
        }
        var values = [Double](repeating: .nan, count: count)
        try values.withUnsafeMutableBufferPointer { try readElements(variable, into: $0) }
        return values
    }

    /// The rows of a small 2-D character array (a MATLAB `char` matrix, one name a row, padded
    /// with blanks), or nil when the variable is not one libmatio gives as 8- or 16-bit code units.
    func strings(_ variable: MatVariable, limit: Int) -> [String]? {
        guard let handle, variable.isCharacter, variable.dims.count == 2, let count = variable.count,
              count > 0, count <= limit, count <= plausibleElements(variable) else { return nil }
        // Mat_VarRead reads by name: the name must be the variable's, whole.
        guard let full = Mat_VarRead(handle, variable.name) else { return nil }
        defer { Mat_VarFree(full) }
        let v = full.pointee
        guard v.class_type == MAT_C_CHAR, v.isComplex == 0, v.rank == 2, let data = v.data,
              let rankedDims = v.dims, rankedDims[0] == variable.dims[0], rankedDims[1] == variable.dims[1] else { return nil }
        let rows = variable.dims[0], cols = variable.dims[1]
        let unit: Int
        switch v.data_type {
        case MAT_T_UINT8, MAT_T_INT8, MAT_T_UTF8: unit = 1
        case MAT_T_UINT16, MAT_T_INT16, MAT_T_UTF16: unit = 2
        default: return nil
        }
        guard v.nbytes >= count * unit else { return nil }
        return (0..<rows).map { row in
            var scalars = String.UnicodeScalarView()
            for col in 0..<cols {
                let i = row + col * rows
                let code = unit == 1 ? UInt32(data.load(fromByteOffset: i, as: UInt8.self))
                                     : UInt32(data.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                if let scalar = Unicode.Scalar(code), code != 0 { scalars.append(scalar) }
            }
            return String(scalars).trimmingCharacters(in: .whitespaces)
        }
    }

    // MARK: - Writing

    /// The element classes the writer stores.
    enum WriteClass { case single, double }

    /// Writes one real array `name` of `dims` (MATLAB's order: the first index fastest) whose
    /// `count` elements are at `data` (Float32 for `.single`, Float64 for `.double`), without
    /// copying them.
    func write(_ name: String, _ type: WriteClass, dims: [Int], data: UnsafeRawPointer, compressed: Bool) throws {
        let handle = try open()
        var sizes = dims
        let (cls, element) = type == .single ? (MAT_C_SINGLE, MAT_T_SINGLE) : (MAT_C_DOUBLE, MAT_T_DOUBLE)
        let created = sizes.withUnsafeMutableBufferPointer { d in
            Mat_VarCreate(name, cls, element, Int32(dims.count), d.baseAddress, UnsafeMutableRawPointer(mutating: data),
                          Int32(MAT_F_DONT_COPY_DATA.rawValue))
        }
        guard let variable = created else { throw UnmixError("cannot write \(path): libmatio cannot describe variable '\(name)'") }
        defer { Mat_VarFree(variable) }
        guard Mat_VarWrite(handle, variable, compressed ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE) == 0 else {
            throw UnmixError("cannot write \(path): libmatio failed to write variable '\(name)' (disk full, or too large for MATLAB \(version.name))")
        }
    }
}
