import Foundation

/// Writes a dataset as an ENVI image that ENVI, GDAL and the `spectral` package read:
/// `<stem>.hdr` and `<stem>.<dataExtension>` (float32, little-endian, `data type = 4`,
/// `byte order = 0`), in the interleave asked for; the signal axis as a `wavelength` list
/// with `wavelength units` when it is calibrated, the title as the `description`.
/// The navigation axes are not written (ENVI's `map info` is for map projections).
///
/// The write is atomic: both files go to temporary siblings first, then the data is renamed
/// into place, then the header.
public enum ENVIWriter: DatasetWriter {
    public static let formatName = "ENVI"
    public static let fileExtension = "hdr"

    /// Writes `dataset` as `x.hdr` + `x.img`, band-interleaved by pixel.
    public static func write(_ dataset: Dataset, to path: String) throws {
        try write(dataset, to: path, interleave: .bip, dataExtension: "img")
    }

    /// Writes `dataset` beside `path`: `x.hdr`, `x.<dataExtension>` or `x` all mean the pair
    /// `x.hdr` + `x.<dataExtension>` (`x` alone when `dataExtension` is empty).
    ///
    /// - Throws: `UnmixError` naming the file that could not be written.
    public static func write(_ dataset: Dataset, to path: String, interleave: RawLayout.Interleave = .bip,
                             dataExtension: String = "img") throws {
        let ext = (path as NSString).pathExtension.lowercased()
        let stem = ext == "hdr" || (!ext.isEmpty && ext == dataExtension.lowercased()) ? TextHeader.stem(path) : path
        let dataPath = dataExtension.isEmpty ? stem : "\(stem).\(dataExtension)"
        let data = try AtomicFile(dataPath)
        try data.write(dataset.cube, interleave: interleave)
        let header = try AtomicFile(stem + ".hdr")
        try header.write(self.header(for: dataset, interleave: interleave))
        try AtomicFile.commit([data, header])
    }

    /// The header text for `dataset` stored as float32 little-endian with `interleave`.
    public static func header(for dataset: Dataset, interleave: RawLayout.Interleave) -> String {
        let cube = dataset.cube
        var text = "ENVI\n"
        let description = TextHeader.sanitized(dataset.title, forbidden: ["{", "}"])
        if !description.isEmpty { text += "description = {\(description)}\n" }
        text += """
            samples = \(cube.cols)
            lines = \(cube.rows)
            bands = \(cube.bands)
            header offset = 0
            file type = ENVI Standard
            data type = 4
            interleave = \(interleave.rawValue)
            byte order = 0

            """
        let axis = dataset.signalAxis
        if !axis.isUncalibrated {
            text += "wavelength = { " + axis.allValues.map(TextHeader.number).joined(separator: " , ") + " }\n"
            let units = TextHeader.sanitized(ENVIHeader.enviUnits(axis.units), forbidden: ["{", "}", "="])
            if !units.isEmpty { text += "wavelength units = \(units)\n" }
        }
        return text
    }
}
