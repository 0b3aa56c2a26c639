import Foundation

/// Writes a `Dataset` as a MATLAB `.mat` file in HySUPP's layout, through libmatio:
/// `Y` bands × pixels (single), `H` rows, `W` columns, `L` bands and `N` pixels (double),
/// and when the dataset has ground truth `E` bands × R, `A` R × pixels (single) and `p` = R.
///
/// Pixels are row-major (pixel n is row n / W, column n % W), as HySUPP reads them. MATLAB
/// holds `Y` column-major, so its memory is our cube's exactly, and `E` and `A` are our
/// endmembers and abundances: the writer hands libmatio the samples without copying them.
/// The file is written beside the target under a temporary name and renamed over it when
/// complete, so a reader never sees half a file.
public enum MATLABWriter {
    /// The file versions written.
    public enum Version: Sendable {
        /// MATLAB 5 (what MATLAB's `save -v7` writes when compressed): at most 2^32 bytes a variable.
        case v5
        /// MATLAB 7.3: HDF5 with the MAT header in its 512-byte user block; no size limit.
        case v73
    }

    /// Writes `dataset` to `path` (replacing any file there), zlib-compressed when `compressed`.
    public static func write(_ dataset: Dataset, to path: String, version: Version = .v73, compressed: Bool = true) throws {
        let cube = dataset.cube
        let (bands, pixels) = (cube.bands, cube.pixels)
        guard bands > 0, pixels > 0 else { throw UnmixError("cannot write \(path): the cube is empty") }
        if version == .v5, pixels.multipliedReportingOverflow(by: bands * 4).partialValue > Int(UInt32.max) - 4096 {
            throw UnmixError("cannot write \(path): a \(cube.rows) × \(cube.cols) × \(bands) cube is too large for a MATLAB 5 file (2^32 bytes a variable): write version 7.3")
        }
        if let truth = dataset.truth { try truth.validate(pixels: pixels, bands: bands) }

        try AtomicFile.replace(path) { temporary in
            let file = try MatFile.create(temporary, version: version == .v5 ? .v5 : .v73)
            try cube.withUnsafeValues { y in
                guard let base = y.baseAddress else { return }
                try file.write("Y", .single, dims: [bands, pixels], data: base, compressed: compressed)
            }
            for (name, value) in [("H", cube.rows), ("W", cube.cols), ("L", bands), ("N", pixels)] {
                try scalar(name, Double(value), file: file)
            }
            if let truth = dataset.truth {
                try truth.endmembers.withUnsafeBufferPointer { e in
                    guard let base = e.baseAddress else { return }
                    try file.write("E", .single, dims: [bands, truth.r], data: base, compressed: compressed)
                }
                try truth.abundances.withUnsafeBufferPointer { a in
                    guard let base = a.baseAddress else { return }
                    try file.write("A", .single, dims: [truth.r, pixels], data: base, compressed: compressed)
                }
                try scalar("p", Double(truth.r), file: file)
            }
            try file.close()
        }
    }

    private static func scalar(_ name: String, _ value: Double, file: MatFile) throws {
        var v = value
        try withUnsafeBytes(of: &v) { raw in
            guard let base = raw.baseAddress else { return }
            try file.write(name, .double, dims: [1, 1], data: base, compressed: false)
        }
    }
}

extension MATLABWriter: DatasetWriter {
    public static let formatName = "MATLAB 7.3"
    public static let fileExtension = "mat"

    /// Writes `dataset` as an uncompressed MATLAB 7.3 file in HySUPP's layout.
    public static func write(_ dataset: Dataset, to path: String) throws {
        try write(dataset, to: path, version: .v73, compressed: false)
    }
}
