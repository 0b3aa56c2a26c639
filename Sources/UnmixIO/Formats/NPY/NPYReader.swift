import Foundation

/// A cube in a NumPy `.npy` file: 3-D rows × cols × bands, or 2-D pixels × bands with a map
/// size given in `ReadOptions.shape` (`--shape`). No axis calibration (NumPy stores none).
public enum NPYReader: DatasetReader {
    public static let formatName = "NumPy"
    public static let extensions = ["npy"]

    public static func recognizes(_ head: [UInt8], path: String) -> Bool? {
        head.count >= 6 && Array(head[0..<6]) == NPY.magic
    }

    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        let file = try MappedFile(path)
        let (header, dataStart) = try NPY.parse(file.bytes, name: path)
        let shape = header.shape
        let rows: Int, cols: Int, bands: Int
        switch shape.count {
        case 3:
            if options.shape != nil { throw UnmixError.usage("--shape is only for 2-D inputs; \(path) is 3-D \(NPY.pythonTuple(shape))") }
            (rows, cols, bands) = (shape[0], shape[1], shape[2])
        case 2:
            guard let given = options.shape else {
                throw UnmixError("\(path) is 2-D \(NPY.pythonTuple(shape)) (pixels × bands): give the map size with --shape ROWSxCOLS")
            }
            guard given.rows.multipliedReportingOverflow(by: given.cols) == (shape[0], false) else {
                throw UnmixError("--shape \(given.rows)x\(given.cols) makes \(given.rows &* given.cols) pixels, \(path) has \(shape[0])")
            }
            (rows, cols, bands) = (given.rows, given.cols, shape[1])
        default:
            throw UnmixError("\(path) has shape \(NPY.pythonTuple(shape)): expected rows × cols × bands (3-D) or pixels × bands (2-D)")
        }
        // C order: pixel-major. Fortran order: the first index runs fastest, so band-sequential
        // with column-major pixels (a 2-D pixels × bands array in Fortran order is band-sequential too).
        let layout: RawLayout
        if !header.fortranOrder {
            layout = RawLayout(type: header.type, order: header.order, rows: rows, cols: cols, bands: bands,
                               offset: dataStart, interleave: .bip)
        } else if shape.count == 3 {
            layout = RawLayout(type: header.type, order: header.order, rows: rows, cols: cols, bands: bands,
                               offset: dataStart, interleave: .bsq, pixelOrder: .columnMajor)
        } else {
            layout = RawLayout(type: header.type, order: header.order, rows: rows, cols: cols, bands: bands,
                               offset: dataStart, interleave: .bsq)
        }
        let decoded = try layout.decode(file.bytes, file: file, name: path)
        return Dataset(path: path, format: "NumPy", cube: decoded.cube, dtype: header.type,
                       title: ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                       warnings: decoded.warnings)
    }
}

/// Writes the cube as a rows × cols × bands little-endian float32 `.npy` (NumPy keeps no axes).
public enum NPYWriter: DatasetWriter {
    public static let formatName = "NumPy"
    public static let fileExtension = "npy"
    public static func write(_ dataset: Dataset, to path: String) throws { try NPY.write(dataset.cube, to: path) }
}
