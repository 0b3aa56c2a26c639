/// Known endmembers and abundances to score a run against, as a file or a folder carries them.
public struct GroundTruth: Sendable {
    public var r: Int
    /// R × B, row-major.
    public var endmembers: [Float]
    /// pixels × R, pixel-major (row-major pixels).
    public var abundances: [Float]
    /// Where it was read from (a path, or a path and the variables inside it).
    public var source: String
    /// The endmembers' names, when the source gives them.
    public var names: [String]?

    public init(r: Int, endmembers: [Float], abundances: [Float], source: String, names: [String]? = nil) {
        self.r = r
        self.endmembers = endmembers
        self.abundances = abundances
        self.source = source
        self.names = names
    }

    /// The truth of a cube of `cols` columns and `bands` bands, restricted as the cube is.
    public func cropped(rows rowRange: Range<Int>, cols colRange: Range<Int>, totalCols cols: Int,
                        bands bandRange: Range<Int>, totalBands bands: Int) -> GroundTruth {
        var e = [Float]()
        e.reserveCapacity(r * bandRange.count)
        for k in 0..<r { e += endmembers[(k * bands + bandRange.lowerBound)..<(k * bands + bandRange.upperBound)] }
        var a = [Float]()
        a.reserveCapacity(rowRange.count * colRange.count * r)
        for row in rowRange {
            for col in colRange { a += abundances[((row * cols + col) * r)..<((row * cols + col + 1) * r)] }
        }
        return GroundTruth(r: r, endmembers: e, abundances: a, source: source, names: names)
    }

    /// Throws unless the truth fits a cube of `pixels` pixels and `bands` bands and is finite.
    public func validate(pixels: Int, bands: Int) throws {
        guard r >= 1, endmembers.count == r * bands else {
            throw UnmixError("ground truth in \(source): \(endmembers.count) endmember values for R = \(r) and \(bands) bands")
        }
        guard abundances.count == pixels * r else {
            throw UnmixError("ground truth in \(source): \(abundances.count) abundance values for \(pixels) pixels and R = \(r)")
        }
        guard endmembers.allSatisfy(\.isFinite), abundances.allSatisfy(\.isFinite) else {
            throw UnmixError("ground truth in \(source) holds non-finite values")
        }
    }
}
