import UnmixIO
/// Everything `report.html` shows, as typed values: the host fills one in (for `run`,
/// `compare` or `apply`) and `HTMLReport` renders it. Endmembers and maps arrive already matched
/// to the columns (column k holds, for every method, what was matched to reference endmember k),
/// so the report draws and never decides.
public struct Report {
    /// One row of a key–value table.
    public struct Field: Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The table the terminal prints, cell by cell.
    public struct Table {
        public var header: [String]
        public var rows: [[String]]
        /// Columns aligned right (numbers).
        public var rightAligned: Set<Int>
        public init(header: [String], rows: [[String]], rightAligned: Set<Int> = []) {
            self.header = header
            self.rows = rows
            self.rightAligned = rightAligned
        }
    }

    /// One method's result (its first run, for `compare`), or the ground truth.
    public struct Result {
        public var label: String
        /// Version, seed(s), model file…, then the parameters: shown in the parameters section.
        public var details: [Field]
        /// R spectra of `bands` values, in column order.
        public var endmembers: [[Float]]
        /// R maps of rows × cols values (row-major), in column order.
        public var maps: [[Float]]
        /// Why there is no result (the method failed); endmembers and maps are then empty.
        public var error: String?

        public init(label: String, details: [Field] = [], endmembers: [[Float]], maps: [[Float]], error: String? = nil) {
            self.label = label
            self.details = details
            self.endmembers = endmembers
            self.maps = maps
            self.error = error
        }
    }

    /// Which mean the profiles take: along rows (a value per row: the mean over the columns) or
    /// along columns (a value per column: the mean over the rows), as the paper's Fig. 10.
    public enum ProfileDirection: String, Sendable { case rows, cols }

    public var title: String
    /// What made the report: the command line, as words.
    public var command: [String]
    /// The input: file, format, shape, axis, selection.
    public var input: [Field]
    public var table: Table
    /// Lines under the table (what the columns mean, which runs are drawn).
    public var tableNotes: [String]
    public var truth: Result?
    public var results: [Result]
    /// The column titles (the true endmembers' names, or "endmember k").
    public var columns: [String]
    public var signalAxis: Axis
    public var rowAxis: Axis
    public var colAxis: Axis
    public var profile: ProfileDirection
    /// The mean SAD between every pair of results, when there is no truth and more than one result.
    public var agreement: [[Double?]]?
    /// The endmembers' scale in the figures: how estimates were brought to the reference's.
    public var spectraNote: String
    /// Further figures, each a section after the results table (`estimate`'s scree and HySime
    /// curves).
    public var figures: [Figure]

    /// A section of charts side by side, with notes under them.
    public struct Figure {
        public var title: String
        public var charts: [LineChart]
        public var notes: [String]
        public init(title: String, charts: [LineChart], notes: [String] = []) {
            self.title = title
            self.charts = charts
            self.notes = notes
        }
    }

    public init(title: String, command: [String], input: [Field], table: Table, tableNotes: [String] = [],
                truth: Result?, results: [Result], columns: [String], signalAxis: Axis, rowAxis: Axis, colAxis: Axis,
                profile: ProfileDirection = .rows, agreement: [[Double?]]? = nil, spectraNote: String = "", figures: [Figure] = []) {
        self.title = title
        self.command = command
        self.input = input
        self.table = table
        self.tableNotes = tableNotes
        self.truth = truth
        self.results = results
        self.columns = columns
        self.signalAxis = signalAxis
        self.rowAxis = rowAxis
        self.colAxis = colAxis
        self.profile = profile
        self.agreement = agreement
        self.spectraNote = spectraNote
        self.figures = figures
    }
}
