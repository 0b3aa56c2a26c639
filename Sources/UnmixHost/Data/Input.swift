import Foundation

/// What `run`, `compare`, `apply` and `demo` unmix: a dataset read from any supported file (or
/// a synth folder), restricted to the user's selection, with its ground truth when known.
public struct Input: Sendable {
    /// The dataset after the selection: its cube, axes and truth are cropped alike.
    public var dataset: Dataset
    public var selection: Selection
    /// What the selection kept, in indices of the file's cube.
    public var region: SelectedRegion
    /// The file's cube size before the selection: rows, cols, bands.
    public var fileShape: [Int]
    /// What the host did to the cube before any plugin sees it (`cube` is the result, in
    /// counts; Poisson weighting is applied by the runner, with `poissonWeights`).
    public var preprocessing = Preprocessing()
    public var poissonWeights: PoissonWeights?
    public var backgroundFit: BackgroundFit.Summary?

    public var cube: CubeData { dataset.cube }
    public var path: String { dataset.path }
    public var signalAxis: Axis { dataset.signalAxis }
    public var truth: GroundTruth? {
        get { dataset.truth }
        set { dataset.truth = newValue }
    }

    /// Opens INPUT (see `Datasets.open`), scores against `truthFolder` instead of the file's
    /// own truth when given, then applies `selection`.
    /// Preprocessing, in order: the map selection, the background on the whole signal axis,
    /// the channel selection, then the Poisson weights from the selected raw counts
    /// (`poissonBand`: the band weights of the model being applied).
    public static func open(_ path: String, shape: (rows: Int, cols: Int)? = nil, selection: Selection = Selection(),
                            truthFolder: String? = nil, preprocessing: Preprocessing = Preprocessing(),
                            poissonBand: [Float]? = nil) throws -> Input {
        var dataset = try Datasets.open(path, options: ReadOptions(shape: shape))
        let cube = dataset.cube
        if let truthFolder {
            dataset.truth = try SynthFolderReader.readTruth(truthFolder, rows: cube.rows, cols: cube.cols, bands: cube.bands)
        }
        let fileShape = [cube.rows, cube.cols, cube.bands]
        guard !preprocessing.isEmpty else {
            let (selected, region) = try dataset.selecting(selection)
            return Input(dataset: selected, selection: selection, region: region, fileShape: fileShape)
        }
        // The map first, then the background on every channel, then the channels.
        let (mapped, mapRegion) = try dataset.selecting(Selection(range: nil, roi: selection.roi))
        var subtracted = mapped
        var fit: BackgroundFit?
        if let background = preprocessing.background {
            if let (pixel, band) = mapped.cube.firstNonFinite().map({ ($0.pixel, $0.band) }) {
                throw UnmixError("\(path): pixel \(pixel), channel \(band) is not finite: the background cannot be fitted")
            }
            fit = try BackgroundFit.fit(background, cube: mapped.cube, axis: mapped.signalAxis, path: path)
            subtracted.cube = fit!.subtracted
        }
        let rangeOnly = Selection(range: selection.range, roi: nil)
        let (selected, channelRegion) = try subtracted.selecting(rangeOnly)
        var input = Input(dataset: selected, selection: selection,
                          region: SelectedRegion(rows: mapRegion.rows, cols: mapRegion.cols, channels: channelRegion.channels),
                          fileShape: fileShape)
        input.preprocessing = preprocessing
        input.backgroundFit = fit?.summary
        if preprocessing.poisson {
            let raw = try mapped.selecting(rangeOnly).0.cube
            if let poissonBand, poissonBand.count != raw.bands {
                throw UnmixError("\(path): \(raw.bands) channels after the selection; the model's Poisson weights are for \(poissonBand.count)")
            }
            input.poissonWeights = try PoissonWeights.of(raw, path: path, band: poissonBand)
            if let low = input.poissonWeights?.negativeMinimum {
                input.dataset.warnings.append("--poisson assumes counts, and the data hold negative values (down to \(formatNumber(Double(low)))): the weights use the pixel and channel totals")
            }
        }
        return input
    }

    /// A cube held in memory, named `label` in messages (`validate`'s test cubes).
    public static func inMemory(_ cube: CubeData, label: String, truth: GroundTruth? = nil) throws -> Input {
        var dataset = Dataset(path: label, format: "memory", cube: cube, dtype: .float32)
        dataset.truth = truth
        let (selected, region) = try dataset.selecting(Selection())
        return Input(dataset: selected, selection: Selection(), region: region, fileShape: [cube.rows, cube.cols, cube.bands])
    }

    /// The `input` entry of run.json and compare.json: where the data came from, how it was
    /// read, what was selected.
    public var report: [String: Any?] {
        [
            "path": path, "format": dataset.format, "dtype": dataset.dtype.rawValue, "title": dataset.title,
            "rows": cube.rows, "cols": cube.cols, "bands": cube.bands, "file_shape": fileShape,
            "signal_axis": axisReport(signalAxis), "navigation_axes": [axisReport(dataset.rowAxis), axisReport(dataset.colAxis)],
            "selection": [
                "range": selection.range?.text, "roi": selection.roi?.text,
                "rows": [region.rows.lowerBound, region.rows.upperBound],
                "cols": [region.cols.lowerBound, region.cols.upperBound],
                "channels": [region.channels.lowerBound, region.channels.upperBound],
            ] as [String: Any?],
            "truth": truth?.source,
            "preprocessing": preprocessing.isEmpty ? nil : [
                "background": preprocessing.background?.text, "poisson_weighting": preprocessing.poisson,
            ] as [String: Any?],
        ]
    }

    /// The `preprocessing` entry of run.json, nil when none was asked for.
    public func preprocessingReport(scales: [Double]?) -> PreprocessingReport? {
        preprocessing.isEmpty ? nil : PreprocessingReport(background: preprocessing.background?.text, poissonWeighting: preprocessing.poisson,
                                                          backgroundFit: backgroundFit, poissonScales: scales)
    }

    /// One line for summaries: "eels3 (unmix synth folder, 64×64×200 float32, 250 … 913 eV)".
    public var summary: String {
        "\(path) (\(dataset.format), \(cube.rows)×\(cube.cols)×\(cube.bands) \(dataset.dtype.rawValue), \(signalAxis.summary))"
    }

    /// Prints the reader's warnings on stderr, one line each.
    public func printWarnings() {
        for w in dataset.warnings { writeStderr("unmix: warning: \(w)\n") }
    }
}

/// An axis as JSON: name, size, offset, scale, units (and values when non-uniform).
public func axisReport(_ axis: Axis) -> [String: Any?] {
    ["name": axis.name, "size": axis.size, "offset": axis.offset, "scale": axis.scale, "units": axis.units, "values": axis.values]
}

/// Parses `ROWSxCOLS`.
public func parseShape(_ text: String) throws -> (rows: Int, cols: Int) {
    let parts = text.lowercased().split(separator: "x")
    guard parts.count == 2, let r = Int(parts[0]), let c = Int(parts[1]), r > 0, c > 0,
          !r.multipliedReportingOverflow(by: c).overflow else {
        throw UnmixError.usage("--shape expects ROWSxCOLS (e.g. 64x64), got '\(text)'")
    }
    return (r, c)
}

/// Refuses a cube that holds one value everywhere (TIA test files hold only zeros): no method
/// can find endmembers in it, and some would fail deep inside LAPACK instead of saying so.
public func refuseConstantCube(_ input: Input) throws {
    let constant = input.cube.withUnsafeValues { v -> Float? in
        guard let first = v.first else { return nil }
        return v.allSatisfy { $0 == first } ? first : nil
    }
    if let value = constant {
        throw UnmixError("\(input.path) holds the same value (\(formatNumber(Double(value)))) in every pixel and channel\(input.selection.isEmpty ? "" : " of the selection"): there is nothing to unmix")
    }
}

/// Checks R against the cube: 1 ≤ R < bands and R ≤ pixels.
public func validateEndmemberCount(_ r: Int, for cube: CubeData) throws {
    guard r >= 1 else { throw UnmixError("R = \(r): the number of endmembers must be at least 1") }
    guard r < cube.bands else {
        throw UnmixError("R = \(r): the number of endmembers must be below the number of bands (\(cube.bands))")
    }
    guard r <= cube.pixels else { throw UnmixError("R = \(r) exceeds the number of pixels (\(cube.pixels))") }
}
