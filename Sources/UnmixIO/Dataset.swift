/// What a reader found in a file: the cube, how it was stored, its axes, its title and any
/// ground truth it carries. Every format's reader returns one of these.
public struct Dataset: Sendable {
    /// The path the user gave.
    public var path: String
    /// The format, as users name it, with its version when the file says ("DigitalMicrograph 4",
    /// "HyperSpy 3.1", "MATLAB 7.3", "ENVI (bsq)").
    public var format: String
    public var cube: CubeData
    /// The sample type stored in the file (the cube itself is always Float32).
    public var dtype: SampleType
    /// The signal (energy, wavelength) axis: `cube.bands` channels.
    public var signalAxis: Axis
    /// The navigation axes, slowest first: rows (y) then columns (x). A line scan has one row.
    public var rowAxis: Axis
    public var colAxis: Axis
    public var title: String
    public var truth: GroundTruth?
    /// What the user should hear about how the file was read (one line each).
    public var warnings: [String]

    public init(path: String, format: String, cube: CubeData, dtype: SampleType, signalAxis: Axis? = nil,
                rowAxis: Axis? = nil, colAxis: Axis? = nil, title: String = "", truth: GroundTruth? = nil,
                warnings: [String] = []) {
        precondition(signalAxis == nil || signalAxis!.size == cube.bands, "Dataset: signal axis of \(signalAxis!.size) for \(cube.bands) bands")
        precondition(rowAxis == nil || rowAxis!.size == cube.rows, "Dataset: row axis of \(rowAxis!.size) for \(cube.rows) rows")
        precondition(colAxis == nil || colAxis!.size == cube.cols, "Dataset: column axis of \(colAxis!.size) for \(cube.cols) columns")
        self.path = path
        self.format = format
        self.cube = cube
        self.dtype = dtype
        self.signalAxis = signalAxis ?? .index("channel", size: cube.bands)
        self.rowAxis = rowAxis ?? .index("y", size: cube.rows)
        self.colAxis = colAxis ?? .index("x", size: cube.cols)
        self.title = title
        self.truth = truth
        self.warnings = warnings
    }
}
