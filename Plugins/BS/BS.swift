import Foundation
import UnmixSDK

/// The classic EELS reference of Brun, Lambert & Bocher (2024, Fig. 4), background subtraction
/// and integration: per endmember, a power law fitted on a pre-edge window and subtracted, the
/// edge integrated over an integration window, the maps normalised and made to sum to one; the
/// endmembers by least squares on those maps.
struct BS: StatefulUnmixer {
    /// The most endmembers the parameter table has windows for.
    static let maxEntries = 6

    /// Per entry k, `bounds[4k ..< 4k + 4]` = pre-edge start, end, integration start, end in
    /// axis units; an entry whose four values are 0 is not set.
    var bounds = [Double](repeating: 0, count: 4 * maxEntries)
    /// The entry (1-based) with no edge, whose map is 1 − Σ others; 0 for none.
    var remainder = 0
    /// Each map is divided by this percentile of its pixels.
    var percentile = 99.0

    /// The fitted model: the divisor of each map (1 for the remainder), from the fitted cube.
    private var scales: [Double]?

    static let info = PluginInfo(
        id: "bs", name: "BS", version: "1.0.0",
        summary: "Background subtraction and integration: the classic EELS edge maps (power-law pre-edge fit)",
        description: """
            The reference method of EELS quantification, as the paper compares the unmixing methods \
            with it: for each endmember a power law A·E^−r is fitted per pixel on a pre-edge window \
            (weighted least squares of log I on log E), extrapolated under the edge and subtracted, and \
            the rest integrated over an integration window. Each map is divided by a high percentile of \
            itself (a near-pure pixel is assumed: cross-sections differ, so raw integrals are not \
            proportions), clipped at 0 and made to sum to one per pixel. An entry may stand for a \
            component with no edge, whose map is 1 minus the others. Endmembers are the least-squares \
            spectra for those abundances, clipped at 0. Windows are in axis units (eV), one entry per \
            endmember: pre_start_k, pre_end_k, int_start_k, int_end_k; with none set, the positive part \
            of the axis is split into R equal segments (a generic default, not an EELS one). \
            Deterministic; needs a host with the unmix.axis/1 extension.
            """,
        authors: "unmix developers", license: "MIT",
        capabilities: [.abundancesNonnegative, .abundancesSumToOne])

    static let parameters: [Parameter<BS>] = {
        var table = [Parameter<BS>]()
        let fields = [("pre_start", "pre-edge window start (the power law is fitted from here)"),
                      ("pre_end", "pre-edge window end"),
                      ("int_start", "integration window start"),
                      ("int_end", "integration window end")]
        for k in 0..<maxEntries {
            for (j, field) in fields.enumerated() {
                let index = 4 * k + j
                table.append(.real("\(field.0)_\(k + 1)", \BS.bounds[index],
                                   help: "Endmember \(k + 1): \(field.1), in axis units (eV). An entry whose four values are 0 is not set."))
            }
        }
        table.append(.integer("remainder", \.remainder, min: 0, max: maxEntries,
                              help: "The endmember (1–\(maxEntries)) with no edge (e.g. a bare power law): its map is 1 minus the others, its windows stay unset. 0: none."))
        table.append(.real("percentile", \.percentile, min: 50, max: 100,
                           help: "Each map is divided by this percentile of its pixels before the sum to one (100: its maximum); assumes a near-pure pixel."))
        return table
    }()

    // MARK: - Windows

    /// The entries as set: nil when none is (automatic windows), else one per endmember up to
    /// the last one set or the remainder.
    func entries() throws -> [WindowEntry]? {
        let windows = (0..<Self.maxEntries).map { k in
            EdgeWindows(preStart: bounds[4 * k], preEnd: bounds[4 * k + 1],
                        integrationStart: bounds[4 * k + 2], integrationEnd: bounds[4 * k + 3])
        }
        let lastSet = windows.lastIndex { !$0.isUnset }.map { $0 + 1 } ?? 0
        let count = max(lastSet, remainder)
        if count == 0 { return nil }
        return try (0..<count).map { k in
            if k + 1 == remainder {
                guard windows[k].isUnset else {
                    throw WindowError.entry(k, "is the remainder (remainder = \(remainder)), so its windows must stay unset (0)")
                }
                return .remainder
            }
            guard !windows[k].isUnset else {
                throw WindowError.entry(k, "is not set, but entries up to \(count) are in use; set its windows or make it the remainder")
            }
            return .edge(windows[k])
        }
    }

    /// The channels of each endmember's windows on this cube's axis.
    func plan(_ cube: Cube, r: Int, context: RunContext) throws -> (axis: ChannelAxis, entries: [ResolvedEntry]) {
        guard context.hostOffersSignalAxis else {
            throw PluginError(.unsupported, "BS needs the host's signal axis (the unmix.axis/1 extension of ABI 1.1 and later); this host does not offer it")
        }
        let axis = try ChannelAxis(context.signalAxis, bands: cube.bands)
        guard let set = try entries() else {
            let automatic = try axis.automaticWindows(r: r)
            let text = automatic.windows.map {
                "\(axis.format($0.preStart))-\(axis.format($0.preEnd)):\(axis.format($0.integrationStart))-\(axis.format($0.integrationEnd))"
            }
            context.log(.info, "BS: no windows set; automatic windows (\(axis.units)) \(text.joined(separator: ", "))")
            return (axis, automatic.entries)
        }
        guard set.count == r else {
            throw PluginError.invalidArgument("BS has \(set.count) window entr\(set.count == 1 ? "y" : "ies") (one per endmember, the remainder included) but R = \(r); set one entry per endmember")
        }
        guard set.contains(where: { $0 != .remainder }) else {
            throw PluginError.invalidArgument("BS: the only entry is the remainder; at least one entry needs an edge")
        }
        return (axis, try axis.resolve(set))
    }

    /// The background-subtracted integral of each edge entry at each pixel (R × P; zero rows
    /// for the remainder).
    func integrals(_ cube: Cube, axis: ChannelAxis, entries: [ResolvedEntry], context: RunContext) throws -> [[Double]] {
        try entries.map { entry in
            try context.checkCancelled()
            guard case let .edge(pre, integration) = entry else { return [] }
            return EdgeIntegration(pre: pre, integration: integration, axis: axis)
                .integrals(cube.data, pixels: cube.pixels, bands: cube.bands)
        }
    }

    /// Abundances (P × R) from the integrals and the map divisors: each map divided by its
    /// scale and clipped at 0, the remainder 1 − Σ others clipped at 0, then each pixel divided
    /// by its sum (a pixel whose maps are all 0 gets 1/R each).
    static func abundances(integrals: [[Double]], scales: [Double], pixels: Int) -> Matrix {
        let r = integrals.count
        var a = Matrix(rows: pixels, cols: r)
        for p in 0..<pixels {
            var total = 0.0, remainderIndex: Int?
            for k in 0..<r {
                if integrals[k].isEmpty { remainderIndex = k; continue }
                let v = max(0, integrals[k][p] / scales[k])
                a[p, k] = v
                total += v
            }
            if let k = remainderIndex {
                a[p, k] = max(0, 1 - total)
                total += a[p, k]
            }
            for k in 0..<r { a[p, k] = total > 0 ? a[p, k] / total : 1 / Double(r) }
        }
        return a
    }

    /// The divisor of one map: its `percentile` over the pixels (nearest rank), or its maximum
    /// when that is not positive, or 1 when the map is nowhere positive.
    static func scale(of map: [Double], percentile: Double) -> Double {
        guard !map.isEmpty else { return 1 }
        let sorted = map.sorted()
        let rank = Int((percentile / 100 * Double(sorted.count - 1)).rounded())
        let value = sorted[min(sorted.count - 1, max(0, rank))]
        if value > 0 { return value }
        return sorted.last! > 0 ? sorted.last! : 1
    }

    // MARK: - Unmixer

    mutating func fit(_ cube: Cube, endmembers r: Int, context: RunContext) throws -> Matrix {
        let (axis, entries) = try plan(cube, r: r, context: context)
        let maps = try integrals(cube, axis: axis, entries: entries, context: context)
        let fitted = maps.enumerated().map { k, map in
            if map.isEmpty { return 1.0 }
            let s = Self.scale(of: map, percentile: percentile)
            if !(map.max().map { $0 > 0 } ?? false) {
                context.log(.warning, "BS: the map of endmember \(k + 1) is nowhere positive (is its edge in the data?)")
            }
            return s
        }
        let a = Self.abundances(integrals: maps, scales: fitted, pixels: cube.pixels)
        try context.checkCancelled()
        scales = fitted
        return try Self.leastSquaresEndmembers(cube, abundances: a)
    }

    mutating func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        let scales = scales!
        let (axis, entries) = try plan(cube, r: scales.count, context: context)
        let maps = try integrals(cube, axis: axis, entries: entries, context: context)
        return Self.abundances(integrals: maps, scales: scales, pixels: cube.pixels)
    }

    /// argmin over E of ‖X − A E‖ (R × B), i.e. (AᵀA)⁺ AᵀX, clipped at 0 (spectra in counts).
    static func leastSquaresEndmembers(_ cube: Cube, abundances a: Matrix) throws -> Matrix {
        let r = a.cols, bands = cube.bands
        // AᵀX straight from the single-precision cube (no P × B copy in doubles).
        var atx = Matrix(rows: r, cols: bands)
        atx.storage.withUnsafeMutableBufferPointer { out in
            for p in 0..<cube.pixels {
                let row = p * bands
                for k in 0..<r {
                    let w = a[p, k]
                    if w == 0 { continue }
                    let target = k * bands
                    for b in 0..<bands { out[target + b] += w * Double(cube.data[row + b]) }
                }
            }
        }
        var e = matmul(try pseudoInverse(gram(a)), atx)
        for i in e.storage.indices where !(e.storage[i] > 0) { e.storage[i] = 0 }
        return e
    }

    // MARK: - State

    func saveState() throws -> [UInt8] {
        StateCoder.encode([Double(scales!.count)] + scales!)
    }

    mutating func loadState(_ bytes: [UInt8]) throws {
        var state = try StateReader(bytes, plugin: "BS")
        let r = try state.size()
        var loaded = [Double]()
        for _ in 0..<r { loaded.append(try state.positive()) }
        try state.finish()
        scales = loaded
    }
}

@_cdecl("unmix_plugin_entry")
public func unmixPluginEntry() -> UnsafeRawPointer { exportPlugin(BS.self) }
