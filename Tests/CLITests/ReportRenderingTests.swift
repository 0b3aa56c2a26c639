import Foundation
import Testing
import UnmixHost
import _TestSupport

/// report.html as a person sees it: rendered by headless Chromium, every abundance map found in
/// the screenshot by its frame, and each map's box showing structure wherever the data has it.
@Suite(.serialized, .enabled(if: chromiumTestsEnabled, "chromium is not installed: report rendering tests skipped"))
struct ReportRenderingTests {
    static let frame = (HTMLReport.mapFrame.r, HTMLReport.mapFrame.g, HTMLReport.mapFrame.b)

    /// Checks a page is self-contained: no script, no address outside the file.
    func expectSelfContained(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!html.contains("<script"), "report.html holds a script", sourceLocation: sourceLocation)
        for pattern in ["src=\"http", "href=\"http", "url(http", "@import"] {
            #expect(!html.contains(pattern), "report.html refers outside itself (\(pattern))", sourceLocation: sourceLocation)
        }
    }

    /// The maps found in the screenshot, checked: `rows` × `columns` boxes of the map size, and
    /// every box whose data varies shows more than one colour.
    func expectMaps(_ shot: PNGImage, rows: Int, columns: Int, varies: [[Bool]], sourceLocation: SourceLocation = #_sourceLocation) {
        let boxes = framedBoxes(in: shot, color: Self.frame, minimumSide: 40)
        #expect(boxes.count == rows * columns, "found \(boxes.count) map frames, expected \(rows) × \(columns): \(boxes)",
                sourceLocation: sourceLocation)
        guard boxes.count == rows * columns else { return }
        for (i, box) in boxes.enumerated() {
            let (row, column) = (i / columns, i % columns)
            #expect(abs(box.width - Int(HTMLReport.mapSide) - 2) <= 1 && abs(box.height - Int(HTMLReport.mapSide) - 2) <= 1,
                    "map \(row),\(column): box \(box) is not the map's size", sourceLocation: sourceLocation)
            let colors = distinctColors(in: shot, inside: box)
            if varies[row][column] {
                #expect(colors > 8, "map \(row),\(column): its data varies but its box shows \(colors) colours", sourceLocation: sourceLocation)
            }
        }
    }

    /// Whether each map of an abundance file (rows × cols × R) varies visibly, in the report's column
    /// order (matched to `reference` endmembers when given).
    func variation(abundances: URL, endmembers: URL, reference: [Float]?) throws -> [Bool] {
        let a = try NPY.read(abundances), e = try NPY.read(endmembers)
        let r = a.shape[2], pixels = a.shape[0] * a.shape[1], bands = e.shape[1]
        let order = reference.map { matchEndmembers(truth: $0, estimate: e.values, r: r, bands: bands).permutation } ?? Array(0..<r)
        return order.map { k in
            let map = (0..<pixels).map { a.values[$0 * r + k] }
            // Visible on a colour scale about 0 … 1 wide (proportions share their column's scale).
            return (map.max() ?? 0) - (map.min() ?? 0) > 0.05
        }
    }

    @Test func compareReportOfEveryPluginOnEels3() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let out = dir.appendingPathComponent("report")
            // Every plugin; the long trainings cut short (the report is under test, not the methods).
            let result = try runUnmix(["compare", data.path, "--out", out.path, "--set", "daeu.epochs=5", "--set", "mtaeu.epochs=3",
                                       "--set", "cnnaeu.epochs=3", "--set", "blu.iterations=20", "--set", "udas.iterations=2"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
            expectSelfContained(html)
            let compare = try parseJSON(Data(contentsOf: out.appendingPathComponent("compare.json")))
            let plugins = (compare["results"] as? [[String: Any]] ?? []).compactMap { $0["plugin"] as? String }
            #expect(plugins.count == 9, "plugins: \(plugins)")
            #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 6, "3 spectra and 3 profiles")
            for id in plugins { #expect(html.contains(">\(id)</span>"), "\(id) has no row of maps") }

            let truth = try SynthFolderReader.readTruth(data.path, rows: 64, cols: 64, bands: 200)
            var varies = [[Bool]](repeating: [true, true, true], count: 1)
            for id in plugins {
                let run = out.appendingPathComponent("runs/\(id)/seed-0")
                varies.append(try variation(abundances: run.appendingPathComponent("abundances.npy"),
                                            endmembers: run.appendingPathComponent("endmembers.npy"), reference: truth.endmembers))
            }
            let shot = try renderInChromium(out.appendingPathComponent("report.html"), height: 5200)
            expectMaps(shot, rows: 1 + plugins.count, columns: 3, varies: varies)
        }
    }

    @Test func runAndApplyReportsRender() throws {
        try withTemporaryDirectory { dir in
            let data = try writeEels3Dataset(to: dir.appendingPathComponent("eels3"))
            let out = dir.appendingPathComponent("run"), model = dir.appendingPathComponent("vca.unmix")
            #expect(try runUnmix(["run", "vca", data.path, "--save-model", model.path, "--profile", "cols", "--out", out.path]).status == 0)
            let applied = dir.appendingPathComponent("apply")
            #expect(try runUnmix(["apply", model.path, data.path, "--roi", "0:32,0:64", "--out", applied.path]).status == 0)
            for (folder, rows) in [(out, 2), (applied, 2)] {
                let page = folder.appendingPathComponent("report.html")
                let html = try String(contentsOf: page, encoding: .utf8)
                expectSelfContained(html)
                #expect(html.contains("Energy loss (eV)"), "the spectra's x axis is the energy in eV")
                let shot = try renderInChromium(page, height: 3200)
                // The apply selection keeps half the rows: its maps are 150 × 75.
                let boxes = framedBoxes(in: shot, color: Self.frame, minimumSide: 40)
                #expect(boxes.count == rows * 3, "\(folder.lastPathComponent): \(boxes.count) map frames")
                for box in boxes { #expect(distinctColors(in: shot, inside: box) > 8, "\(folder.lastPathComponent): uniform map box \(box)") }
                if folder == applied {
                    #expect(boxes.allSatisfy { abs($0.width - 152) <= 1 && abs($0.height - 77) <= 1 }, "apply maps: \(boxes)")
                }
            }
            let runHTML = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(runHTML.contains("mean abundance of each column"), "--profile cols")
        }
    }
}
