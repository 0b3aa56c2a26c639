import CHDF5
import Foundation

/// A cube in a MATLAB `.mat` file (version 5, compressed or not, 7.3, and 4), read through
/// libmatio. The layout is decided from the variables present (`MATLABLayout`): HySUPP's
/// (`Y`, `H`, `W`, truth `E`, `A`), hu_autoencoders' (`Y`, `lines`, `cols`, truth `GT`,
/// `S_GT`), a rows × cols × bands array, or a bare `Y` with `ReadOptions.shape`. The pixels
/// come out row-major whatever the file's order, and so does the ground truth. A numeric
/// vector named `wavelength` (or `wavelengths`, `wl`, `lambda`) of one value per band
/// calibrates the signal axis.
public enum MATLABReader: DatasetReader {
    public static let parsesWithExternalLibrary = true
    public static let formatName = "MATLAB"
    public static let extensions = ["mat"]

    /// Version 5 and 7.3 files begin with a 128-byte header: 116 bytes of text ("MATLAB 5.0
    /// MAT-file…", "MATLAB 7.3 MAT-file…"), 8 bytes of subsystem offset, the version (0x0100
    /// or 0x0200) and the endian indicator "IM" or "MI". Version 4 files have no signature:
    /// one whose first variable header is plausible is left to the extension (nil).
    public static func recognizes(_ head: [UInt8], path: String) -> Bool? {
        if head.count >= 128 {
            let endian = (head[126], head[127])
            let little = UInt16(head[124]) | UInt16(head[125]) << 8
            let big = UInt16(head[125]) | UInt16(head[124]) << 8
            if endian == (UInt8(ascii: "I"), UInt8(ascii: "M")), little == 0x0100 || little == 0x0200 { return true }
            if endian == (UInt8(ascii: "M"), UInt8(ascii: "I")), big == 0x0100 || big == 0x0200 { return true }
        }
        for text in ["MATLAB 5.0 MAT-file", "MATLAB 7.3 MAT-file"] where head.starts(with: Array(text.utf8)) { return true }
        return plausibleVersion4(head) ? nil : false
    }

    /// Whether `head` can be the header of a version 4 variable: type MOPT (M the byte order
    /// 0–4, O zero, P the element type 0–5, T the matrix kind 0–2), rows, columns, an
    /// imaginary flag of 0 or 1 and a name length of 1 to 4096, little- or big-endian.
    static func plausibleVersion4(_ head: [UInt8]) -> Bool {
        guard head.count >= 20 else { return false }
        for bigEndian in [false, true] {
            let word = { (i: Int) -> UInt32 in
                let bytes = head[(4 * i)..<(4 * i + 4)].map(UInt32.init)
                return bigEndian ? bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]
                                 : bytes[3] << 24 | bytes[2] << 16 | bytes[1] << 8 | bytes[0]
            }
            let type = word(0)
            let (m, o, p, t) = (type / 1000, type / 100 % 10, type / 10 % 10, type % 10)
            if type < 5000, o == 0, p <= 5, t <= 2, m == (bigEndian ? 1 : 0), word(3) <= 1, (1...4096).contains(word(4)) {
                return true
            }
        }
        return false
    }

    /// The samples of a MATLAB 7.3 variable stored as one uncompressed, contiguous HDF5
    /// dataset of a standard type, decoded by `RawLayout` from the mapped file with the
    /// layout's strides; nil when it is stored otherwise (libmatio then reads it).
    static func mappedSamples(_ path: String, layout: MATLABLayout) throws -> DecodedCube? {
        // The default access list, as libmatio's (which holds the file open): HDF5 refuses a
        // second opening of a file with other access properties.
        try HDF5.prepare(path)
        guard let hdf5 = try? HDF5File(H5Fopen(path, 0 /* H5F_ACC_RDONLY */, hid_t(H5P_DEFAULT)), file: path, path: "/", "open it as HDF5"),
              let dataset = try? hdf5.dataset(layout.data.name),
              let storage = try? dataset.storage(), storage.layout == .contiguous, storage.filters.isEmpty,
              storage.externalFiles == 0, let standard = storage.standard, let offset = storage.offset,
              (try? storage.elementCount(path)) == layout.rows &* layout.cols &* layout.bands else { return nil }
        let mapped = try MappedFile(path)
        let raw = RawLayout(type: standard.type, order: standard.order, rows: layout.rows, cols: layout.cols, bands: layout.bands,
                            offset: offset, rowStride: layout.rowStride, colStride: layout.colStride, bandStride: layout.bandStride)
        return try raw.decode(mapped.bytes, file: mapped, name: path)
    }

    /// The names of a wavelength vector, compared without case.
    static let wavelengthNames: Set<String> = ["wavelength", "wavelengths", "wl", "lambda", "wavelength_nm", "wavelengths_nm"]

    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        let file = try MatFile.open(path)
        let variables = try file.variables()
        let layout = try MATLABLayout.detect(variables, file: file, options: options)
        let data = layout.data
        guard let dtype = data.sampleType else { throw file.failure("variable '\(data.name)' is not numeric") }
        let what = "variable '\(data.name)'"
        let count = try layout.rows.checkedTimes(layout.cols, path).checkedTimes(layout.bands, path)
        guard data.count == count else { throw file.failure("\(what) is \(data.shapeText): not \(count) samples") }
        try file.checkReadable(data)
        guard count <= Int(ProcessInfo.processInfo.physicalMemory / 8) else {
            throw file.failure("\(what) (\(data.shapeText)) needs \(count / (1 << 28)) GiB as float32, more than this machine can hold twice")
        }

        let cube: CubeData
        var mappedWarnings = [String]()
        var mapped = false
        if file.version == .v73, let decoded = try mappedSamples(path, layout: layout) {
            // A 7.3 file is HDF5: an uncompressed, contiguous variable is decoded from the
            // mapped file (in place when already pixel-major float32).
            cube = decoded.cube
            mappedWarnings = decoded.warnings
            mapped = true
        } else if layout.isPixelMajor || canPermutePixels(layout) {
            // Read straight into the cube's storage; a pixel order other than row-major is
            // put right in place, one spectrum at a time.
            let storage = try SampleStorage(count: count) { out in
                try file.readElements(data, into: out)
                if !layout.isPixelMajor { permutePixels(out, layout) }
            }
            cube = CubeData(rows: layout.rows, cols: layout.cols, bands: layout.bands, storage: storage)
        } else {
            // Band-sequential in the file: read as stored, then one strided conversion.
            let stored = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { stored.deallocate() }
            try file.readElements(data, into: stored)
            let raw = RawLayout(type: .float32, order: .native, rows: layout.rows, cols: layout.cols, bands: layout.bands,
                                offset: 0, rowStride: layout.rowStride, colStride: layout.colStride, bandStride: layout.bandStride)
            cube = try raw.decode(UnsafeRawBufferPointer(stored), name: path).cube
        }

        var warnings = layout.warnings + mappedWarnings
        // (RawLayout.decode warned of precision itself for a mapped variable.)
        if dtype.isInteger && !mapped {
            // Integers converted by libmatio are finite: a NaN left from the fill is data it could not read.
            if cube.firstNonFinite() != nil {
                throw file.failure("\(what) could not be read whole: the file is truncated or damaged")
            }
            if let warning = cube.withUnsafeValues({ dtype.precisionWarning($0, file: path) }) { warnings.append(warning) }
        }
        let (truth, truthWarnings) = try MATLABTruth.read(layout, file: file)
        warnings += truthWarnings
        let signal = try wavelengthAxis(variables, bands: layout.bands, file: file, warnings: &warnings)
        return Dataset(path: path, format: "MATLAB \(file.version.name) (\(layout.kind.describe(data.name)))", cube: cube,
                       dtype: dtype, signalAxis: signal,
                       title: ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                       truth: truth, warnings: warnings)
    }

    // MARK: - Pixel order

    /// Whether the stored order differs from ours only by the order of whole spectra, row by
    /// row against column by column (hu_autoencoders' `Y`).
    static func canPermutePixels(_ layout: MATLABLayout) -> Bool {
        layout.bandStride == 1 && layout.rowStride == layout.bands && layout.colStride == layout.rows * layout.bands
    }

    /// Puts the spectra of `buffer`, stored column by column (pixel (r, c) at r + c · rows),
    /// into row-major order in place: each cycle of the transposition is followed once, with
    /// one spectrum of scratch and one bit per pixel to mark those already placed.
    static func permutePixels(_ buffer: UnsafeMutableBufferPointer<Float>, _ layout: MATLABLayout) {
        let (rows, cols, bands) = (layout.rows, layout.cols, layout.bands)
        let pixels = rows * cols
        guard rows > 1, cols > 1, let base = buffer.baseAddress else { return }
        var placed = [UInt64](repeating: 0, count: (pixels + 63) / 64)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: bands)
        defer { scratch.deallocate() }
        // The stored position of the pixel whose row-major position is i.
        func source(_ i: Int) -> Int { i / cols + (i % cols) * rows }
        for start in 0..<pixels where placed[start >> 6] & (1 << UInt64(start & 63)) == 0 {
            placed[start >> 6] |= 1 << UInt64(start & 63)
            var i = start
            var j = source(i)
            guard j != start else { continue }
            scratch.update(from: base + start * bands, count: bands)
            while j != start {
                (base + i * bands).update(from: base + j * bands, count: bands)
                placed[j >> 6] |= 1 << UInt64(j & 63)
                i = j
                j = source(i)
            }
            (base + i * bands).update(from: scratch, count: bands)
        }
    }

    // MARK: - Signal axis

    /// The wavelength axis, when the file has a numeric vector of one finite value per band
    /// under one of `wavelengthNames`: nm for values of 100 and more, µm for values up to 30
    /// (units are otherwise left blank).
    static func wavelengthAxis(_ variables: [MatVariable], bands: Int, file: MatFile, warnings: inout [String]) throws -> Axis? {
        guard let v = variables.first(where: { wavelengthNames.contains($0.name.lowercased()) && $0.isRealNumeric }) else { return nil }
        guard v.count == bands, v.dims.filter({ $0 != 1 }).count <= 1 else {
            warnings.append("\(file.path): '\(v.name)' (\(v.shapeText)) is not one value per band (\(bands)): not used as the signal axis")
            return nil
        }
        let values = try file.doubles(v, limit: bands)
        guard values.allSatisfy(\.isFinite) else {
            warnings.append("\(file.path): '\(v.name)' holds non-finite values: not used as the signal axis")
            return nil
        }
        let low = values.min() ?? 0, high = values.max() ?? 0
        let units = low >= 100 ? "nm" : (high <= 30 && low > 0 ? "µm" : "")
        if bands >= 2 {
            let step = (values[bands - 1] - values[0]) / Double(bands - 1)
            let uniform = step != 0 && values.indices.allSatisfy { abs(values[$0] - (values[0] + Double($0) * step)) <= 1e-6 * abs(step) }
            if uniform { return Axis(name: "wavelength", size: bands, offset: values[0], scale: step, units: units) }
        }
        return Axis(name: "wavelength", size: bands, offset: values.first ?? 0, scale: 1, units: units, values: values)
    }
}
