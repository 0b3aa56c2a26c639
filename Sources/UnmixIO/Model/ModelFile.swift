import Foundation

/// A trained model on disk (`unmix run --save-model FILE`, read by `unmix apply`): which plugin
/// and version made it, with which parameters, for how many bands and endmembers, the fitted
/// endmembers, and the plugin's own state bytes (the `unmix.state/2` extension).
///
/// Layout (format 2):
///
///     unmix-model 2\n
///     {one line of JSON: the header}\n
///     R·B little-endian float32 endmembers (row e = endmember e)
///     state_bytes bytes of plugin state
///     CRC-32 (IEEE, little-endian u32) of every byte before it
///
/// Nothing in the file is believed before it is checked, in this order: the file's size (at
/// most `maximumSize`, before any byte is read), the magic line, the checksum, the header's
/// JSON (nesting and length bounded), every number of the header in range (1 ≤ R < bands, the
/// overflow-checked size R·B·4 + state_bytes equal to what the file holds, finite parameter
/// values, a sane count of them, an axis of `bands` channels, a selection within bounds), then
/// the endmembers finite. No buffer is sized from a number that has not passed these checks.
/// Every refusal is one `UnmixError` line naming the file.
public struct ModelFile: Sendable, Equatable {
    public var pluginID: String
    public var pluginVersion: String
    /// Parameter values in the plugin's table order, and as users write them (for display).
    public var values: [Double]
    public var parameters: [String: String]
    public var seed: UInt64
    public var bands: Int
    public var r: Int
    /// R × B.
    public var endmembers: [Float]
    public var state: [UInt8]
    /// The signal axis the model was trained on (after the selection), when known.
    public var signalAxis: Axis?
    /// The selection the model was trained with (`--range`, `--roi`), which `apply` repeats.
    public var selection: Selection
    /// The host's preprocessing of the training cube, which `apply` repeats.
    public var preprocessing: Preprocessing

    /// What the host did before the plugin saw the cube, as `apply` must repeat it: the
    /// `--background` text, and for Poisson weighting the fit's band weights and the scales
    /// that map the plugin's results back to counts (see UnmixHost's Preprocessing folder).
    public struct Preprocessing: Codable, Equatable, Sendable {
        public var background: String?
        public var poissonBand: [Float]?
        public var poissonScales: [Double]?

        public init(background: String? = nil, poissonBand: [Float]? = nil, poissonScales: [Double]? = nil) {
            self.background = background
            self.poissonBand = poissonBand
            self.poissonScales = poissonScales
        }

        enum CodingKeys: String, CodingKey {
            case background, poissonBand = "poisson_band_weights", poissonScales = "poisson_scales"
        }

        public var isEmpty: Bool { background == nil && poissonBand == nil && poissonScales == nil }
    }

    public init(pluginID: String, pluginVersion: String, values: [Double], parameters: [String: String], seed: UInt64,
                bands: Int, r: Int, endmembers: [Float], state: [UInt8], signalAxis: Axis? = nil,
                selection: Selection = Selection(), preprocessing: Preprocessing = Preprocessing()) {
        self.pluginID = pluginID
        self.pluginVersion = pluginVersion
        self.values = values
        self.parameters = parameters
        self.seed = seed
        self.bands = bands
        self.r = r
        self.endmembers = endmembers
        self.state = state
        self.signalAxis = signalAxis
        self.selection = selection
        self.preprocessing = preprocessing
    }

    /// The format this code writes and reads.
    public static let formatVersion = 2
    /// The largest model file `read` opens (4 GiB): bigger files are refused before reading.
    public static let maximumSize = 1 << 32
    /// Bounds on the header: its length, the nesting of its JSON, the number of parameters.
    static let maximumHeaderLength = 1 << 20
    static let maximumJSONDepth = 16
    static let maximumValueCount = 4096

    static let magicPrefix = Array("unmix-model ".utf8)
    static var magic: [UInt8] { magicPrefix + Array("\(formatVersion)\n".utf8) }

    /// The header line, as JSON.
    struct Header: Codable, Equatable {
        var format: Int
        var plugin: String
        var version: String
        var values: [Double]
        var parameters: [String: String]
        var seed: UInt64
        var bands: Int
        var r: Int
        var stateBytes: Int
        var signalAxis: Axis?
        var selection: Selection
        var preprocessing: Preprocessing?

        enum CodingKeys: String, CodingKey {
            case format, plugin, version, values, parameters, seed, bands, r
            case stateBytes = "state_bytes", signalAxis = "signal_axis", selection, preprocessing
        }
    }

    /// The file's bytes. Throws when the model cannot be written as it stands (shapes that do
    /// not agree, non-finite values), so that nothing is saved that `read` would refuse.
    public func encoded() throws -> Data {
        if let problem = Self.problem(r: r, bands: bands, values: values, axis: signalAxis, selection: selection,
                                      preprocessing: preprocessing) {
            throw UnmixError("cannot save the model: \(problem)")
        }
        guard endmembers.count == r * bands else {
            throw UnmixError("cannot save the model: \(endmembers.count) endmember values for R = \(r) × \(bands) bands")
        }
        guard endmembers.allSatisfy(\.isFinite) else { throw UnmixError("cannot save the model: non-finite endmembers") }
        let header = Header(format: Self.formatVersion, plugin: pluginID, version: pluginVersion, values: values,
                            parameters: parameters, seed: seed, bands: bands, r: r, stateBytes: state.count,
                            signalAxis: signalAxis, selection: selection, preprocessing: preprocessing.isEmpty ? nil : preprocessing)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json: Data
        do { json = try encoder.encode(header) } catch { throw UnmixError("cannot save the model: its header cannot be written as JSON (\(error))") }
        var data = Data(Self.magic)
        data.reserveCapacity(Self.magic.count + json.count + 1 + 4 * endmembers.count + state.count + 4)
        data.append(json)
        data.append(UInt8(ascii: "\n"))
        for v in endmembers { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: state)
        let crc = CRC32.checksum(data)
        withUnsafeBytes(of: crc.littleEndian) { data.append(contentsOf: $0) }
        return data
    }

    /// Reads and checks the model file at `path`: a regular file of at most `maximumSize`
    /// bytes, then everything `decode(bytes:path:)` checks.
    public static func read(_ path: String) throws -> ModelFile {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw UnmixError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw UnmixError("\(path) is not a regular file, so not a model file") }
        guard info.st_size <= maximumSize else {
            throw UnmixError("\(path): \(info.st_size) bytes, more than a model file may hold (\(maximumSize)); not read")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw UnmixError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            // One byte more than the limit, so that a file grown since `stat` is still refused.
            data = try handle.read(upToCount: maximumSize + 1) ?? Data()
        } catch {
            throw UnmixError("cannot read \(path): \(error.localizedDescription)")
        }
        return try decode(bytes: [UInt8](data), path: path)
    }

    /// The model in `bytes` (the contents of `path`, named in every error), checked as the type's
    /// documentation says. The entry the fuzzer feeds.
    public static func decode(bytes: [UInt8], path: String) throws -> ModelFile {
        func refuse(_ what: String) -> UnmixError { UnmixError("\(path): \(what)") }
        guard bytes.count <= maximumSize else { throw refuse("more than \(maximumSize) bytes; not a model file") }

        // The magic line, and what an older or newer format says about itself.
        guard bytes.starts(with: magicPrefix) else { throw refuse("not an unmix model file") }
        let versionDigits = bytes[magicPrefix.count...].prefix(8).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard bytes.starts(with: magic) else {
            let version = String(decoding: versionDigits, as: UTF8.self)
            if version == "1" {
                throw refuse("model file format 1, which predates checksums; train the model again with this unmix (unmix run … --save-model)")
            }
            throw refuse(version.isEmpty ? "not an unmix model file" : "model file format \(version); this unmix reads format \(formatVersion)")
        }

        // The checksum, before any other byte is interpreted.
        guard bytes.count >= magic.count + 4 else { throw refuse("truncated model file (\(bytes.count) bytes)") }
        let body = bytes.count - 4
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[body + $1]) << (8 * $1) }
        let computed = CRC32.checksum(bytes[..<body])
        guard stored == computed else {
            throw refuse("damaged or truncated model file (checksum \(hex(stored)) stored, \(hex(computed)) computed)")
        }

        // The header line.
        let headerStart = magic.count
        let searchEnd = min(body, headerStart + maximumHeaderLength)
        guard let newline = bytes[headerStart..<searchEnd].firstIndex(of: UInt8(ascii: "\n")) else {
            throw refuse("corrupt model header (no end of line within \(maximumHeaderLength) bytes)")
        }
        let headerBytes = bytes[headerStart..<newline]
        guard jsonDepth(headerBytes) <= maximumJSONDepth else { throw refuse("corrupt model header (JSON nested too deep)") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch {
            throw refuse("corrupt model header (\(oneLine(jsonProblem(error))))")
        }

        // Every number in range before any is used.
        guard header.format == formatVersion else {
            throw refuse("corrupt model header (format \(header.format) in a format-\(formatVersion) file)")
        }
        if let problem = problem(r: header.r, bands: header.bands, values: header.values, axis: header.signalAxis,
                                 selection: header.selection, preprocessing: header.preprocessing ?? Preprocessing()) {
            throw refuse("corrupt model header (\(problem))")
        }
        guard header.stateBytes >= 0 else { throw refuse("corrupt model header (state_bytes = \(header.stateBytes))") }
        let dataStart = newline + 1
        let present = body - dataStart
        let (values, m1) = header.r.multipliedReportingOverflow(by: header.bands)
        let (endmemberBytes, m2) = values.multipliedReportingOverflow(by: 4)
        let (expected, m3) = endmemberBytes.addingReportingOverflow(header.stateBytes)
        guard !m1, !m2, !m3, expected == present else {
            throw refuse("corrupt model header (R = \(header.r) × \(header.bands) bands and \(header.stateBytes) state bytes do not add up to the \(present) bytes after it)")
        }

        // The endmembers, finite.
        var endmembers = [Float](repeating: 0, count: values)
        for i in 0..<values {
            let at = dataStart + 4 * i
            let bits = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            endmembers[i] = Float(bitPattern: bits)
            guard endmembers[i].isFinite else {
                throw refuse("corrupt model (endmember \(i / header.bands), band \(i % header.bands) is \(endmembers[i]))")
            }
        }
        let stateStart = dataStart + endmemberBytes
        return ModelFile(pluginID: header.plugin, pluginVersion: header.version, values: header.values,
                         parameters: header.parameters, seed: header.seed, bands: header.bands, r: header.r,
                         endmembers: endmembers, state: Array(bytes[stateStart..<body]),
                         signalAxis: header.signalAxis, selection: header.selection,
                         preprocessing: header.preprocessing ?? Preprocessing())
    }

    /// What is wrong with these header fields, or nil. Shared by `encoded` and `decode`, so a
    /// file that is written can be read.
    static func problem(r: Int, bands: Int, values: [Double], axis: Axis?, selection: Selection,
                        preprocessing: Preprocessing = Preprocessing()) -> String? {
        guard r >= 1 else { return "R = \(r), below 1" }
        guard bands >= 2 else { return "\(bands) bands, below 2" }
        guard r < bands else { return "R = \(r) is not below the \(bands) bands" }
        guard values.count <= maximumValueCount else { return "\(values.count) parameter values, more than \(maximumValueCount)" }
        if let bad = values.firstIndex(where: { !$0.isFinite }) { return "parameter value \(bad + 1) is \(values[bad])" }
        if let axis {
            guard axis.size == bands else { return "a signal axis of \(axis.size) channels for \(bands) bands" }
            guard axis.offset.isFinite, axis.scale.isFinite else { return "a signal axis with a non-finite offset or scale" }
            if let v = axis.values {
                guard v.count == axis.size else { return "a signal axis of \(axis.size) channels listing \(v.count) values" }
                guard v.allSatisfy(\.isFinite) else { return "a signal axis with non-finite values" }
            }
        }
        if let range = selection.range {
            let bounds = [range.start, range.end].compactMap { $0 }
            guard bounds.allSatisfy(\.isFinite) else { return "a signal range with a non-finite bound" }
            // Channel bounds become Int: whole numbers, non-negative, well inside Int.
            if range.inChannels, !bounds.allSatisfy({ $0 >= 0 && $0 <= Double(Int32.max) && $0 == $0.rounded() }) {
                return "a channel range with a bound that is not a channel index"
            }
            if let s = range.start, let e = range.end, s >= e { return "a signal range whose start is not below its end" }
        }
        if let text = preprocessing.background, text.isEmpty || text.utf8.count > 256 {
            return "a background of \(text.utf8.count) characters"
        }
        if let band = preprocessing.poissonBand {
            guard band.count == bands, band.allSatisfy({ $0.isFinite && $0 > 0 }) else { return "Poisson band weights that are not \(bands) positive numbers" }
        }
        if let scales = preprocessing.poissonScales {
            guard scales.count == r, scales.allSatisfy({ $0.isFinite && $0 > 0 }) else { return "Poisson scales that are not \(r) positive numbers" }
        }
        guard (preprocessing.poissonBand == nil) == (preprocessing.poissonScales == nil) else {
            return "Poisson band weights without scales, or scales without weights"
        }
        if let roi = selection.roi {
            let pairs = [(roi.rowStart, roi.rowEnd), (roi.colStart, roi.colEnd)]
            for (start, end) in pairs {
                if [start, end].contains(where: { ($0 ?? 0) < 0 }) { return "a region with a negative bound" }
                if let start, let end, start >= end { return "a region whose start is not below its end" }
            }
        }
        return nil
    }

    /// The deepest nesting of arrays and objects in `json` (brackets inside strings ignored), so
    /// that a header of a million `[` is refused before a recursive parser sees it.
    static func jsonDepth(_ json: ArraySlice<UInt8>) -> Int {
        let (quote, backslash, openArray, openObject, closeArray, closeObject): (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0x22, 0x5C, 0x5B, 0x7B, 0x5D, 0x7D)
        var depth = 0, deepest = 0, inString = false, escaped = false
        json.withUnsafeBufferPointer { buffer in
            for c in buffer {
                if inString {
                    if escaped { escaped = false } else if c == backslash { escaped = true } else if c == quote { inString = false }
                } else if c == quote {
                    inString = true
                } else if c == openArray || c == openObject {
                    depth += 1
                    deepest = max(deepest, depth)
                } else if c == closeArray || c == closeObject {
                    depth -= 1
                }
            }
        }
        return deepest
    }
}

private func hex(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

/// What a `DecodingError` says, shortly: the field and the reason.
private func jsonProblem(_ error: Error) -> String {
    guard let error = error as? DecodingError else { return "not valid JSON" }
    func field(_ path: [CodingKey]) -> String { path.map(\.stringValue).joined(separator: ".") }
    switch error {
    case .keyNotFound(let key, let c): return "no \(field(c.codingPath + [key]))"
    case .typeMismatch(_, let c), .valueNotFound(_, let c):
        return c.codingPath.isEmpty ? "not a JSON object" : "\(field(c.codingPath)) has the wrong type"
    case .dataCorrupted(let c):
        return c.codingPath.isEmpty ? "not valid JSON" : "\(field(c.codingPath)) is out of range or malformed"
    @unknown default: return "not valid JSON"
    }
}

/// `text` on one line, printable characters only, at most 200 of them.
private func oneLine(_ text: String) -> String {
    String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) }.prefix(200))
}
