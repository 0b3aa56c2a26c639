import Foundation

/// An ENVI image: the `.hdr` text header and the raw samples beside it (the same name with any
/// extension or none: `x.hdr` + `x.img`, `x.dat`, `x`, …, or `x.img` + `x.img.hdr`). Either
/// file's path may be given.
///
/// BSQ, BIL and BIP, both byte orders, a header offset and every real data type are read; a
/// `wavelength` list becomes the signal axis (offset and scale when it is uniform, the list of
/// values otherwise). An `ENVI Spectral Library` (one spectrum a line) is read as one row of
/// spectra. Map coordinates (`map info`) are not read: the navigation axes count pixels.
public enum ENVIReader: DatasetReader {
    public static let formatName = "ENVI"
    public static let extensions = ["hdr", "img", "dat", "bsq", "bil", "bip", "sli", "raw"]

    /// Data-file extensions tried first, in order, beside a header `x.hdr` (after `x` itself).
    static let dataExtensions = ["img", "dat", "raw", "bsq", "bil", "bip", "sli", "hyspex", "bin"]
    /// Extensions of files that lie beside ENVI data but are not it.
    static let notData: Set<String> = ["hdr", "xml", "sta", "enp", "txt", "json", "ovr", "rpl", "emi", "ser", "aux", "log"]

    public static func recognizes(_ head: [UInt8], path: String) -> Bool? {
        let ext = (path as NSString).pathExtension.lowercased()
        if ext == "hdr" { return ENVIHeader.hasSignature(head) }
        if header(besideData: path) != nil { return true }
        return extensions.contains(ext) ? nil : false
    }

    /// The ENVI header beside a data file (`x.img.hdr`, then `x.hdr`), or nil.
    static func header(besideData path: String) -> String? {
        let stem = TextHeader.stem(path)
        var candidates = [path + ".hdr", path + ".HDR"]
        if stem != path { candidates += [stem + ".hdr", stem + ".HDR"] }
        return candidates.first { TextHeader.isFile($0) && ENVIHeader.hasSignature(fileHead($0, count: 64)) }
    }

    /// The data file beside a header `x.hdr`, and a warning when the choice was not obvious.
    static func data(besideHeader path: String, interleave: RawLayout.Interleave) throws -> (path: String, warning: String?) {
        let base = TextHeader.stem(path)
        let known = ([""] + dataExtensions + [interleave.rawValue]).flatMap { ext in
            ext.isEmpty ? [base] : ["\(base).\(ext)", "\(base).\(ext.uppercased())"]
        }
        if let found = known.first(where: { $0 != path && TextHeader.isFile($0) }) { return (found, nil) }
        // Any other extension: x.<something> that is not a known companion of another kind.
        let folder = (path as NSString).deletingLastPathComponent
        let prefix = (base as NSString).lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        let others = names.filter { name in
            name.hasPrefix(prefix) && !notData.contains((name as NSString).pathExtension.lowercased())
        }.sorted().map { folder.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0) }
            .filter { $0 != path && TextHeader.isFile($0) }
        guard let first = others.first else {
            throw UnmixError("\(path): no data file beside the ENVI header (looked for \((base as NSString).lastPathComponent) with no extension or any other)")
        }
        let warning = others.count > 1 ? "\(path): several files could be the data (\(others.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))): read \((first as NSString).lastPathComponent)" : nil
        return (first, warning)
    }

    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        let ext = (path as NSString).pathExtension.lowercased()
        let headerPath: String
        if ext == "hdr" {
            headerPath = path
        } else {
            guard let found = header(besideData: path) else {
                let stem = TextHeader.stem(path)
                let ripple = ext == "raw" ? "\(stem).rpl (ripple), " : ""
                throw UnmixError("\(path): no header beside the data file (looked for \(ripple)\(path).hdr\(stem == path ? "" : ", \(stem).hdr"))")
            }
            headerPath = found
        }
        let header = try ENVIHeader(parsing: try TextHeader.read(headerPath, format: formatName), name: headerPath)
        var warnings = header.problems
        let dataPath: String
        if ext == "hdr" {
            let found = try data(besideHeader: headerPath, interleave: header.interleave)
            dataPath = found.path
            if let warning = found.warning { warnings.append(warning) }
        } else {
            dataPath = path
        }

        // Sizes multiplied with overflow checks before any stride is computed from them.
        let what = "\(headerPath): a \(header.lines) × \(header.samples) × \(header.bands) cube"
        _ = try header.lines.checkedTimes(header.samples, what).checkedTimes(header.bands, what)
        let layout: RawLayout
        let bands: Int
        let format: String
        if header.isSpectralLibrary {
            guard header.bands == 1 else {
                throw UnmixError("\(headerPath): a spectral library with \(header.bands) bands: expected 1")
            }
            bands = header.samples
            layout = RawLayout(type: header.type, order: header.byteOrder, rows: 1, cols: header.lines, bands: header.samples,
                               offset: header.headerOffset, interleave: .bip)
            format = "ENVI spectral library"
        } else {
            bands = header.bands
            layout = RawLayout(type: header.type, order: header.byteOrder, rows: header.lines, cols: header.samples,
                               bands: header.bands, offset: header.headerOffset, interleave: header.interleave)
            format = "ENVI (\(header.interleave.rawValue))"
        }
        let file = try MappedFile(dataPath)
        let decoded = try layout.decode(file.bytes, file: file, name: dataPath)
        warnings += decoded.warnings
        let extent = try layout.extent(dataPath)
        if extent < file.bytes.count {
            warnings.append("\(dataPath): \(file.bytes.count - extent) bytes after the \(layout.rows) × \(layout.cols) × \(bands) \(header.type.rawValue) cube are ignored")
        }

        var signal = Axis.index("band", size: bands)
        if let values = header.wavelengths {
            signal = Self.axis(values, units: header.wavelengthUnits)
        }
        let description = header.description.split(whereSeparator: \.isNewline).first
            .map { String($0.trimmingCharacters(in: .whitespaces).prefix(200)) } ?? ""
        return Dataset(path: path, format: format, cube: decoded.cube, dtype: header.type, signalAxis: signal,
                       title: description.isEmpty ? TextHeader.baseName(headerPath) : description, warnings: warnings)
    }

    /// The wavelength axis: offset and scale when the steps are equal (to 1e-9 of the step),
    /// the list of values otherwise.
    static func axis(_ values: [Double], units: String) -> Axis {
        guard let first = values.first, let last = values.last, values.count > 1 else {
            return Axis(name: "Wavelength", size: values.count, offset: values.first ?? 0, scale: 1, units: units)
        }
        let scale = (last - first) / Double(values.count - 1)
        let uniform = scale != 0 && scale.isFinite && values.indices.allSatisfy { i in
            abs(values[i] - (first + Double(i) * scale)) <= 1e-9 * abs(scale)
        }
        if uniform { return Axis(name: "Wavelength", size: values.count, offset: first, scale: scale, units: units) }
        return Axis(name: "Wavelength", size: values.count, offset: first, scale: scale.isFinite ? scale : 1,
                    units: units, values: values)
    }
}
