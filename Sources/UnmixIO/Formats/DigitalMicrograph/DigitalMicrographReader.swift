import Foundation

/// Gatan DigitalMicrograph files (`.dm3`, `.dm4`): EELS spectrum images, line scans and single
/// spectra, read as RosettaSciIO (HyperSpy) reads them.
///
/// The image is one of the groups of the tag list `ImageList` that the list `Thumbnails` does
/// not name (the first that reads, when there are several). Its `ImageData` gives the sample
/// type (`DataType`), the sizes (`Dimensions`, fastest first: x, y, then energy), the samples
/// (`Data`, an array used in place through `RawLayout`) and the calibration of each dimension
/// (`Calibrations › Dimension`: DM's value at index i is (i − Origin) × Scale, so an axis
/// starts at −Origin × Scale). Its `ImageTags` say what the signal is: `Meta Data › Format`
/// ("Spectrum image", "Spectrum"), `Meta Data › Signal` ("EELS", "X-ray", "CL") or Orsay's
/// `spim` group.
///
/// - 3-D spectrum image: energy is the slowest axis in the file, (E, y, x): band-sequential.
///   A 3-D stack without spectrum-image tags (an energy-filtered series, a stack of maps) is
///   read the same way, its slowest axis as the signal, with a warning.
/// - 2-D spectrum (a line scan): energy is the fastest axis, x × E: one row.
/// - 1-D: one spectrum, 1 × 1.
/// - A 2-D image without spectrum tags, 4-D data, and complex, packed-complex, RGB and binary
///   samples are refused with one line.
public enum DigitalMicrographReader: DatasetReader {
    public static let formatName = "DigitalMicrograph"
    public static let extensions = ["dm3", "dm4"]

    /// Version 3 or 4 (big-endian), and the byte-order flag (0 or 1) that follows the size.
    public static func recognizes(_ head: [UInt8], path: String) -> Bool? {
        guard head.count >= 16, head[0] == 0, head[1] == 0, head[2] == 0, head[3] == 3 || head[3] == 4 else { return false }
        let flag = head[3] == 3 ? 8 : 12
        return head[flag] == 0 && head[flag + 1] == 0 && head[flag + 2] == 0 && head[flag + 3] <= 1
    }

    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        if options.shape != nil {
            throw UnmixError.usage("--shape is only for 2-D NumPy inputs; \(path) says its own shape")
        }
        let file = try MappedFile(path)
        let tree = try DMTagTree(file, name: path)
        guard let list = tree.root.group("ImageList") else {
            throw UnmixError("\(path): a DigitalMicrograph file without an ImageList: it holds no image")
        }
        let thumbnails = Set((tree.root.group("Thumbnails")?.groups ?? []).compactMap { tree.integer($0.value("ImageIndex")) })
        let images = list.groups.enumerated().filter { !thumbnails.contains($0.offset) }
        guard !images.isEmpty else {
            throw UnmixError("\(path): the DigitalMicrograph file holds no image besides its thumbnail")
        }
        var firstError: UnmixError?
        for (index, group) in images {
            do {
                var dataset = try readImage(group, index: index, tree: tree, path: path)
                if images.count > 1 {
                    dataset.warnings.insert("\(path) holds \(images.count) images besides its thumbnail: read image \(index) \"\(DMTagTree.printable(dataset.title))\"", at: 0)
                }
                return dataset
            } catch let error as UnmixError {
                firstError = firstError ?? error
            }
        }
        throw firstError ?? UnmixError("\(path): no image could be read")
    }

    /// What RosettaSciIO calls the signal type, from the image's tags.
    enum SignalType: String { case eels = "EELS", eds = "EDS_TEM", cl = "CL", none = "" }

    /// Reads image `index` of the `ImageList`.
    static func readImage(_ image: DMTagTree.Group, index: Int, tree: DMTagTree, path: String) throws -> Dataset {
        let what = "\(path): image \(index)"
        guard let data = image.group("ImageData") else { throw UnmixError("\(what) has no ImageData") }
        guard let code = tree.integer(data.value("DataType")) else { throw UnmixError("\(what) has no DataType") }
        let type = try sampleType(code, what)
        guard let dimensionGroup = data.group("Dimensions") else { throw UnmixError("\(what) has no Dimensions") }
        var dims = [Int]()
        for value in dimensionGroup.values {
            guard let size = tree.integer(value), size >= 0 else { throw UnmixError("\(what) has a dimension that is not a size") }
            dims.append(size)
        }
        guard (1...3).contains(dims.count) else {
            throw UnmixError("\(what) is \(dims.count)-D (\(dims.map(String.init).joined(separator: " × "))): unmix reads spectra (1-D), line scans (2-D) and spectrum images (3-D)")
        }
        guard !dims.contains(0) else { throw UnmixError("\(what) is empty (\(dims.map(String.init).joined(separator: " × ")))") }
        let count = try dims.reduce(1) { try $0.checkedTimes($1, what) }
        guard case .array(let element, let stored, let offset)? = data.value("Data") else {
            throw UnmixError("\(what): its ImageData has no Data array")
        }
        guard stored == count, element.size == type.size else {
            throw UnmixError("\(what): its Data holds \(stored) values of \(element.size) bytes, its dimensions \(dims.map(String.init).joined(separator: " × ")) of \(type.rawValue) need \(count) of \(type.size)")
        }

        var warnings = [String]()
        let title = tree.text(image.value("Name")).flatMap { $0.isEmpty ? nil : $0 }
            ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let calibrations = data.group("Calibrations", "Dimension")?.groups ?? []
        let axes = dims.indices.map { i -> (offset: Double, scale: Double, units: String) in
            let calibration = i < calibrations.count ? calibrations[i] : nil
            var origin = tree.number(calibration?.value("Origin")) ?? 0
            var scale = tree.number(calibration?.value("Scale")) ?? 1
            if !(-origin * scale).isFinite || !scale.isFinite {
                warnings.append("\(what): dimension \(i) has a non-finite calibration (origin \(origin), scale \(scale)): read uncalibrated")
                (origin, scale) = (0, 1)
            }
            return (-origin * scale, scale, tree.text(calibration?.value("Units")) ?? "")
        }

        let tags = image.group("ImageTags")
        let format = tree.text(tags?.value("Meta Data", "Format"))
        let signal = tree.text(tags?.value("Meta Data", "Signal")) ?? ""
        let isOrsay = tags?.entry("spim") != nil
        let signalType: SignalType
        if signal == "X-ray" {
            signalType = .eds
        } else if signal == "CL" || tags?.group("Acquisition")?.entry("Monarc Spectrometer") != nil {
            signalType = .cl
        } else if signal == "EELS" || tags?.group("spim")?.entry("eels") != nil {
            signalType = .eels
        } else {
            signalType = .none
        }
        // HyperSpy's axis names, in NumPy order (the slowest dimension first).
        let names = hyperSpyNames(units: axes.reversed().map(\.units), signalType: signalType)
        func axis(_ dim: Int) -> Axis {
            Axis(name: names[dims.count - 1 - dim], size: dims[dim], offset: axes[dim].offset, scale: axes[dim].scale, units: axes[dim].units)
        }

        let layout: RawLayout
        let signalAxis: Axis, rowAxis: Axis, colAxis: Axis
        switch dims.count {
        case 1:
            layout = RawLayout(type: type, order: tree.byteOrder, rows: 1, cols: 1, bands: dims[0], offset: offset, interleave: .bip)
            (signalAxis, rowAxis, colAxis) = (axis(0), .index("y", size: 1), .index("x", size: 1))
        case 2:
            guard format == "Spectrum image" || format == "Spectrum" || isOrsay else {
                throw UnmixError("\(what) is a 2-D image (\(dims[0]) × \(dims[1])) without spectrum tags: unmix reads spectra, line scans and spectrum images")
            }
            layout = RawLayout(type: type, order: tree.byteOrder, rows: 1, cols: dims[1], bands: dims[0], offset: offset, interleave: .bip)
            (signalAxis, rowAxis, colAxis) = (axis(0), .index("y", size: 1), axis(1))
        default:
            if !(format == "Spectrum image" || isOrsay) {
                warnings.append("\(what) \"\(DMTagTree.printable(title))\" is a 3-D stack without spectrum-image tags: read with its slowest axis (\(dims[2]) planes) as the signal")
            }
            layout = RawLayout(type: type, order: tree.byteOrder, rows: dims[1], cols: dims[0], bands: dims[2], offset: offset, interleave: .bsq)
            (signalAxis, rowAxis, colAxis) = (axis(2), axis(1), axis(0))
        }
        let decoded = try layout.decode(tree.file.bytes, file: tree.file, name: path)
        return Dataset(path: path, format: "DigitalMicrograph \(tree.version)", cube: decoded.cube, dtype: type,
                       signalAxis: signalAxis, rowAxis: rowAxis, colAxis: colAxis, title: title,
                       warnings: warnings + decoded.warnings)
    }

    /// DM's image data types. 39 and 40 (64-bit integers, GMS 3) are not in RosettaSciIO.
    static func sampleType(_ code: Int, _ what: String) throws -> SampleType {
        switch code {
        case 1: return .int16
        case 2: return .float32
        case 6: return .uint8
        case 7: return .int32
        case 9: return .int8
        case 10: return .uint16
        case 11: return .uint32
        case 12: return .float64
        case 39: return .int64
        case 40: return .uint64
        case 3, 13: throw UnmixError("\(what) holds complex samples (DataType \(code)): unmix reads real samples only")
        case 5, 27, 28: throw UnmixError("\(what) holds packed complex (Fourier transform) samples (DataType \(code)): unmix reads real samples only")
        case 8, 23: throw UnmixError("\(what) is an RGB image (DataType \(code)), not a spectrum image")
        case 14: throw UnmixError("\(what) holds binary (bool) samples (DataType 14), not counts")
        default: throw UnmixError("\(what) has an unknown DataType \(code)")
        }
    }

    /// HyperSpy's axis names for axes of `units` in NumPy order: the energy axis of an EELS
    /// signal (units eV) is "Energy loss", the wavelength of a CL signal (nm) "Wavelength",
    /// and the others, from the fastest, x, y, z.
    static func hyperSpyNames(units: [String], signalType: SignalType) -> [String] {
        var names = [String](repeating: "", count: units.count)
        var remaining = Array(units.indices)
        let special: (unit: String, name: String)? = switch signalType {
        case .eels: ("eV", "Energy loss")
        case .cl: ("nm", "Wavelength")
        default: nil
        }
        if let special, let i = units.firstIndex(of: special.unit) {
            names[i] = special.name
            remaining.removeAll { $0 == i }
        }
        for (i, name) in zip(remaining.reversed(), ["x", "y", "z"]) { names[i] = name }
        return names
    }
}
