import Testing
@testable import UnmixSDK

/// The SDK's parameter declarations: defaults read from the model, values checked against the
/// declared table before a plugin sees them.
@Suite struct ParameterTests {
    struct Model {
        enum Mode: String, CaseIterable { case fast, exact }
        var iterations = 100
        var tolerance = 1e-4
        var verbose = false
        var mode = Mode.exact
    }

    let table: [Parameter<Model>] = [
        .integer("iterations", \.iterations, min: 1, max: 1000, help: "h"),
        .real("tolerance", \.tolerance, min: 0, logScale: true, help: "h"),
        .boolean("verbose", \.verbose, help: "h"),
        .choice("mode", \.mode, help: "h"),
    ]

    @Test func valuesRoundTripThroughKeyPaths() {
        var m = Model()
        #expect(table.map { $0.get(m) } == [100, 1e-4, 0, 1])
        for (p, v) in zip(table, [7.0, 0.5, 1, 0]) { p.set(&m, v) }
        #expect(m.iterations == 7 && m.tolerance == 0.5 && m.verbose && m.mode == .fast)
    }

    @Test(arguments: [
        (0, 0.0, "below its minimum 1"), (0, 1001.0, "above its maximum 1000"), (0, 2.5, "must be an integer"),
        (1, -1.0, "below its minimum 0"), (1, .nan, "must be finite"), (2, 0.5, "must be 0 or 1"),
        (3, 2.0, "choice index"), (3, -1.0, "choice index"),
    ])
    func badValuesAreRefusedWithTheirName(index: Int, value: Double, reason: String) throws {
        let problem = try #require(table[index].problem(with: value), "value \(value) accepted for \(table[index].id)")
        #expect(problem.contains("'\(table[index].id)'") && problem.contains(reason), "message: \(problem)")
    }

    @Test func goodValuesPass() {
        for (p, v) in zip(table, [1.0, 1e9, 1, 1]) { #expect(p.problem(with: v) == nil, "\(p.id) = \(v)") }
    }

    @Test func stateCoderRoundTrip() throws {
        let values = [0, -1.5, .pi, 1e300, -0.0]
        #expect(try StateCoder.decode(StateCoder.encode(values)) == values)
        #expect(throws: PluginError.self) { try StateCoder.decode([1, 2, 3]) }
        // Little-endian IEEE 754: 1.0 is 0x3FF0_0000_0000_0000.
        #expect(StateCoder.encode([1]) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
    }

    /// StateReader takes sizes, R below bands, positive scales and value runs in order, and
    /// refuses (never traps on) whatever does not fit.
    @Test func stateReaderReadsAndRefuses() throws {
        var state = try StateReader(StateCoder.encode([5, 2, 0.25, 1, 2, 3, 4]), plugin: "P")
        #expect(try state.bandsAndEndmembers() == (5, 2))
        #expect(try state.positive() == 0.25)
        #expect(try state.values(3) == [1, 2, 3])
        #expect(throws: PluginError.self) { try state.finish() }          // one value left over
        #expect(try state.values(1) == [4])
        try state.finish()
        #expect(throws: PluginError.self) { try state.values(1) }         // past the end
        for bad: [Double] in [[.nan], [-1], [0], [1.5], [1e300], [9_007_199_254_740_992]] {
            var reader = try StateReader(StateCoder.encode(bad), plugin: "P")
            #expect(throws: PluginError.self, "size \(bad[0])") { try reader.size() }
        }
        var rTooLarge = try StateReader(StateCoder.encode([3, 3]), plugin: "P")
        #expect(throws: PluginError.self) { try rTooLarge.bandsAndEndmembers() }
        var notPositive = try StateReader(StateCoder.encode([0]), plugin: "P")
        #expect(throws: PluginError.self) { try notPositive.positive() }
        let m = Matrix(rows: 2, cols: 3, storage: [1, 2, 3, 4, 5, 6])
        var matrixState = try StateReader(StateCoder.encode(m), plugin: "P")
        let read = try matrixState.matrix()
        #expect(read.rows == 2 && read.cols == 3 && read.storage == m.storage)
        try matrixState.finish()
    }
}
