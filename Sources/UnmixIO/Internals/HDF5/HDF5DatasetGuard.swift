import CHDF5

/// Checks of an HDF5 file's datasets, made with HDF5's own calls before their samples are
/// read: the variables of a MATLAB 7.3 file (before libmatio reads them) and a HyperSpy
/// signal's `data`.
///
/// Debian's HDF5 1.10.8 trusts two things a
/// damaged file can lie about: a compact dataset's stored size and a datatype's size. Reading
/// such a dataset overruns a buffer inside `H5Dread` (found by mutating the fixtures: a
/// segmentation fault in `H5VM_memcpyvv`, called from `H5D__contig_read` /
/// `H5D__scatgath_read`). Later HDF5 releases refuse both when the dataset is opened; this
/// guard makes the same checks, and those of contiguous data against the file's end, so that
/// the reader refuses the dataset instead of reading it.
enum HDF5DatasetGuard {
    /// The root datasets of the HDF5 file at `path` that must not be read, with the reason;
    /// empty when HDF5 cannot open the file (libmatio then refuses it itself).
    static func damagedDatasets(_ path: String, fileSize: Int) -> [String: String] {
        let file = H5Fopen(path, 0 /* H5F_ACC_RDONLY */, 0 /* H5P_DEFAULT */)
        guard file >= 0 else { return [:] }
        defer { H5Fclose(file) }
        var info = H5G_info_t()
        guard H5Gget_info(file, &info) >= 0 else { return [:] }
        var damaged = [String: String]()
        for index in 0..<min(info.nlinks, UInt64(MatFile.maximumVariables)) {
            var buffer = [CChar](repeating: 0, count: 1024)
            let length = H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, 0)
            guard length > 0, length < buffer.count else { continue }
            let name = String(cString: buffer)
            if let problem = problem(file, name, fileSize: fileSize) { damaged[name] = problem }
        }
        return damaged
    }

    /// The most chunks of one dataset whose index entries are checked.
    static let maximumCheckedChunks: UInt64 = 1 << 20

    /// What is wrong with the chunk index of a chunked dataset: a chunk whose coordinates are
    /// not a chunk of the dataset (HDF5 1.10.8 copies it outside the read buffer) or whose
    /// bytes lie past the end of the file.
    private static func chunkProblem(_ dataset: hid_t, space: hid_t, plist: hid_t, elementSize: Int, fileSize: Int) -> String? {
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 1, rank <= 32 else { return "its dataspace has \(rank) dimensions" }
        var dims = [hsize_t](repeating: 0, count: rank)
        var maxdims = [hsize_t](repeating: 0, count: rank)
        var chunk = [hsize_t](repeating: 0, count: rank)
        guard H5Sget_simple_extent_dims(space, &dims, &maxdims) == rank, H5Pget_chunk(plist, Int32(rank), &chunk) == rank,
              chunk.allSatisfy({ $0 > 0 }) else { return "its chunk shape cannot be read" }
        // A chunk may not exceed a fixed dimension, nor hold 2^32 bytes or more (HDF5's own
        // rules, which 1.10.8 does not check when reading: it inflates a chunk past its buffer).
        var chunkBytes = UInt64(elementSize)
        for d in 0..<rank {
            let unlimited = maxdims[d] == hsize_t.max
            guard unlimited || chunk[d] <= maxdims[d] else { return "its chunks (\(chunk)) exceed its dimensions (\(maxdims))" }
            let (product, overflow) = chunkBytes.multipliedReportingOverflow(by: UInt64(chunk[d]))
            guard !overflow, product < 1 << 32 else { return "its chunks (\(chunk)) hold 2^32 bytes or more" }
            chunkBytes = product
        }
        var chunks: hsize_t = 0
        // (HDF5 1.10.8 refuses H5S_ALL here: the dataset's own dataspace selects every chunk.)
        guard H5Dget_num_chunks(dataset, space, &chunks) >= 0 else { return "its chunk index cannot be read" }
        var offset = [hsize_t](repeating: 0, count: rank)
        for index in 0..<min(chunks, maximumCheckedChunks) {
            var mask: UInt32 = 0
            var address: haddr_t = 0
            var size: hsize_t = 0
            guard H5Dget_chunk_info(dataset, space, index, &offset, &mask, &address, &size) >= 0 else {
                return "its chunk \(index) cannot be read"
            }
            for d in 0..<rank where offset[d] >= dims[d] || offset[d] % chunk[d] != 0 {
                return "its chunk \(index) is at \(offset) in a \(dims) dataset of \(chunk) chunks"
            }
            guard UInt64(address) <= UInt64(fileSize), UInt64(size) <= UInt64(fileSize) - UInt64(address) else {
                return "its chunk \(index) of \(size) bytes at \(address) lies past the end of the \(fileSize)-byte file"
            }
        }
        return nil
    }

    /// What is wrong with dataset `name` (a path from the root) of `file`, or nil (also for
    /// links that are not datasets).
    static func problem(_ file: hid_t, _ name: String, fileSize: Int) -> String? {
        let dataset = H5Dopen2(file, name, 0)
        guard dataset >= 0 else { return nil }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        guard type >= 0 else { return "its datatype cannot be read" }
        defer { H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else { return nil }
        let size = H5Tget_size(type)
        guard [1, 2, 4, 8].contains(size) else { return "its \(size)-byte numbers are no standard integer or float" }
        let precision = Int(H5Tget_precision(type)), offset = Int(H5Tget_offset(type))
        guard offset >= 0, precision > 0, precision + offset <= 8 * size else {
            return "its datatype declares \(precision) bits at bit \(offset) of \(size) bytes"
        }
        let space = H5Dget_space(dataset)
        guard space >= 0 else { return "its dataspace cannot be read" }
        defer { H5Sclose(space) }
        let points = H5Sget_simple_extent_npoints(space)
        guard points >= 0 else { return "its dataspace is invalid" }
        let (bytes, overflow) = Int(points).multipliedReportingOverflow(by: size)
        guard !overflow else { return "its size overflows" }
        let plist = H5Dget_create_plist(dataset)
        guard plist >= 0 else { return "its creation properties cannot be read" }
        defer { H5Pclose(plist) }
        let stored = H5Dget_storage_size(dataset)
        switch H5Pget_layout(plist) {
        case H5D_COMPACT:
            guard stored == UInt64(bytes) else { return "its compact data holds \(stored) bytes for \(bytes)" }
        case H5D_CONTIGUOUS:
            let address = UInt64(H5Dget_offset(dataset))
            if address != UInt64.max /* HADDR_UNDEF: not written, read as fill values */ {
                guard stored >= UInt64(bytes), address <= UInt64(fileSize), UInt64(bytes) <= UInt64(fileSize) - address else {
                    return "its \(bytes) bytes of data at \(address) lie past the end of the \(fileSize)-byte file"
                }
            }
        case H5D_CHUNKED:
            if let problem = chunkProblem(dataset, space: space, plist: plist, elementSize: size, fileSize: fileSize) { return problem }
        default:
            return "its storage layout is unknown"
        }
        return nil
    }
}
