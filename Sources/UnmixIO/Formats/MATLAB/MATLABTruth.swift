/// The ground truth of a MAT file, brought into our order: endmembers R × bands (row-major)
/// and abundances pixels × R with pixels row-major, whatever the file's orientation and pixel
/// order. A truth whose shapes do not fit the cube is left out with a warning (the cube is
/// still read); one whose data cannot be read is an error (the file is damaged).
enum MATLABTruth {
    /// The most endmembers accepted (more is no unmixing truth, and bounds what is read).
    static let maximumR = 4096

    static func read(_ layout: MATLABLayout, file: MatFile) throws -> (truth: GroundTruth?, warnings: [String]) {
        guard let e = layout.endmembers else { return (nil, []) }
        let (eName, aName) = layout.kind == .hysupp ? ("E", "A") : ("GT", "S_GT")
        let bands = layout.bands, rows = layout.rows, cols = layout.cols
        let hysupp = layout.kind == .hysupp
        guard let a = layout.abundances else {
            return (nil, ["\(file.path): endmembers \(eName) (\(e.shapeText)) but no abundances \(aName): no ground truth to score against"])
        }
        let misfit = "\(file.path): ground truth \(eName) (\(e.shapeText)) and \(aName) (\(a.shapeText)) do not fit a \(rows) × \(cols) × \(bands) cube: not read"
        guard e.effectiveRank == 2 else { return (nil, [misfit]) }
        // R: as stated (HySUPP's p), else the dimension of E that is not the bands'.
        let r: Int
        if let stated = layout.statedR {
            r = stated
        } else if hysupp {
            r = e.dims[0] == bands ? e.dims[1] : e.dims[0]
        } else {
            r = e.dims[1] == bands ? e.dims[0] : e.dims[1]
        }
        guard r >= 1, r <= maximumR else { return (nil, [misfit]) }
        // Endmembers: bands × R (HySUPP's E) or R × bands (hu_autoencoders' GT).
        let bandsFirst: Bool
        let eDims = Array(e.dims.prefix(2))
        switch (eDims == [bands, r], eDims == [r, bands]) {
        case (true, true): bandsFirst = hysupp
        case (true, false): bandsFirst = true
        case (false, true): bandsFirst = false
        default: return (nil, [misfit])
        }
        guard let form = abundanceForm(a.dims, rows: rows, cols: cols, r: r, hysupp: hysupp) else { return (nil, [misfit]) }

        let eValues = try file.doubles(e, limit: bands * r)
        var endmembers = [Float](repeating: 0, count: r * bands)
        for k in 0..<r {
            for b in 0..<bands { endmembers[k * bands + b] = Float(eValues[bandsFirst ? b + k * bands : k + b * r]) }
        }
        let pixels = rows * cols
        let aValues = try file.doubles(a, limit: pixels * r)
        var abundances = [Float](repeating: 0, count: pixels * r)
        for row in 0..<rows {
            for col in 0..<cols {
                // The pixel's index along the file's pixels dimension (that of Y).
                let p = layout.pixelsColumnMajor ? row + col * rows : row * cols + col
                for k in 0..<r {
                    let i: Int
                    switch form {
                    case .rowsColsR: i = row + col * rows + k * pixels
                    case .rRowsCols: i = k + row * r + col * r * rows
                    case .rPixels: i = k + p * r
                    case .pixelsR: i = p + k * pixels
                    }
                    abundances[(row * cols + col) * r + k] = Float(aValues[i])
                }
            }
        }
        var names: [String]?
        if let labels = layout.labels, let strings = file.strings(labels, limit: 1 << 16), strings.count == r {
            names = strings
        }
        let truth = GroundTruth(r: r, endmembers: endmembers, abundances: abundances,
                                source: "\(file.path) (\(eName), \(aName))", names: names)
        return (truth, [])
    }

    /// How the abundances are laid out, in MATLAB's dimensions.
    private enum AbundanceForm: CaseIterable { case rowsColsR, rRowsCols, rPixels, pixelsR }

    /// The first form, in the layout's order of preference, whose dimensions are `dims`
    /// (trailing singleton dimensions dropped, as MATLAB does).
    private static func abundanceForm(_ dims: [Int], rows: Int, cols: Int, r: Int, hysupp: Bool) -> AbundanceForm? {
        let pixels = rows * cols
        let order: [AbundanceForm] = hysupp ? [.rPixels, .pixelsR, .rRowsCols, .rowsColsR]
                                            : [.rowsColsR, .pixelsR, .rPixels, .rRowsCols]
        let have = trimmed(dims)
        return order.first { form in
            switch form {
            case .rowsColsR: return trimmed([rows, cols, r]) == have
            case .rRowsCols: return trimmed([r, rows, cols]) == have
            case .rPixels: return trimmed([r, pixels]) == have
            case .pixelsR: return trimmed([pixels, r]) == have
            }
        }
    }

    private static func trimmed(_ dims: [Int]) -> [Int] {
        var d = dims
        while d.count > 2, d.last == 1 { d.removeLast() }
        return d
    }
}
