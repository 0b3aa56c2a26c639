import Foundation

/// Known endmembers and abundances to score a run against.
public struct GroundTruth: Sendable {
    public var r: Int
    /// R × B.
    public var endmembers: [Float]
    /// pixels × R.
    public var abundances: [Float]
    /// Where it was read from.
    public var source: String

    public init(r: Int, endmembers: [Float], abundances: [Float], source: String) {
        self.r = r
        self.endmembers = endmembers
        self.abundances = abundances
        self.source = source
    }
}

/// What `run`, `compare` and `demo` unmix: a cube, and its ground truth when known.
public struct Input: Sendable {
    public var cube: CubeData
    public var truth: GroundTruth?
    public var path: String
    /// The energy of each band, when the input says (a synth folder's meta.json).
    public var energy: [Double]?
    /// Names of the true endmembers, when the input says.
    public var endmemberNames: [String]?

    /// Opens INPUT: a `.npy` file (3-D rows × cols × B, or 2-D pixels × B with `shape`), or a
    /// folder written by `unmix synth` (its `cube.npy`, and its ground truth). Refuses empty and
    /// non-finite cubes with one line naming the file.
    public static func open(_ path: String, shape: (rows: Int, cols: Int)? = nil) throws -> Input {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw UnmixError("cannot read \(path): no such file or directory")
        }
        let cubePath = isDir.boolValue ? (path as NSString).appendingPathComponent("cube.npy") : path
        if isDir.boolValue && !FileManager.default.fileExists(atPath: cubePath) {
            throw UnmixError("\(path) is a folder without cube.npy (expected a .npy file or a folder written by 'unmix synth')")
        }
        let array = try NPY.read(URL(fileURLWithPath: cubePath))
        let cube: CubeData
        switch array.shape.count {
        case 3:
            if shape != nil { throw UnmixError.usage("--shape is only for 2-D inputs; \(cubePath) is 3-D \(array.shape)") }
            cube = CubeData(rows: array.shape[0], cols: array.shape[1], bands: array.shape[2], values: array.values)
        case 2:
            guard let shape else {
                throw UnmixError("\(cubePath) is 2-D \(array.shape) (pixels × bands): give the map size with --shape ROWSxCOLS")
            }
            guard shape.rows * shape.cols == array.shape[0] else {
                throw UnmixError("--shape \(shape.rows)x\(shape.cols) makes \(shape.rows * shape.cols) pixels, \(cubePath) has \(array.shape[0])")
            }
            cube = CubeData(rows: shape.rows, cols: shape.cols, bands: array.shape[1], values: array.values)
        default:
            throw UnmixError("\(cubePath) has shape \(array.shape): expected rows × cols × bands (3-D) or pixels × bands (2-D)")
        }
        guard cube.pixels > 0, cube.bands > 0 else { throw UnmixError("\(cubePath) is empty (shape \(array.shape))") }
        if let bad = cube.firstNonFinite() {
            throw UnmixError("\(cubePath) holds a non-finite value (NaN or infinity) at pixel \(bad.pixel), band \(bad.band)")
        }
        var input = Input(cube: cube, truth: nil, path: path)
        if isDir.boolValue, FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("endmembers.npy")) {
            input.truth = try GroundTruth.read(from: path, for: cube)
        }
        if isDir.boolValue, let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent("meta.json")),
           let meta = try? parseJSON(data) {
            // Descriptive only: a meta.json that does not say is ignored.
            if let values = (meta["energy"] as? [String: Any])?["values"] as? [Double], values.count == cube.bands {
                input.energy = values
            }
            input.endmemberNames = meta["endmember_names"] as? [String]
        }
        return input
    }
}

extension GroundTruth {
    /// Reads `endmembers.npy` (R × B) and `abundances.npy` (rows × cols × R) from `dir` and checks
    /// them against the cube.
    public static func read(from dir: String, for cube: CubeData) throws -> GroundTruth {
        let ePath = (dir as NSString).appendingPathComponent("endmembers.npy")
        let aPath = (dir as NSString).appendingPathComponent("abundances.npy")
        guard FileManager.default.fileExists(atPath: ePath), FileManager.default.fileExists(atPath: aPath) else {
            throw UnmixError("ground truth folder \(dir) needs endmembers.npy and abundances.npy")
        }
        let e = try NPY.read(URL(fileURLWithPath: ePath))
        let a = try NPY.read(URL(fileURLWithPath: aPath))
        guard e.shape.count == 2, e.shape[1] == cube.bands, e.shape[0] >= 1 else {
            throw UnmixError("\(ePath) has shape \(e.shape), expected (R, \(cube.bands))")
        }
        let r = e.shape[0]
        let pixelsOK = (a.shape.count == 3 && a.shape[0] == cube.rows && a.shape[1] == cube.cols)
            || (a.shape.count == 2 && a.shape[0] == cube.pixels)
        guard pixelsOK, a.shape.last == r else {
            throw UnmixError("\(aPath) has shape \(a.shape), expected (\(cube.rows), \(cube.cols), \(r))")
        }
        guard !e.values.contains(where: { !$0.isFinite }), !a.values.contains(where: { !$0.isFinite }) else {
            throw UnmixError("ground truth in \(dir) holds non-finite values")
        }
        return GroundTruth(r: r, endmembers: e.values, abundances: a.values, source: dir)
    }
}

/// Parses `ROWSxCOLS`.
public func parseShape(_ text: String) throws -> (rows: Int, cols: Int) {
    let parts = text.lowercased().split(separator: "x")
    guard parts.count == 2, let r = Int(parts[0]), let c = Int(parts[1]), r > 0, c > 0 else {
        throw UnmixError.usage("--shape expects ROWSxCOLS (e.g. 64x64), got '\(text)'")
    }
    return (r, c)
}

/// Checks R against the cube: 1 ≤ R < bands and R ≤ pixels.
public func validateEndmemberCount(_ r: Int, for cube: CubeData) throws {
    guard r >= 1 else { throw UnmixError("R = \(r): the number of endmembers must be at least 1") }
    guard r < cube.bands else {
        throw UnmixError("R = \(r): the number of endmembers must be below the number of bands (\(cube.bands))")
    }
    guard r <= cube.pixels else { throw UnmixError("R = \(r) exceeds the number of pixels (\(cube.pixels))") }
}
