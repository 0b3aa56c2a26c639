import Foundation
import Testing
import UnmixHost

/// The headless Chromium binary (Debian's `chromium`), or nil when it is not installed.
public func chromiumExecutable() -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
    }
    return nil
}

/// Whether the rendering tests run: Chromium is installed, or `scripts/test` asked for them
/// (`UNMIX_REQUIRE_CHROMIUM=1`, and then a missing Chromium fails them).
public let chromiumTestsEnabled = chromiumExecutable() != nil || ProcessInfo.processInfo.environment["UNMIX_REQUIRE_CHROMIUM"] == "1"

/// Renders the local page `html` in headless Chromium at device scale 1 into a PNG screenshot
/// of `width` × `height` CSS pixels, and reads it back.
public func renderInChromium(_ html: URL, width: Int = 1400, height: Int) throws -> PNGImage {
    guard let chromium = chromiumExecutable() else {
        throw UnmixError("chromium is not installed (scripts/test installs Debian's chromium when run as root)")
    }
    let shot = html.deletingLastPathComponent().appendingPathComponent("screenshot-\(UUID().uuidString).png")
    let profile = FileManager.default.temporaryDirectory.appendingPathComponent("unmix-chromium-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: profile) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium)
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
                         "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", "--screenshot=\(shot.path)",
                         html.absoluteString]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard FileManager.default.fileExists(atPath: shot.path) else {
        throw UnmixError("chromium wrote no screenshot of \(html.path) (exit status \(process.terminationStatus))")
    }
    defer { try? FileManager.default.removeItem(at: shot) }
    return try PNGImage.read(shot.path)
}

/// A box found in a screenshot: the bounding rectangle of a connected set of pixels of one colour.
public struct FoundBox: Equatable {
    public var x: Int, y: Int, width: Int, height: Int
}

/// The boxes drawn in exactly `color` (frames of at least `minimumSide` pixels), top to bottom
/// and then left to right.
public func framedBoxes(in image: PNGImage, color: (UInt8, UInt8, UInt8), minimumSide: Int = 8) -> [FoundBox] {
    let (w, h) = (image.width, image.height)
    var seen = [Bool](repeating: false, count: w * h)
    func matches(_ i: Int) -> Bool {
        image.pixels[3 * i] == color.0 && image.pixels[3 * i + 1] == color.1 && image.pixels[3 * i + 2] == color.2
    }
    var boxes = [FoundBox]()
    for start in 0..<(w * h) where !seen[start] && matches(start) {
        var stack = [start]
        seen[start] = true
        var (x0, y0, x1, y1) = (w, h, 0, 0)
        while let i = stack.popLast() {
            let (x, y) = (i % w, i / w)
            (x0, y0, x1, y1) = (min(x0, x), min(y0, y), max(x1, x), max(y1, y))
            for (nx, ny) in [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)] where nx >= 0 && ny >= 0 && nx < w && ny < h {
                let j = ny * w + nx
                if !seen[j] && matches(j) { seen[j] = true; stack.append(j) }
            }
        }
        if x1 - x0 + 1 >= minimumSide && y1 - y0 + 1 >= minimumSide {
            boxes.append(FoundBox(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1))
        }
    }
    return boxes.sorted { ($0.y, $0.x) < ($1.y, $1.x) }
}

/// The number of distinct colours inside `box` (its frame excluded).
public func distinctColors(in image: PNGImage, inside box: FoundBox) -> Int {
    var colors = Set<UInt32>()
    for y in (box.y + 2)..<(box.y + box.height - 2) {
        for x in (box.x + 2)..<(box.x + box.width - 2) {
            let (r, g, b) = image.pixel(x, y)
            colors.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
        }
    }
    return colors.count
}
