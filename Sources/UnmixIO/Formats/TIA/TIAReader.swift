import Foundation

/// An FEI/Thermo TIA (TEM Imaging & Analysis) series: the `.ser` file of the data and the
/// `.emi` file of its metadata (`x.emi` describes `x_1.ser`, `x_2.ser`, …). Either may be
/// given; an `.emi` opens its first series.
///
/// A series of spectra (data type `0x4120`) is a spectrum image: one spectrum per scan
/// position, the navigation shape from the dimension array (two dimensions: a map; one: a line
/// scan; none: the map guessed from the beam positions in the tags, as RosettaSciIO does). A
/// series of images (`0x4122`, e.g. an energy-filtered series) is read with one channel per
/// image. The `.emi` is read for the units of images (real or reciprocal space); a missing or
/// unreadable `.emi` is a warning, never a failure.
public enum TIAReader: DatasetReader {
    public static let formatName = "FEI TIA"
    public static let extensions = ["ser", "emi"]

    public static func recognizes(_ head: [UInt8], path: String) -> Bool? {
        switch (path as NSString).pathExtension.lowercased() {
        case "ser": return SERFile.hasSignature(head)
        case "emi": return seriesFiles(ofEMI: path).isEmpty ? nil : true
        default: return SERFile.hasSignature(head)
        }
    }

    /// The `.ser` files of an `.emi` (`x_1.ser`, `x_2.ser`, … beside `x.emi`), by series number.
    static func seriesFiles(ofEMI path: String) -> [(number: Int, path: String)] {
        let folder = (path as NSString).deletingLastPathComponent
        let prefix = TextHeader.baseName(path) + "_"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix(prefix), (name as NSString).pathExtension.lowercased() == "ser",
                  let number = Int(TextHeader.stem(String(name.dropFirst(prefix.count)))), number >= 1 else { return nil }
            return (number, folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The `.emi` of a `.ser` file `x_N.ser` (`x.emi`), and N; nil when absent.
    static func emi(ofSER path: String) -> (path: String, number: Int)? {
        let stem = TextHeader.stem(path)
        guard let underscore = stem.lastIndex(of: "_"), let number = Int(stem[stem.index(after: underscore)...]), number >= 1
        else { return nil }
        let base = String(stem[..<underscore])
        return ["emi", "EMI"].lazy.map { "\(base).\($0)" }.first(where: TextHeader.isFile).map { ($0, number) }
    }

    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        var warnings = [String]()
        let serPath: String
        var emiPath: String?
        var series = 1
        if (path as NSString).pathExtension.lowercased() == "emi" {
            let all = seriesFiles(ofEMI: path)
            guard let first = all.first else {
                throw UnmixError("\(path): no series file \(TextHeader.baseName(path))_1.ser beside the .emi")
            }
            if all.count > 1 {
                warnings.append("\(path) has \(all.count) series: read \((first.path as NSString).lastPathComponent); open the others by their .ser names")
            }
            (serPath, emiPath, series) = (first.path, path, first.number)
        } else {
            serPath = path
            if let found = emi(ofSER: path) {
                (emiPath, series) = (found.path, found.number)
            } else {
                warnings.append("\(path): no .emi beside it: its metadata (image units) is not read")
            }
        }
        var metadata: String?
        if let emiPath {
            do {
                let emi = try EMIMetadata(path: emiPath)
                if series <= emi.objects.count {
                    metadata = emi.objects[series - 1]
                } else {
                    warnings.append("\(emiPath) has no metadata for series \(series): only the .ser header is read")
                }
            } catch let error as UnmixError {
                warnings.append("\(error.message): only the .ser header is read")
            }
        }

        let file = try MappedFile(serPath)
        let ser = try SERFile(file.bytes, name: serPath)
        var dataset: Dataset
        switch ser.kind {
        case .spectra: dataset = try readSpectra(ser, file: file, name: serPath, warnings: &warnings)
        case .images: dataset = try readImages(ser, file: file, name: serPath, metadata: metadata, warnings: &warnings)
        }
        dataset.path = path
        dataset.title = TextHeader.baseName(emiPath ?? serPath)
        dataset.warnings = warnings + dataset.warnings
        return dataset
    }

    // MARK: - Spectra

    /// Where the spectra go: the map's size, its axes, and whether elements run down columns.
    struct Navigation {
        var rows: Int
        var cols: Int
        var rowAxis: Axis
        var colAxis: Axis
        var columnMajor = false
    }

    static func readSpectra(_ ser: SERFile, file: MappedFile, name: String, warnings: inout [String]) throws -> Dataset {
        let elements = try (0..<ser.validElements).map { try ser.element($0, in: file.bytes, name: name) }
        guard let first = elements.first else { throw UnmixError("\(name): the series holds no valid element") }
        let bands = first.sizeX
        guard bands > 0 else { throw UnmixError("\(name): element 0 holds no channel") }
        if let other = elements.firstIndex(where: { $0.sizeX != bands }) {
            throw UnmixError("\(name): element \(other) has \(elements[other].sizeX) channels, element 0 has \(bands)")
        }
        if let other = elements.firstIndex(where: { $0.type != first.type }) {
            warnings.append("\(name): element \(other) holds \(elements[other].type.rawValue), element 0 \(first.type.rawValue): each is read as stored")
        }
        if let other = elements.firstIndex(where: { $0.calibrationX != first.calibrationX }) {
            warnings.append("\(name): element \(other)'s energy calibration differs from element 0's: the first one is used")
        }
        let navigation = try self.navigation(ser, file: file, name: name, warnings: &warnings)
        let pixels = try navigation.rows.checkedTimes(navigation.cols, name)
        guard elements.count <= pixels else {
            throw UnmixError("\(name): \(elements.count) spectra for a \(navigation.rows) × \(navigation.cols) map")
        }
        if elements.count < pixels {
            try checkFill(pixels: pixels, bands: bands, fileSize: file.bytes.count, name: name)
            warnings.append("\(name): only \(elements.count) of \(navigation.rows) × \(navigation.cols) spectra were acquired: the others are zero")
        }
        // Element e → pixel: row-major, or down the columns when the beam ran that way.
        func pixel(_ e: Int) -> Int {
            navigation.columnMajor ? (e % navigation.rows) * navigation.cols + e / navigation.rows : e
        }
        let cube: CubeData
        if elements.count == pixels, let step = uniformStep(elements, ser: ser) {
            let k = step / first.type.size
            _ = try k.checkedTimes(pixels, name)
            let layout = RawLayout(type: first.type, order: .little, rows: navigation.rows, cols: navigation.cols,
                                   bands: bands, offset: first.dataOffset,
                                   rowStride: navigation.columnMajor ? k : k * navigation.cols,
                                   colStride: navigation.columnMajor ? k * navigation.rows : k, bandStride: 1)
            let decoded = try layout.decode(file.bytes, file: file, name: name)
            warnings += decoded.warnings
            cube = decoded.cube
        } else {
            let count = try pixels.checkedTimes(bands, name)
            try SampleStorage.checkAllocatable(count, name)
            var notes = Set<String>()
            let storage = try SampleStorage(count: count) { out in
                out.initialize(repeating: 0)
                for (e, element) in elements.enumerated() {
                    let layout = RawLayout(type: element.type, order: .little, rows: 1, cols: 1, bands: bands,
                                           offset: element.dataOffset, interleave: .bip)
                    let decoded = try layout.decode(file.bytes, name: name)
                    notes.formUnion(decoded.warnings)
                    decoded.cube.withUnsafeValues { values in
                        let start = pixel(e) * bands
                        for b in 0..<bands { out[start + b] = values[b] }
                    }
                }
            }
            warnings += notes.sorted()
            cube = CubeData(rows: navigation.rows, cols: navigation.cols, bands: bands, storage: storage)
        }
        let signal = calibratedAxis("Energy", size: bands, first: first.calibrationX.firstValue,
                                    step: first.calibrationX.delta, units: "eV", name: name, warnings: &warnings)
        return Dataset(path: name, format: "\(formatName) (ser 0x\(String(ser.version, radix: 16)))", cube: cube,
                       dtype: first.type, signalAxis: signal, rowAxis: navigation.rowAxis, colAxis: navigation.colAxis,
                       warnings: [])
    }

    /// The byte step between consecutive elements when they are evenly spaced, of one type,
    /// and a whole number of samples apart (so that one `RawLayout` reads them all); else nil.
    static func uniformStep(_ elements: [SERFile.Element], ser: SERFile) -> Int? {
        guard let first = elements.first else { return nil }
        guard elements.count > 1 else { return first.type.size }
        let step = elements[1].dataOffset - first.dataOffset
        guard step > 0, step % first.type.size == 0 else { return nil }
        for e in 1..<elements.count {
            guard elements[e].type == first.type, elements[e].dataOffset - elements[e - 1].dataOffset == step else { return nil }
        }
        return step
    }

    /// Refuses to make up more zeros than a file of this size could plausibly lack.
    static func checkFill(pixels: Int, bands: Int, fileSize: Int, name: String) throws {
        let bytes = try pixels.checkedTimes(bands, name).checkedTimes(4, name)
        let limit = max(64 << 20, fileSize.multipliedReportingOverflow(by: 16).overflow ? Int.max : fileSize * 16)
        guard bytes <= limit else {
            throw UnmixError("\(name): a \(pixels)-pixel map of \(bands) channels (\(bytes) bytes) from a \(fileSize)-byte file: the dimension array cannot be right")
        }
    }

    /// The navigation of a series of spectra, from its dimension array (or its beam positions).
    static func navigation(_ ser: SERFile, file: MappedFile, name: String, warnings: inout [String]) throws -> Navigation {
        let valid = ser.validElements
        switch ser.dimensions.count {
        case 0:
            return positionNavigation(ser, file: file, name: name, warnings: &warnings)
        case 1:
            let dimension = ser.dimensions[0]
            // A stopped series: only the valid elements (RosettaSciIO's reading).
            let size = ser.totalElements != valid ? valid : max(dimension.size, valid)
            return Navigation(rows: 1, cols: size, rowAxis: .index("y", size: 1),
                              colAxis: navigationAxis(dimension, size: size, defaultName: "x", name: name, warnings: &warnings))
        case 2:
            // Dimension 1 runs fastest when the tags say the beam moved along x first (the y of
            // elements 0 and 1 equal); otherwise dimension 2 does (RosettaSciIO's rule).
            let positions = ser.positions(in: file.bytes, name: name, limit: 2)
            let xFirst = positions.map { $0.count == 2 && $0[0].y == $0[1].y } ?? false
            let (rowDimension, colDimension) = xFirst ? (ser.dimensions[1], ser.dimensions[0]) : (ser.dimensions[0], ser.dimensions[1])
            guard rowDimension.size > 0, colDimension.size > 0 else {
                throw UnmixError("\(name): a \(rowDimension.size) × \(colDimension.size) map")
            }
            return Navigation(rows: rowDimension.size, cols: colDimension.size,
                              rowAxis: navigationAxis(rowDimension, size: rowDimension.size, defaultName: "y", name: name, warnings: &warnings),
                              colAxis: navigationAxis(colDimension, size: colDimension.size, defaultName: "x", name: name, warnings: &warnings))
        default:
            throw UnmixError("\(name): \(ser.dimensions.count) navigation dimensions: unmix reads maps of at most 2")
        }
    }

    /// The map of a series without a dimension array, from the beam positions of the tags: a
    /// raster when x (or y) repeats with a period that divides the count, else a line.
    static func positionNavigation(_ ser: SERFile, file: MappedFile, name: String, warnings: inout [String]) -> Navigation {
        let n = ser.validElements
        let line = Navigation(rows: 1, cols: n, rowAxis: .index("y", size: 1), colAxis: .index("x", size: n))
        guard n > 1, let p = ser.positions(in: file.bytes, name: name), p.count == n else { return line }
        func period(_ value: (SERFile.Position) -> Double) -> Int {
            (1..<n).first(where: { value(p[$0]) == value(p[0]) }) ?? n
        }
        func axis(_ axisName: String, size: Int, first: Double, step: Double) -> Axis {
            guard size > 1, (first * 1e9).isFinite, (step * 1e9).isFinite else { return .index(axisName, size: size) }
            return Axis(name: axisName, size: size, offset: first * 1e9, scale: step * 1e9, units: "nm")
        }
        let xMoves = p[1].x != p[0].x, yMoves = p[1].y != p[0].y
        if xMoves && !yMoves {
            let cols = period(\.x)
            guard n % cols == 0 else { return line }
            let rows = n / cols
            return Navigation(rows: rows, cols: cols,
                              rowAxis: axis("y", size: rows, first: p[0].y, step: rows > 1 ? p[cols].y - p[0].y : 1),
                              colAxis: axis("x", size: cols, first: p[0].x, step: p[1].x - p[0].x))
        }
        if yMoves && !xMoves {
            let rows = period(\.y)
            guard n % rows == 0 else { return line }
            let cols = n / rows
            return Navigation(rows: rows, cols: cols,
                              rowAxis: axis("y", size: rows, first: p[0].y, step: p[1].y - p[0].y),
                              colAxis: axis("x", size: cols, first: p[0].x, step: cols > 1 ? p[rows].x - p[0].x : 1),
                              columnMajor: true)
        }
        if xMoves && yMoves {
            // An oblique line: its step is the distance between positions.
            let step = ((p[1].x - p[0].x) * (p[1].x - p[0].x) + (p[1].y - p[0].y) * (p[1].y - p[0].y)).squareRoot()
            return Navigation(rows: 1, cols: n, rowAxis: .index("y", size: 1), colAxis: axis("x", size: n, first: 0, step: step))
        }
        return line
    }

    /// A navigation axis from a dimension: metres become nanometres (offset and scale).
    static func navigationAxis(_ dimension: SERFile.Dimension, size: Int, defaultName: String, name: String,
                               warnings: inout [String]) -> Axis {
        var units = dimension.units
        var factor = 1.0
        switch units.lowercased() {
        case "meters", "m": (units, factor) = ("nm", 1e9)
        case "1/meters", "1/m": (units, factor) = ("1 / nm", 1e-9)
        default: break
        }
        let axisName = units == "nm" || dimension.description.isEmpty ? defaultName : dimension.description
        return calibratedAxis(axisName, size: size, first: dimension.firstValue * factor,
                              step: dimension.calibrationDelta * factor, units: units, name: name, warnings: &warnings)
    }

    /// An axis, or an index axis with a warning when the calibration is not finite.
    static func calibratedAxis(_ axisName: String, size: Int, first: Double, step: Double, units: String, name: String,
                               warnings: inout [String]) -> Axis {
        guard first.isFinite, step.isFinite else {
            warnings.append("\(name): the \(axisName) calibration is not a finite number: the axis counts indices")
            return .index(axisName, size: size)
        }
        return Axis(name: axisName, size: size, offset: first, scale: step, units: units)
    }

    // MARK: - Images

    static func readImages(_ ser: SERFile, file: MappedFile, name: String, metadata: String?,
                           warnings: inout [String]) throws -> Dataset {
        let scanned = ser.dimensions.filter { $0.size > 1 }
        guard scanned.count <= 1 else {
            throw UnmixError("\(name): images on a \(scanned.map { String($0.size) }.joined(separator: " × ")) scan (4-D data) are not a spectrum image")
        }
        let elements = try (0..<ser.validElements).map { try ser.element($0, in: file.bytes, name: name) }
        guard let first = elements.first else { throw UnmixError("\(name): the series holds no valid element") }
        let (rows, cols, bands) = (first.sizeY, first.sizeX, elements.count)
        guard rows > 0, cols > 0 else { throw UnmixError("\(name): element 0 is a \(cols) × \(rows) image") }
        if let other = elements.firstIndex(where: { $0.sizeX != cols || $0.sizeY != rows }) {
            throw UnmixError("\(name): element \(other) is a \(elements[other].sizeX) × \(elements[other].sizeY) image, element 0 \(cols) × \(rows)")
        }
        if let other = elements.firstIndex(where: { $0.type != first.type }) {
            warnings.append("\(name): element \(other) holds \(elements[other].type.rawValue), element 0 \(first.type.rawValue): each is read as stored")
        }
        // Decoded as stored (x fastest, the image's bottom row first), then flipped upright.
        let stored: CubeData
        _ = try rows.checkedTimes(cols, name).checkedTimes(bands, name)
        if let step = uniformStep(elements, ser: ser) {
            let layout = RawLayout(type: first.type, order: .little, rows: rows, cols: cols, bands: bands,
                                   offset: first.dataOffset, rowStride: cols, colStride: 1, bandStride: step / first.type.size)
            let decoded = try layout.decode(file.bytes, name: name)
            warnings += decoded.warnings
            stored = decoded.cube
        } else {
            let count = try rows.checkedTimes(cols, name).checkedTimes(bands, name)
            // Real series store each element's data apart: more samples than the file has bytes
            // for is a corrupt file (and would size an allocation from it).
            guard try count.checkedTimes(first.type.size, name) <= file.bytes.count else {
                throw UnmixError("\(name): the series declares \(bands) images of \(cols)×\(rows), more data than the file's \(file.bytes.count) bytes hold")
            }
            var notes = Set<String>()
            let storage = try SampleStorage(count: count) { out in
                for (e, element) in elements.enumerated() {
                    let layout = RawLayout(type: element.type, order: .little, rows: rows, cols: cols, bands: 1,
                                           offset: element.dataOffset, interleave: .bsq)
                    let decoded = try layout.decode(file.bytes, name: name)
                    notes.formUnion(decoded.warnings)
                    decoded.cube.withUnsafeValues { values in
                        for p in 0..<(rows * cols) { out[p * bands + e] = values[p] }
                    }
                }
            }
            warnings += notes.sorted()
            stored = CubeData(rows: rows, cols: cols, bands: bands, storage: storage)
        }
        let cube = stored.withUnsafeValues { values in
            CubeData(rows: rows, cols: cols, bands: bands, storage: SampleStorage(count: values.count) { out in
                let line = cols * bands
                for r in 0..<rows {
                    let from = (rows - 1 - r) * line, to = r * line
                    for i in 0..<line { out[to + i] = values[from + i] }
                }
            })
        }
        // Image units: real space unless the .emi says the camera saw a diffraction pattern.
        let reciprocal = metadata.map { isReciprocal($0, ser: ser) } ?? false
        let (units, factor) = reciprocal ? ("1 / nm", 1e-9) : ("nm", 1e9)
        let calibrationY = first.calibrationY ?? first.calibrationX
        let rowAxis = calibratedAxis("y", size: rows, first: calibrationY.firstValue * factor, step: calibrationY.delta * factor,
                                     units: units, name: name, warnings: &warnings)
        let colAxis = calibratedAxis("x", size: cols, first: first.calibrationX.firstValue * factor,
                                     step: first.calibrationX.delta * factor, units: units, name: name, warnings: &warnings)
        var signal = Axis.index("image", size: bands)
        if let series = scanned.first ?? ser.dimensions.first {
            signal = navigationAxis(series, size: bands, defaultName: "image", name: name, warnings: &warnings)
        }
        return Dataset(path: name, format: "\(formatName) (ser 0x\(String(ser.version, radix: 16)), images)", cube: cube,
                       dtype: first.type, signalAxis: signal, rowAxis: rowAxis, colAxis: colAxis, warnings: [])
    }

    /// Whether the images of a series are diffraction patterns, from the `.emi`'s mode (as
    /// RosettaSciIO decides): STEM with a camera or a scan of images, or a diffraction mode.
    static func isReciprocal(_ metadata: String, ser: SERFile) -> Bool {
        guard let mode = EMIMetadata.experimentalDescription(in: metadata)["Mode"] else { return false }
        if mode.contains("STEM") {
            let camera = EMIMetadata.element("CameraNamePath", in: metadata) != nil
            // A line scan of patterns (RosettaSciIO takes any dimension with units; an energy
            // series is not a scan, so only a spatial one counts here).
            let scan = (ser.dimensions.first?.size ?? 0) > 1 && ser.dimensions.first?.units.lowercased() == "meters"
            return camera || scan
        }
        return mode.contains("Diffraction")
    }
}
