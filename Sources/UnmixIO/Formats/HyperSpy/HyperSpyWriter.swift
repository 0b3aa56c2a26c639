import Foundation

/// Writes HyperSpy files (`.hspy`, format 3.3, the layout HyperSpy 2.5 writes) that
/// `hyperspy.api.load` opens with the right signal class, axes, title and metadata:
///
/// - `write(_:to:)`: a cube as a `Signal1D` spectrum image (navigation y, x; signal the
///   energy axis). A line scan (one row) is written with the x axis only, a single spectrum
///   with no navigation axis, as HyperSpy itself holds them.
/// - `writeResult`: an unmixing result as two signals in one file, which `hs.load` returns as a
///   list: the endmembers (a `Signal1D` stack, navigation axis "endmember" of size R, signal
///   the energy axis) and the abundances (a `Signal2D` stack of maps, navigation "endmember",
///   signal axes y and x), each with the parameters and provenance given in its metadata.
///
/// Files are written atomically: to a temporary file beside the target, renamed over it.
public enum HyperSpyWriter {
    /// Writes `dataset`'s cube as one `Signal1D`. `signalType` is HyperSpy's
    /// `metadata.Signal.signal_type` ("EELS", "EDS_TEM", …; "" for a generic signal);
    /// `metadata` is merged into the signal's metadata tree.
    public static func write(_ dataset: Dataset, to path: String, signalType: String = "",
                             metadata: [String: MetadataValue] = [:]) throws {
        let cube = dataset.cube
        var shape = [cube.rows, cube.cols, cube.bands]
        var axes = [(dataset.rowAxis, true), (dataset.colAxis, true), (dataset.signalAxis, false)]
        if cube.rows == 1 {
            shape.removeFirst()
            axes.removeFirst()
            if cube.cols == 1 {
                shape.removeFirst()
                axes.removeFirst()
            }
        }
        var tree: [String: MetadataValue] = ["General": ["title": .string(dataset.title)], "Signal": ["signal_type": .string(signalType)]]
        if !dataset.path.isEmpty {
            tree = tree.merging(tree: ["General": ["original_filename": .string((dataset.path as NSString).lastPathComponent)]])
        }
        let signal = Signal(title: dataset.title, shape: shape, axes: axes, metadata: tree.merging(tree: metadata)) { body in
            try cube.withUnsafeValues(body)
        }
        try writeAtomically([signal], to: path)
    }

    /// Writes an unmixing result: `endmembers` (R × B, row-major, on `signalAxis`) and
    /// `abundances` (rows × cols × R, pixel-major, on `rowAxis` × `colAxis`) as the signals
    /// "<title> endmembers" and "<title> abundances"; `metadata` (parameters, provenance) goes
    /// into both signals' metadata.
    public static func writeResult(endmembers: [Float], abundances: [Float], r: Int, signalAxis: Axis, rowAxis: Axis,
                                   colAxis: Axis, title: String, metadata: [String: MetadataValue], to path: String) throws {
        let bands = signalAxis.size
        let pixels = rowAxis.size.multipliedReportingOverflow(by: colAxis.size)
        guard r >= 1, !pixels.overflow, endmembers.count == r &* bands, abundances.count == pixels.partialValue &* r else {
            throw UnmixError("cannot write \(path): \(endmembers.count) endmember and \(abundances.count) abundance values "
                             + "for R = \(r), \(bands) channels and \(rowAxis.size) × \(colAxis.size) pixels")
        }
        let pixelCount = pixels.partialValue
        // (R, rows, cols): one map per endmember, as HyperSpy stacks images.
        var maps = [Float](repeating: 0, count: abundances.count)
        for p in 0..<pixelCount {
            for k in 0..<r { maps[k * pixelCount + p] = abundances[p * r + k] }
        }
        let endmemberAxis = Axis.index("endmember", size: r)
        let prefix = title.isEmpty ? "" : "\(title) "
        func tree(_ signalTitle: String) -> [String: MetadataValue] {
            (["General": ["title": .string(signalTitle)], "Signal": ["signal_type": ""]] as [String: MetadataValue]).merging(tree: metadata)
        }
        let spectra = Signal(title: "\(prefix)endmembers", shape: [r, bands], axes: [(endmemberAxis, true), (signalAxis, false)],
                             metadata: tree("\(prefix)endmembers")) { body in try endmembers.withUnsafeBufferPointer(body) }
        let images = Signal(title: "\(prefix)abundances", shape: [r, rowAxis.size, colAxis.size],
                            axes: [(endmemberAxis, true), (rowAxis, false), (colAxis, false)],
                            metadata: tree("\(prefix)abundances")) { body in try maps.withUnsafeBufferPointer(body) }
        try writeAtomically([spectra, images], to: path)
    }

    // MARK: - Implementation

    /// One signal to write: `Experiments/<title>/` with its data, axes and metadata.
    struct Signal {
        var title: String
        /// C order: navigation axes, then signal axes.
        var shape: [Int]
        /// One per dimension, with its `navigate` flag.
        var axes: [(Axis, Bool)]
        var metadata: [String: MetadataValue]
        /// Lends the samples (C order over `shape`).
        var withValues: (_ body: (UnsafeBufferPointer<Float>) throws -> Void) throws -> Void
    }

    /// Writes `signals` into a temporary file beside `path`, then renames it over `path`.
    static func writeAtomically(_ signals: [Signal], to path: String) throws {
        try AtomicFile.replace(path) { temporary in try writeFile(signals, to: temporary, reportedAs: path) }
    }

    /// Writes the whole file; every HDF5 handle is closed when this returns.
    private static func writeFile(_ signals: [Signal], to temporary: String, reportedAs path: String) throws {
        let file = try HDF5File.create(temporary, named: path)
        try file.setAttribute("file_format", .string("HyperSpy"))
        try file.setAttribute("file_format_version", .string(HyperSpyFormat.writtenVersion))
        let experiments = try file.createGroup("Experiments")
        var used = Set<String>()
        for signal in signals {
            var name = HyperSpyFormat.groupName(forTitle: signal.title)
            while used.contains(name) { name += "_" }
            used.insert(name)
            try writeSignal(signal, into: try experiments.createGroup(name))
        }
        try file.flush()
    }

    /// Writes one signal's group as RosettaSciIO's hspy writer does.
    private static func writeSignal(_ signal: Signal, into group: HDF5Group) throws {
        try group.setAttribute("package", .string("hyperspy"))
        try group.setAttribute("package_version", .string(""))
        for (i, (axis, navigate)) in signal.axes.enumerated() {
            let axisGroup = try group.createGroup("axis-\(i)")
            try axisGroup.setAttribute("_type", .string(axis.values == nil ? "UniformDataAxis" : "DataAxis"))
            try axisGroup.setAttribute("name", .string(axis.name))
            try axisGroup.setAttribute("units", .string(axis.units))
            try axisGroup.setAttribute("navigate", .bool(navigate))
            try axisGroup.setAttribute("is_binned", .bool(false))
            if let values = axis.values {
                try values.withUnsafeBufferPointer { _ = try axisGroup.writeDataset("axis", $0, shape: [values.count]) }
            } else {
                try axisGroup.setAttribute("size", .integer(Int64(axis.size)))
                try axisGroup.setAttribute("scale", .double(axis.scale))
                try axisGroup.setAttribute("offset", .double(axis.offset))
            }
        }
        try signal.withValues { values in try group.writeDataset("data", values, shape: signal.shape) }
        try writeTree(signal.metadata, into: try group.createGroup("metadata"))
        _ = try group.createGroup("original_metadata")
        _ = try group.createGroup("learning_results")
        let attributes = try group.createGroup("attributes")
        try attributes.setAttribute("_lazy", .bool(false))
        try attributes.setAttribute("ragged", .bool(false))
    }

    /// A metadata tree: dictionaries become groups, the rest attributes (keys in sorted order).
    private static func writeTree(_ tree: [String: MetadataValue], into group: HDF5Group) throws {
        for key in tree.keys.sorted() {
            guard let value = tree[key] else { continue }
            guard !key.isEmpty else { throw UnmixError("\(group.file): metadata key in \(group.displayPath) is empty") }
            switch value {
            case .dictionary(let children):
                try writeTree(children, into: try group.createGroup(HyperSpyFormat.groupName(forTitle: key)))
            case .string(let text): try group.setAttribute(key, .string(text))
            case .integer(let number): try group.setAttribute(key, .integer(Int64(number)))
            case .number(let number): try group.setAttribute(key, .double(number))
            case .bool(let flag): try group.setAttribute(key, .bool(flag))
            case .numbers(let numbers): try group.setAttribute(key, .doubles(numbers))
            }
        }
    }
}

extension HyperSpyWriter: DatasetWriter {
    public static let formatName = "HyperSpy"
    public static let fileExtension = "hspy"

    /// Writes `dataset` as a generic `Signal1D` spectrum image.
    public static func write(_ dataset: Dataset, to path: String) throws {
        try write(dataset, to: path, signalType: "", metadata: [:])
    }
}
