import Foundation

/// A folder written by `unmix synth`: `cube.npy` (rows × cols × bands), the ground truth
/// `endmembers.npy` (R × bands) and `abundances.npy` (rows × cols × R) when present, and
/// `meta.json` for the energy axis and the endmembers' names.
public enum SynthFolderReader {
    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        let folder = URL(fileURLWithPath: path)
        let cubePath = folder.appendingPathComponent("cube.npy").path
        guard FileManager.default.fileExists(atPath: cubePath) else {
            throw UnmixError("\(path) is a folder without cube.npy (expected a file or a folder written by 'unmix synth')")
        }
        var dataset = try NPYReader.read(cubePath, options: options)
        dataset.path = path
        dataset.format = "unmix synth folder"
        dataset.title = folder.lastPathComponent
        let meta = FileManager.default.contents(atPath: folder.appendingPathComponent("meta.json").path)
            .flatMap { try? JSONDecoder().decode(Meta.self, from: $0) }
        if let energy = meta?.energy, dataset.cube.bands > 0 {
            dataset.signalAxis = Axis(name: "Energy loss", size: dataset.cube.bands, offset: energy.offset,
                                      scale: energy.scale, units: energy.unit)
        }
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("endmembers.npy").path) {
            var truth = try readTruth(path, rows: dataset.cube.rows, cols: dataset.cube.cols, bands: dataset.cube.bands)
            truth.names = meta?.endmemberNames
            dataset.truth = truth
        }
        return dataset
    }

    /// Reads `endmembers.npy` (R × B) and `abundances.npy` (rows × cols × R, or pixels × R)
    /// from the folder `dir` and checks them against a cube of that size.
    public static func readTruth(_ dir: String, rows: Int, cols: Int, bands: Int) throws -> GroundTruth {
        let ePath = (dir as NSString).appendingPathComponent("endmembers.npy")
        let aPath = (dir as NSString).appendingPathComponent("abundances.npy")
        guard FileManager.default.fileExists(atPath: ePath), FileManager.default.fileExists(atPath: aPath) else {
            throw UnmixError("ground truth folder \(dir) needs endmembers.npy and abundances.npy")
        }
        let e = try NPY.read(URL(fileURLWithPath: ePath))
        let a = try NPY.read(URL(fileURLWithPath: aPath))
        guard e.shape.count == 2, e.shape[1] == bands, e.shape[0] >= 1 else {
            throw UnmixError("\(ePath) has shape \(NPY.pythonTuple(e.shape)), expected (R, \(bands))")
        }
        let r = e.shape[0]
        let pixelsOK = (a.shape.count == 3 && a.shape[0] == rows && a.shape[1] == cols) || (a.shape.count == 2 && a.shape[0] == rows * cols)
        guard pixelsOK, a.shape.last == r else {
            throw UnmixError("\(aPath) has shape \(NPY.pythonTuple(a.shape)), expected (\(rows), \(cols), \(r))")
        }
        guard e.values.allSatisfy(\.isFinite), a.values.allSatisfy(\.isFinite) else {
            throw UnmixError("ground truth in \(dir) holds non-finite values")
        }
        return GroundTruth(r: r, endmembers: e.values, abundances: a.values, source: dir)
    }

    /// The parts of `meta.json` a reader uses; the rest is descriptive.
    struct Meta: Decodable {
        struct Energy: Decodable {
            var offset: Double
            var scale: Double
            var unit: String
        }
        var energy: Energy?
        var endmemberNames: [String]?
        enum CodingKeys: String, CodingKey {
            case energy
            case endmemberNames = "endmember_names"
        }
    }
}
