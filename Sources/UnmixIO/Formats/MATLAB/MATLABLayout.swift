/// How a MAT file holds its cube, decided from the variables it has: which variable is the
/// cube, the map size, where sample (row, col, band) lies in that variable's elements, and
/// which variables hold the ground truth.
///
/// The layouts the unmixing community ships:
/// - **HySUPP** (BehnoodRasti/HySUPP): `Y` bands × pixels, `H` rows, `W` columns (and `L`,
///   `N`, `p`), truth `E` bands × R and `A` R × pixels. Pixel n is row n / W, column n % W
///   (NumPy's row-major reshape of an H × W × L image).
/// - **hu_autoencoders** (burknipalsson/hu_autoencoders): `Y` bands × pixels, `lines` (or
///   `rows`) and `cols`, truth `GT` R × bands and `S_GT` rows × cols × R. Pixel j is row
///   j % lines, column j / lines (MATLAB's column-major `reshape(cube, [], B)'`).
/// - **3-D**: one numeric rows × cols × bands array (Indian Pines, Salinas), often with a
///   rows × cols label map beside it (class labels, not abundances: not read).
/// - A bare `Y` (bands × pixels) with no map size: the size comes from `ReadOptions.shape`,
///   and pixels are taken in HySUPP's order.
struct MATLABLayout {
    enum Kind: Equatable {
        case hysupp, huAutoencoders, bareY, cube

        /// The layout's name in `Dataset.format`.
        func describe(_ variable: String) -> String {
            switch self {
            case .hysupp: return "HySUPP layout"
            case .huAutoencoders: return "hu_autoencoders layout"
            case .bareY: return "Y bands × pixels"
            case .cube: return "rows × cols × bands '\(variable)'"
            }
        }
    }

    var kind: Kind
    /// The variable holding the samples.
    var data: MatVariable
    var rows: Int
    var cols: Int
    var bands: Int
    /// Where sample (row, col, band) is in `data`'s elements (column-major, as MATLAB holds
    /// them): row · rowStride + col · colStride + band · bandStride.
    var rowStride: Int
    var colStride: Int
    var bandStride: Int
    /// The order of the pixels in the truth's pixels-long dimension (that of `Y`).
    var pixelsColumnMajor: Bool
    /// The truth variables, when the file has them: endmembers and abundances.
    var endmembers: MatVariable?
    var abundances: MatVariable?
    /// The number of endmembers the file states (`p`), when it does.
    var statedR: Int?
    /// Endmember names (HySUPP's `labels`).
    var labels: MatVariable?
    var warnings: [String] = []

    /// Whether `data`'s elements already are the cube (pixel-major, row-major pixels).
    var isPixelMajor: Bool { bandStride == 1 && colStride == bands && rowStride == cols * bands }

    /// The layout of the file whose variables are `variables`.
    static func detect(_ variables: [MatVariable], file: MatFile, options: ReadOptions) throws -> MATLABLayout {
        var byName = [String: MatVariable]()
        for v in variables where byName[v.name] == nil { byName[v.name] = v }
        let numeric = { (name: String) -> MatVariable? in
            guard let v = byName[name], v.isRealNumeric else { return nil }
            return v
        }
        func size(_ name: String) throws -> Int? {
            guard let v = byName[name] else { return nil }
            guard v.isRealNumeric, v.isScalar else {
                throw file.failure("variable '\(name)' should be one number (a size), it is \(v.shapeText) \(v.className)")
            }
            let value = try file.doubles(v, limit: 1)[0]
            guard value.isFinite, value >= 1, value <= Double(Int32.max), value == value.rounded() else {
                throw file.failure("variable '\(name)' = \(formatNumber(value)) is not a size (a positive whole number)")
            }
            return Int(value)
        }

        if let y = byName["Y"], y.sampleType != nil, y.isComplex {
            throw file.failure("variable 'Y' is complex (\(y.shapeText) \(y.className)): only real arrays are read")
        }
        if let y = numeric("Y"), y.effectiveRank == 2 {
            if let h = try size("H"), let w = try size("W") {
                var layout = try pixels(y, rows: h, cols: w, columnMajor: false, kind: .hysupp, file: file, options: options)
                layout.endmembers = numeric("E")
                layout.abundances = numeric("A")
                layout.statedR = try size("p")
                layout.labels = byName["labels"]
                if let l = try size("L"), l != layout.bands {
                    layout.warnings.append("\(file.path): L = \(l) but Y has \(layout.bands) bands: L ignored")
                }
                return layout
            }
            if let lines = try size("lines") ?? size("rows"), let cols = try size("cols") {
                var layout = try pixels(y, rows: lines, cols: cols, columnMajor: true, kind: .huAutoencoders, file: file, options: options)
                layout.endmembers = numeric("GT")
                layout.abundances = numeric("S_GT")
                return layout
            }
            guard let shape = options.shape else {
                throw file.failure("Y is \(y.shapeText) (bands × pixels) and the file gives no map size (H and W, or lines and cols): give it with --shape ROWSxCOLS")
            }
            var layout = try pixels(y, rows: shape.rows, cols: shape.cols, columnMajor: false, kind: .bareY, file: file, options: options)
            layout.warnings.append("\(file.path): Y has no map size in the file: its pixels are taken row by row (HySUPP's order) as \(shape.rows) × \(shape.cols)")
            return layout
        }
        return try cube(variables, byName: byName, file: file, options: options)
    }

    /// The layout of a bands × pixels (or pixels × bands) `y` on a rows × cols map whose
    /// pixels run row by row (`columnMajor` false) or column by column.
    private static func pixels(_ y: MatVariable, rows: Int, cols: Int, columnMajor: Bool, kind: Kind,
                               file: MatFile, options: ReadOptions) throws -> MATLABLayout {
        let (pixels, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow else { throw file.failure("a \(rows) × \(cols) map is too large") }
        if kind != .bareY, let given = options.shape, given != (rows, cols) {
            throw UnmixError.usage("--shape \(given.rows)x\(given.cols) contradicts the map size in \(file.path) (\(rows) × \(cols))")
        }
        let d0 = y.dims[0], d1 = y.dims[1]
        // Pixel (row, col) is element p of the pixels dimension.
        let (pixelRow, pixelCol) = columnMajor ? (1, rows) : (cols, 1)
        let bands: Int, rowStride: Int, colStride: Int, bandStride: Int
        if d1 == pixels {           // bands × pixels: a pixel's spectrum is contiguous
            bands = d0
            (rowStride, colStride, bandStride) = (pixelRow * bands, pixelCol * bands, 1)
        } else if d0 == pixels {    // pixels × bands: band-sequential
            bands = d1
            (rowStride, colStride, bandStride) = (pixelRow, pixelCol, pixels)
        } else {
            let source = kind == .bareY ? "--shape" : "the file's map size"
            throw file.failure("Y is \(y.shapeText) but \(source) \(rows) × \(cols) makes \(pixels) pixels: neither dimension of Y has that many")
        }
        return MATLABLayout(kind: kind, data: y, rows: rows, cols: cols, bands: bands, rowStride: rowStride,
                            colStride: colStride, bandStride: bandStride, pixelsColumnMajor: columnMajor)
    }

    /// The layout of a file without `Y`: its largest real numeric 3-D array, rows × cols ×
    /// bands. Label maps (2-D arrays of the map's size) are named in a warning.
    private static func cube(_ variables: [MatVariable], byName: [String: MatVariable], file: MatFile,
                             options: ReadOptions) throws -> MATLABLayout {
        let candidates = variables.filter { $0.isRealNumeric && $0.effectiveRank == 3 }
        guard let data = candidates.max(by: { ($0.count ?? .max) < ($1.count ?? .max) }) else {
            let listed = variables.prefix(8).map { "\($0.name) (\($0.shapeText) \($0.className))" }.joined(separator: ", ")
            throw file.failure("no cube found: expected Y (bands × pixels) with its map size, or a rows × cols × bands array; the file holds \(listed.isEmpty ? "no variables" : listed)")
        }
        let (rows, cols, bands) = (data.dims[0], data.dims[1], data.dims[2])
        if let given = options.shape, given != (rows, cols) {
            throw UnmixError.usage("--shape is only for 2-D inputs; \(data.name) in \(file.path) is 3-D (\(data.shapeText))")
        }
        var layout = MATLABLayout(kind: .cube, data: data, rows: rows, cols: cols, bands: bands, rowStride: 1,
                                  colStride: rows, bandStride: rows &* cols, pixelsColumnMajor: true)
        for other in candidates where other !== data {
            layout.warnings.append("\(file.path): 3-D variable '\(other.name)' (\(other.shapeText)) not read: the cube is the larger '\(data.name)'")
        }
        for v in variables where v.isRealNumeric && v.effectiveRank == 2 && v.dims[0] == rows && v.dims[1] == cols && (rows > 1 || cols > 1) {
            layout.warnings.append("\(file.path): '\(v.name)' (\(v.shapeText) \(v.className)) looks like a label map: not read (class labels are not abundances)")
        }
        return layout
    }
}
