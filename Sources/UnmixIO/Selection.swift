import Foundation

/// What part of a dataset to unmix: a range of the signal axis (`--range`) and a region of the
/// map (`--roi`). Both are half-open, as Python slices and HyperSpy's `isig`/`inav` are; either
/// end may be left open. Recorded in `run.json` and in model files, so that `apply` selects the
/// same channels.
public struct Selection: Codable, Equatable, Sendable {
    /// A range of the signal axis, in its units or in channels.
    public struct SignalRange: Codable, Equatable, Sendable {
        public var start: Double?
        public var end: Double?
        /// True when the bounds are channel indices (`10:200ch`), false for axis values (`250:900`).
        public var inChannels: Bool

        public init(start: Double?, end: Double?, inChannels: Bool) {
            self.start = start
            self.end = end
            self.inChannels = inChannels
        }

        /// `START:END` in axis units, or `START:ENDch` in channels; either side may be empty.
        public init(parsing text: String) throws {
            var body = Substring(text.trimmingCharacters(in: .whitespaces))
            inChannels = body.lowercased().hasSuffix("ch")
            if inChannels { body = body.dropLast(2) }
            let parts = body.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw UnmixError.usage("--range expects START:END in axis units (e.g. 250:900) or in channels (e.g. 10:200ch), got '\(text)'")
            }
            func bound(_ part: Substring) throws -> Double? {
                let t = part.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { return nil }
                guard let v = Double(t), v.isFinite, !inChannels || (v == v.rounded() && v >= 0) else {
                    throw UnmixError.usage("--range: '\(t)' is not \(inChannels ? "a channel index" : "a number") (in '\(text)')")
                }
                return v
            }
            start = try bound(parts[0])
            end = try bound(parts[1])
            if let start, let end, start >= end {
                throw UnmixError.usage("--range \(text): the start must be below the end")
            }
        }

        /// The text form, as `--range` takes it.
        public var text: String {
            func f(_ v: Double?) -> String { v.map { inChannels ? String(Int($0)) : formatNumber($0) } ?? "" }
            return "\(f(start)):\(f(end))\(inChannels ? "ch" : "")"
        }

        /// The channels selected on `axis`: in channels, clamped to the axis; in axis units, the
        /// channels whose value v has start ≤ v < end (the axis may run either way).
        public func channels(on axis: Axis) throws -> Range<Int> {
            let range: Range<Int>
            if inChannels {
                let lo = Swift.min(axis.size, Int(start ?? 0)), hi = Swift.min(axis.size, end.map { Int($0) } ?? axis.size)
                range = lo..<Swift.max(lo, hi)
            } else {
                let inside = (0..<axis.size).filter { i in
                    let v = axis.value(i)
                    return (start.map { v >= $0 } ?? true) && (end.map { v < $0 } ?? true)
                }
                range = (inside.first ?? 0)..<((inside.last ?? -1) + 1)
            }
            guard !range.isEmpty else {
                throw UnmixError("--range \(text) selects no channel of the signal axis (\(axis.summary))"
                    + (inChannels || !axis.isUncalibrated ? "" : "; the axis has no calibration, give channels as \(text)ch"))
            }
            return range
        }
    }

    /// A region of the map, in pixel indices.
    public struct Region: Codable, Equatable, Sendable {
        public var rowStart: Int?
        public var rowEnd: Int?
        public var colStart: Int?
        public var colEnd: Int?

        public init(rowStart: Int?, rowEnd: Int?, colStart: Int?, colEnd: Int?) {
            self.rowStart = rowStart
            self.rowEnd = rowEnd
            self.colStart = colStart
            self.colEnd = colEnd
        }

        /// `ROW0:ROW1,COL0:COL1`; any bound may be empty.
        public init(parsing text: String) throws {
            let usage = UnmixError.usage("--roi expects ROW0:ROW1,COL0:COL1 in pixels (e.g. 0:32,10:50), got '\(text)'")
            let halves = text.split(separator: ",", omittingEmptySubsequences: false)
            guard halves.count == 2 else { throw usage }
            func pair(_ s: Substring) throws -> (Int?, Int?) {
                let p = s.split(separator: ":", omittingEmptySubsequences: false)
                guard p.count == 2 else { throw usage }
                func one(_ t: Substring) throws -> Int? {
                    let t = t.trimmingCharacters(in: .whitespaces)
                    if t.isEmpty { return nil }
                    guard let v = Int(t), v >= 0 else { throw usage }
                    return v
                }
                let (a, b) = (try one(p[0]), try one(p[1]))
                if let a, let b, a >= b { throw UnmixError.usage("--roi \(text): each start must be below its end") }
                return (a, b)
            }
            (rowStart, rowEnd) = try pair(halves[0])
            (colStart, colEnd) = try pair(halves[1])
        }

        public var text: String {
            func f(_ v: Int?) -> String { v.map(String.init) ?? "" }
            return "\(f(rowStart)):\(f(rowEnd)),\(f(colStart)):\(f(colEnd))"
        }

        /// The rows and columns selected of a `rows` × `cols` map.
        public func pixels(rows: Int, cols: Int) throws -> (rows: Range<Int>, cols: Range<Int>) {
            let (r0, r1) = (rowStart ?? 0, Swift.min(rows, rowEnd ?? rows))
            let (c0, c1) = (colStart ?? 0, Swift.min(cols, colEnd ?? cols))
            guard r0 < r1, c0 < c1 else {
                throw UnmixError("--roi \(text) lies outside the \(rows) × \(cols) map")
            }
            return (r0..<r1, c0..<c1)
        }
    }

    public var range: SignalRange?
    public var roi: Region?

    public init(range: SignalRange? = nil, roi: Region? = nil) {
        self.range = range
        self.roi = roi
    }

    public var isEmpty: Bool { range == nil && roi == nil }
}

/// What a selection kept of a dataset, in indices of the file's cube.
public struct SelectedRegion: Codable, Equatable, Sendable {
    public var rows: Range<Int>
    public var cols: Range<Int>
    public var channels: Range<Int>

    public init(rows: Range<Int>, cols: Range<Int>, channels: Range<Int>) {
        self.rows = rows
        self.cols = cols
        self.channels = channels
    }
}

extension Dataset {
    /// The dataset restricted to `selection`: the cube, the axes and the ground truth cropped
    /// alike. Returns what was kept, in the file's indices.
    public func selecting(_ selection: Selection) throws -> (Dataset, SelectedRegion) {
        let channels = try selection.range?.channels(on: signalAxis) ?? 0..<cube.bands
        let (rows, cols) = try selection.roi?.pixels(rows: cube.rows, cols: cube.cols) ?? (0..<cube.rows, 0..<cube.cols)
        var out = self
        out.cube = cube.cropped(rows: rows, cols: cols, bands: channels)
        out.signalAxis = signalAxis.cropped(channels)
        out.rowAxis = rowAxis.cropped(rows)
        out.colAxis = colAxis.cropped(cols)
        out.truth = truth?.cropped(rows: rows, cols: cols, totalCols: cube.cols, bands: channels, totalBands: cube.bands)
        return (out, SelectedRegion(rows: rows, cols: cols, channels: channels))
    }
}
