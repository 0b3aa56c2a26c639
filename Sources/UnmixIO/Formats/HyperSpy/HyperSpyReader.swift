import CHDF5
import Foundation

/// HyperSpy's HDF5 files (`.hspy`, and `.hdf5`/`.h5` files HyperSpy wrote), format versions
/// 1.x to 3.x, through libhdf5.
///
/// A file may hold several signals (`Experiments/<title>` groups, listed in name order); the
/// reader takes the first that is a spectrum image: exactly one signal axis (a `Signal1D`) and
/// at most two navigation axes (y, x). A line scan is one row, a single spectrum 1 × 1; other
/// signals are skipped with a warning naming them, and a file with no spectra is refused with
/// one line saying what it holds. Every HDF5 integer width and sign and float16/32/64 is read;
/// a contiguous, unfiltered dataset of a standard type is decoded from the mapped file by
/// `RawLayout` (native float32 in place, with no copy); chunked and compressed datasets are
/// read by HDF5 and converted by it to Float32.
public enum HyperSpyReader: DatasetReader {
    public static let parsesWithExternalLibrary = true
    public static let formatName = "HyperSpy"
    public static let extensions = ["hspy", "hdf5", "h5"]

    /// At most 2³¹ samples.
    static let maximumElementCount = 1 << 31

    public static func recognizes(_ head: [UInt8], path: String) -> Bool? {
        head.count >= HyperSpyFormat.signature.count && Array(head.prefix(HyperSpyFormat.signature.count)) == HyperSpyFormat.signature
    }

    public static func read(_ path: String, options: ReadOptions) throws -> Dataset {
        if options.shape != nil {
            throw UnmixError.usage("--shape is only for 2-D inputs; \(path) is a HyperSpy file, which stores its shape")
        }
        let mapped = try MappedFile(path)
        guard recognizes(mapped.head(HyperSpyFormat.signature.count), path: path) == true else {
            throw UnmixError("\(path): not an HDF5 file (no HDF5 signature at its start)")
        }
        // libhdf5 1.10.8 crashes on some corruptions it does not detect: the checks of
        // Internals/HDF5 refuse them first (global heaps and the root group index here, the
        // signal's dataset before its samples are read).
        try HDF5Precheck.check(mapped.bytes, file: path)
        if let problem = HDF5RootIndex.problem(mapped.bytes, name: path) {
            throw UnmixError("\(path): a damaged HDF5 file: \(problem)")
        }
        let file = try HDF5File.open(path)
        let (version, versionText) = try formatVersion(file)
        var warnings = [String]()
        if version.major > HyperSpyFormat.newestKnownMajor {
            warnings.append("\(path): HyperSpy format \(versionText) is newer than the 3.x unmix knows; read as 3.x")
        }

        guard try file.childType("Experiments") == .group else {
            throw UnmixError("\(path): a HyperSpy file without an Experiments group (no signal in it)")
        }
        let experiments = try file.group("Experiments")
        var names = [String]()
        for name in try experiments.childNames() where try experiments.childType(name) == .group {
            if try experiments.group(name).childType("data") == .dataset { names.append(name) }
        }
        guard !names.isEmpty else { throw UnmixError("\(path): a HyperSpy file with no signal (no Experiments/<title>/data)") }

        var skipped = [(name: String, reason: String)]()
        var chosen: HyperSpyExperiment?
        for name in names {
            let experiment = try HyperSpyExperiment(experiments, name: name, version: version)
            if let reason = experiment.unreadableReason {
                skipped.append((name, reason))
            } else {
                chosen = experiment
                break
            }
        }
        guard let experiment = chosen else {
            let first = skipped[0]
            let others = names.count > 1 ? " (nor are its \(names.count - 1) other signals)" : ""
            throw UnmixError("\(path): signal '\(first.name)' is \(first.reason): unmix reads spectrum images "
                             + "(one signal axis, at most two navigation axes)\(others)")
        }
        if names.count > 1 {
            let rest = names.filter { $0 != experiment.name }.map { name in
                skipped.first { $0.name == name }.map { "'\(name)' (\($0.reason))" } ?? "'\(name)'"
            }
            warnings.append("\(path) holds \(names.count) signals: read '\(experiment.name)', not \(rest.joined(separator: ", "))")
        }
        warnings += experiment.notes

        if let problem = HDF5DatasetGuard.problem(file.id, "Experiments/\(experiment.name)/data", fileSize: mapped.bytes.count) {
            throw UnmixError("\(path): 'Experiments/\(experiment.name)/data' is damaged: \(problem)")
        }
        let (cube, dtype, decodeWarnings) = try samples(of: experiment, mapped: mapped, path: path)
        warnings += decodeWarnings
        let axes = experiment.axes
        let signal = axes[axes.count - 1].axis(defaultName: "channel")
        let colAxis = axes.count >= 2 ? axes[axes.count - 2].axis(defaultName: "x") : Axis.index("x", size: 1)
        let rowAxis = axes.count == 3 ? axes[0].axis(defaultName: "y") : Axis.index("y", size: 1)
        let title = experiment.title.isEmpty ? ((path as NSString).lastPathComponent as NSString).deletingPathExtension : experiment.title
        return Dataset(path: path, format: "HyperSpy \(versionText)", cube: cube, dtype: dtype, signalAxis: signal,
                       rowAxis: rowAxis, colAxis: colAxis, title: title, warnings: warnings)
    }

    /// The root attributes: `file_format` must be "HyperSpy" when present; the version is
    /// `file_format_version` (a string, or a float in old files), or 1.0 when absent.
    static func formatVersion(_ file: HDF5File) throws -> (HyperSpyFormat.Version, String) {
        let path = file.file
        if let format = try file.attribute("file_format") {
            guard let text = format.string, text.lowercased() == "hyperspy" else {
                throw UnmixError("\(path): an HDF5 file but not a HyperSpy one (file_format is \(format.description))")
            }
        } else if try file.childType("Experiments") != .group {
            throw UnmixError("\(path): an HDF5 file but not a HyperSpy one (no file_format attribute, no Experiments group)")
        }
        guard let stated = try file.attribute("file_format_version") else { return (HyperSpyFormat.Version(major: 1, minor: 0), "1.0") }
        let text: String
        switch stated {
        case .string(let value): text = value
        case .double(let value) where value.isFinite && value >= 0 && value < 1e6:
            text = formatNumber((value * 100).rounded() / 100)  // RosettaSciIO: str(round(version, 2))
        case .integer(let value) where value >= 0 && value < 1_000_000: text = "\(value)"
        default: throw UnmixError("\(path): file_format_version is \(stated.description), not a version number")
        }
        guard let version = HyperSpyFormat.Version(text) else {
            throw UnmixError("\(path): file_format_version '\(text)' is not a version number")
        }
        return (version, text)
    }

    /// The cube of `experiment`: its dimensions (navigation…, signal) made rows × cols × bands,
    /// its samples read after checking their storage against the file.
    private static func samples(of experiment: HyperSpyExperiment, mapped: MappedFile, path: String)
        throws -> (CubeData, SampleType, [String]) {
        let storage = experiment.storage
        let shape = storage.shape
        let dataPath = "'Experiments/\(experiment.name)/data'"
        let (rows, cols, bands): (Int, Int, Int)
        switch shape.count {
        case 1: (rows, cols, bands) = (1, 1, shape[0])
        case 2: (rows, cols, bands) = (1, shape[0], shape[1])
        case 3: (rows, cols, bands) = (shape[0], shape[1], shape[2])
        default: throw UnmixError("\(path): \(dataPath) is \(shape.count)-D: unmix reads 1-D to 3-D spectrum data")
        }
        let count = try storage.elementCount(path)
        guard count <= maximumElementCount else {
            throw UnmixError("\(path): \(dataPath) has \(count) samples (at most 2^31 supported)")
        }
        let dtype = try sampleType(storage, path: path, dataPath: dataPath)
        try checkStorage(storage, count: count, fileSize: mapped.bytes.count, path: path, dataPath: dataPath)

        if storage.layout == .contiguous, storage.filters.isEmpty, let standard = storage.standard, let offset = storage.offset {
            let layout = RawLayout(type: standard.type, order: standard.order, rows: rows, cols: cols, bands: bands,
                                   offset: offset, interleave: .bip)
            let decoded = try layout.decode(mapped.bytes, file: mapped, name: path)
            return (decoded.cube, dtype, decoded.warnings)
        }
        var warnings = [String]()
        let values = try SampleStorage(count: count) { buffer in
            try experiment.data.readFloats(into: buffer)
            if let warning = dtype.precisionWarning(UnsafeBufferPointer(buffer), file: path) { warnings.append(warning) }
        }
        return (CubeData(rows: rows, cols: cols, bands: bands, storage: values), dtype, warnings)
    }

    /// The stored sample type: the standard integer and IEEE float types, and any other
    /// integer of 1, 2, 4 or 8 bytes or float of 2, 4 or 8 bytes (float16 among them), which
    /// HDF5 converts.
    static func sampleType(_ storage: HDF5Storage, path: String, dataPath: String) throws -> SampleType {
        if let standard = storage.standard { return standard.type }
        switch (storage.typeClass, storage.typeSize) {
        case (H5T_FLOAT, 2): return .float16
        case (H5T_FLOAT, 4): return .float32
        case (H5T_FLOAT, 8): return .float64
        case (H5T_INTEGER, 1): return storage.isSigned ? .int8 : .uint8
        case (H5T_INTEGER, 2): return storage.isSigned ? .int16 : .uint16
        case (H5T_INTEGER, 4): return storage.isSigned ? .int32 : .uint32
        case (H5T_INTEGER, 8): return storage.isSigned ? .int64 : .uint64
        case (H5T_FLOAT, let size), (H5T_INTEGER, let size):
            throw UnmixError("\(path): \(dataPath) holds \(size)-byte \(storage.typeClass == H5T_FLOAT ? "floats" : "integers") "
                             + "(supported: int8 … uint64, float16, float32, float64)")
        default:
            throw UnmixError("\(path): \(dataPath) does not hold numbers (HDF5 type class \(storage.typeClass.rawValue); "
                             + "supported: int8 … uint64, float16, float32, float64)")
        }
    }

    /// Checks, before HDF5 reads a sample, that the dataset's bytes can be where it says: no
    /// external or virtual storage, filters this library has, chunks of sane size, and at least
    /// as many stored bytes as the shape needs (a compressed dataset: at most deflate's
    /// greatest ratio, 1032:1, fewer).
    static func checkStorage(_ storage: HDF5Storage, count: Int, fileSize: Int, path: String, dataPath: String) throws {
        guard storage.externalFiles == 0 else {
            throw UnmixError("\(path): \(dataPath) keeps its samples in \(storage.externalFiles) external file(s), which unmix does not read")
        }
        guard storage.layout != .virtual, storage.layout != .other else {
            throw UnmixError("\(path): \(dataPath) is a \(storage.layout.rawValue) dataset (samples in other files), which unmix does not read")
        }
        if let missing = storage.filters.first(where: { !$0.available }) {
            let name = missing.name.isEmpty ? "" : " '\(missing.name)'"
            throw UnmixError("\(path): \(dataPath) is compressed with HDF5 filter \(missing.id)\(name), which this HDF5 library lacks")
        }
        let needed = try count.checkedTimes(storage.typeSize, path)
        if let chunk = storage.chunk {
            guard chunk.count == storage.shape.count, chunk.allSatisfy({ $0 > 0 }) else {
                throw UnmixError("\(path): \(dataPath) has chunks \(chunk) that do not fit its shape \(storage.shape)")
            }
            let chunkBytes = try chunk.reduce(storage.typeSize) { try $0.checkedTimes($1, path) }
            guard chunkBytes <= Swift.max(needed, 1 << 26) else {
                throw UnmixError("\(path): \(dataPath) has chunks of \(chunkBytes) bytes for \(needed) bytes of samples")
            }
        }
        let stored = storage.storedBytes
        guard stored <= UInt64(fileSize) else {
            throw UnmixError("\(path): \(dataPath) claims \(stored) stored bytes in a \(fileSize)-byte file")
        }
        let storedBytes = Int(stored)
        if storage.filters.isEmpty {
            guard storedBytes >= needed else {
                throw UnmixError("\(path): \(dataPath) stores \(storedBytes) bytes, its shape \(storage.shape) needs \(needed)")
            }
        } else {
            guard needed / 1032 <= storedBytes else {
                throw UnmixError("\(path): \(dataPath) stores \(storedBytes) compressed bytes, too few for \(needed) bytes of samples")
            }
        }
    }
}
