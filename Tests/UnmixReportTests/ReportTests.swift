import Foundation
import Testing
import UnmixIO
import UnmixReport
import _TestSupport

@Suite struct ReportTests {
    @Test(arguments: [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (250.0, 912.67, [200.0, 400, 600, 800, 1000]),
        (-0.013, 0.97, [-0.2, 0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (3.0, 3.0, [2.6, 2.8, 3.0, 3.2, 3.4]),
        (0.0, 0.0, [-1.0, -0.5, 0, 0.5, 1.0]),
    ])
    func ticksAreNiceAndCoverTheRange(low: Double, high: Double, expected: [Double]) {
        let t = Ticks(low, high, count: 5)
        #expect(t.values.count == expected.count, "\(t.values) for \(low)…\(high)")
        for (a, b) in zip(t.values, expected) { expectClose(a, b, tolerance: 1e-9, "tick") }
        #expect(t.low <= low && t.high >= high)
    }

    /// A chart with no series (every map left out of the profiles, no truth) draws its empty
    /// frame; it once unwrapped the maximum of no values and trapped the host.
    @Test func aChartWithoutSeriesDrawsAnEmptyFrame() {
        var chart = LineChart(title: "empty", xLabel: "x", yLabel: "y", series: [])
        chart.yRange = (0, 1)
        let svg = chart.svg(id: "empty")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>") && svg.contains("empty"), "\(svg.prefix(200))")
    }

    @Test func tickLabelsHaveTheDecimalsTheStepNeeds() {
        #expect(Ticks(0, 1).label(0.4) == "0.4")
        #expect(Ticks(200, 1000).label(600) == "600")
        #expect(Ticks(0, 2e6).label(1e6) == "1e+06")
    }

    @Test func pngRoundTripsThroughLibpng() throws {
        let pixels = (0..<(7 * 5 * 3)).map { UInt8(($0 * 37) % 256) }
        let image = PNGImage(width: 7, height: 5, pixels: pixels)
        let data = try image.encoded()
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("a.png")
            try data.write(to: url)
            #expect(try PNGImage.read(url.path) == image)
            try Data("not a png".utf8).write(to: url)
            expectUnmixError(containing: ["a.png", "cannot read"]) { _ = try PNGImage.read(url.path) }
        }
    }

    @Test func viridisEndsAndClamps() {
        #expect(Colormap.viridis(0) == (68, 1, 84))
        #expect(Colormap.viridis(1) == (253, 231, 37))
        #expect(Colormap.viridis(-3) == Colormap.viridis(0) && Colormap.viridis(7) == Colormap.viridis(1))
        #expect(Colormap.viridis(.nan) == (128, 128, 128))
    }

    @Test func textIsEscapedAndControlCharactersDropped() {
        #expect(escapeHTML("<b>\"x\" & 'y'</b>") == "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;")
        #expect(escapeHTML("red\u{1B}[31m!") == "red[31m!")
    }

    /// A page without truth: the agreement heat map appears, a failed method has an error row,
    /// maps that are not proportions get their own colour bar.
    @Test func reportWithoutTruth() throws {
        let (rows, cols, bands) = (3, 4, 6)
        let axis = Axis(name: "Energy loss", size: bands, offset: 100, scale: 2, units: "eV")
        func result(_ label: String, _ scale: Float) -> Report.Result {
            Report.Result(label: label, details: [Report.Field("seed", "0")],
                          endmembers: [(0..<bands).map { Float($0) * scale }, (0..<bands).map { Float(bands - $0) * scale }],
                          maps: [(0..<(rows * cols)).map { Float($0) / 11 * scale }, (0..<(rows * cols)).map { 1 - Float($0) / 11 }])
        }
        let report = Report(
            title: "test <page>", command: ["unmix", "compare", "a b.npy"], input: [Report.Field("file", "a b.npy")],
            table: Report.Table(header: ["PLUGIN", "RMSE"], rows: [["one", "1"], ["two", "2"], ["bad", "-"]], rightAligned: [1]),
            truth: nil,
            results: [result("one", 1), result("two", 30),
                      Report.Result(label: "bad", endmembers: [], maps: [], error: "crashed (SIGSEGV)")],
            columns: ["endmember 1", "endmember 2"], signalAxis: axis, rowAxis: .index("y", size: rows),
            colAxis: .index("x", size: cols), agreement: [[0, 0.1, nil], [0.1, 0, nil], [nil, nil, nil]])
        let html = try HTMLReport.render(report)
        #expect(html.contains("<title>test &lt;page&gt;</title>"))
        #expect(html.contains("unmix compare &#39;a b.npy&#39;"), "the command line, quoted as a shell would")
        #expect(html.contains("Agreement between methods") && html.contains("class=\"heatmap\""))
        #expect(html.contains("crashed (SIGSEGV)"))
        #expect(html.components(separatedBy: "<img class=\"map\"").count - 1 == 4, "2 methods × 2 maps")
        #expect(html.contains("each drawn on its own scale") && html.contains("two"), "two's first map is not proportions")
        #expect(html.contains("Energy loss (eV)"))
        #expect(html.contains("100") && html.contains("110"), "x ticks at the axis values")
    }
}
