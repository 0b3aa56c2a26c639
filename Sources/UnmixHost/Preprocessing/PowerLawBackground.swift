import Dispatch
import Foundation
import UnmixNumerics

/// The EELS background under the edges, fitted per pixel and subtracted (see README.md here).
///
/// - `powerLaw`: I(E) = A·E^−r on a pre-edge window, by weighted least squares of log I on log E
///   (closed form; weights I, since Var(log I) ≈ 1/I for Poisson counts, so empty channels drop
///   out by themselves). Channels below the window are set to zero, as DigitalMicrograph does:
///   the extrapolation means nothing there.
/// - `basis`: Σₖ cₖ (E/E₀)^−rₖ with fixed exponents and cₖ ≥ 0, fitted to the whole spectrum as a
///   lower envelope: Poisson-weighted non-negative least squares, reweighted a few times so that
///   channels standing more than two standard deviations above the fit (edges) count 100 times
///   less. It needs no window, at the price of a noisier fit where edges leave little pre-edge.
public struct BackgroundFit: Sendable {
    /// What run.json keeps of a fit.
    public struct Summary: Codable, Sendable {
        public var method: String
        /// The channels the background was fitted on and subtracted from (half-open).
        public var fitChannels: [Int]
        /// `powerlaw:auto`: the window found, in axis units (what `apply` repeats).
        public var window: [Double]? = nil
        /// Channels set to zero (below the window, or at energies ≤ 0).
        public var zeroedChannels: Int
        /// `powerlaw`: quartiles of the fitted exponent r over the pixels.
        public var exponentQuartiles: [Double]?
        /// Pixels where the fit was impossible (fewer than two positive channels in the window)
        /// and the mean spectrum's exponent was used, scaled to the pixel's counts.
        public var fallbackPixels: Int
        /// The share of the cube's total counts the background took.
        public var backgroundShare: Double
    }

    public var subtracted: CubeData
    public var summary: Summary

    /// Fits the background of every pixel of `cube` (whose signal axis is `axis`) and subtracts it.
    ///
    /// - Throws: `UnmixError` when the axis is uncalibrated, the window holds fewer than two
    ///   channels, or the energies are not positive where the fit needs them.
    public static func fit(_ background: Preprocessing.Background, cube: CubeData, axis: Axis, path: String) throws -> BackgroundFit {
        guard !axis.isUncalibrated else {
            throw UnmixError("\(path): --background needs a calibrated signal axis (energy loss), and this one is channel numbers only")
        }
        let energy = axis.allValues
        switch background.method {
        case .powerLaw:
            guard let window = background.window else {
                let found = try preEdgeWindow(cube: cube, energy: energy, path: path)
                var fit = try powerLaw(cube: cube, energy: energy, window: found, smooth: background.smooth ?? 1)
                // Half-open in axis units, as --background takes it: exactly the channels found.
                let last = energy[found.upperBound - 1]
                fit.summary.window = [energy[found.lowerBound],
                                      found.upperBound < energy.count ? energy[found.upperBound] : last + (last - energy[found.lowerBound]) / Double(found.count)]
                return fit
            }
            guard window.count == 2 else { throw UnmixError("--background powerlaw: no window") }
            let channels = (0..<energy.count).filter { energy[$0] >= window[0] && energy[$0] < window[1] }
            guard channels.count >= 2, let first = channels.first, let last = channels.last, last - first + 1 == channels.count else {
                throw UnmixError("\(path): --background \(background.text) holds \(channels.count) channel\(channels.count == 1 ? "" : "s") of the signal axis (\(axis.summary)); the fit needs at least 2")
            }
            return try powerLaw(cube: cube, energy: energy, window: first..<(last + 1), smooth: background.smooth ?? 1)
        case .basis:
            let positive = (0..<energy.count).filter { energy[$0] > 0 }
            guard positive.count >= 2, let first = positive.first, positive.last == energy.count - 1 else {
                throw UnmixError("\(path): --background basis needs an axis whose energies are positive from some channel to the end (\(axis.summary))")
            }
            return try basis(cube: cube, energy: energy, exponents: background.exponents ?? Preprocessing.Background.defaultExponents,
                             from: first)
        }
    }

    // MARK: - The classic pre-edge power law

    static func powerLaw(cube: CubeData, energy: [Double], window: Range<Int>, smooth: Int) throws -> BackgroundFit {
        let (pixels, bands) = (cube.pixels, cube.bands)
        let x = energy.map { $0 > 0 ? log($0) : 0 }
        // The mean spectrum's fit, for pixels that cannot be fitted alone.
        var mean = [Double](repeating: 0, count: bands)
        cube.withUnsafeValues { v in
            for p in 0..<pixels { for b in window { mean[b] += Double(v[p * bands + b]) } }
        }
        let global = logLogFit(window.map { (x[$0], mean[$0] / Double(pixels)) })
        // Pass 1: every pixel's (r, log A), the mean spectrum's shape where a pixel cannot be fitted.
        var fits = [(r: Double, logA: Double)](repeating: (0, -Double.infinity), count: pixels)
        var fallbacks = [Bool](repeating: false, count: pixels)
        cube.withUnsafeValues { v in
            fits.withUnsafeMutableBufferPointer { fs in
                fallbacks.withUnsafeMutableBufferPointer { bs in
                    concurrentChunks(pixels) { range in
                        for p in range {
                            let row = p * bands
                            if let fit = logLogFit(window.map { (x[$0], Double(v[row + $0])) }) {
                                fs[p] = fit
                                continue
                            }
                            bs[p] = true
                            guard let g = global else { continue }
                            // The mean spectrum's shape, scaled to this pixel's window counts.
                            var counts = 0.0, model = 0.0
                            for b in window { counts += max(0, Double(v[row + b])); model += exp(g.logA - g.r * x[b]) }
                            fs[p] = (g.r, counts > 0 && model > 0 ? g.logA + log(counts / model) : -Double.infinity)
                        }
                    }
                }
            }
        }
        // Pass 2 (smooth > 1): exponents averaged over smooth × smooth pixels (mirrored at the
        // border), amplitudes refitted with them: log A = Σ I (log I + r log E) / Σ I.
        if smooth > 1 {
            let averaged = boxAverage(fits.map(\.r), rows: cube.rows, cols: cube.cols, side: smooth)
            cube.withUnsafeValues { v in
                for p in 0..<pixels {
                    var s0 = 0.0, t = 0.0
                    for b in window {
                        let i = Double(v[p * bands + b])
                        if i > 0 { s0 += i; t += i * (log(i) + averaged[p] * x[b]) }
                    }
                    fits[p] = (averaged[p], s0 > 0 ? t / s0 : -Double.infinity)
                }
            }
        }
        let exponents = fits.map(\.r)
        var removed = [Double](repeating: 0, count: pixels)
        let storage = try cube.withUnsafeValues { v in
            try SampleStorage.checkAllocatable(pixels * bands, "the background-subtracted cube")
            return SampleStorage(count: pixels * bands) { out in
                removed.withUnsafeMutableBufferPointer { ts in
                    concurrentChunks(pixels) { range in
                        for p in range {
                            let row = p * bands
                            let (r, logA) = fits[p]
                            var total = 0.0
                            for b in 0..<bands {
                                if b < window.lowerBound {
                                    out[row + b] = 0
                                } else {
                                    let bg = exp(logA - r * x[b])
                                    total += bg
                                    out[row + b] = Float(Double(v[row + b]) - bg)
                                }
                            }
                            ts[p] = total
                        }
                    }
                }
            }
        }
        let sorted = exponents.sorted()
        let quartiles = [0.25, 0.5, 0.75].map { sorted[min(sorted.count - 1, Int($0 * Double(sorted.count)))] }
        let share = removed.reduce(0, +) / max(1e-300, cube.withUnsafeValues { $0.reduce(0.0) { $0 + Double($1) } })
        return BackgroundFit(
            subtracted: CubeData(rows: cube.rows, cols: cube.cols, bands: bands, storage: storage),
            summary: Summary(method: "powerlaw", fitChannels: [window.lowerBound, window.upperBound], zeroedChannels: window.lowerBound,
                             exponentQuartiles: quartiles, fallbackPixels: fallbacks.filter { $0 }.count, backgroundShare: share))
    }

    /// The mean of `values` (rows × cols) over side × side squares, mirrored at the border.
    static func boxAverage(_ values: [Double], rows: Int, cols: Int, side: Int) -> [Double] {
        let radius = side / 2
        func mirror(_ i: Int, _ n: Int) -> Int {
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - 1 - i }
            return i
        }
        var horizontal = [Double](repeating: 0, count: values.count)
        for r in 0..<rows {
            for c in 0..<cols {
                var sum = 0.0
                for o in -radius...radius { sum += values[r * cols + mirror(c + o, cols)] }
                horizontal[r * cols + c] = sum / Double(side)
            }
        }
        var out = [Double](repeating: 0, count: values.count)
        for r in 0..<rows {
            for c in 0..<cols {
                var sum = 0.0
                for o in -radius...radius { sum += horizontal[mirror(r + o, rows) * cols + c] }
                out[r * cols + c] = sum / Double(side)
            }
        }
        return out
    }

    /// Weighted least squares of log I on x = log E, weights I (channels with I ≤ 0 drop out):
    /// I ≈ exp(logA − r·x). Nil with fewer than two usable channels or a degenerate window.
    static func logLogFit(_ points: [(x: Double, counts: Double)]) -> (r: Double, logA: Double)? {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, t0 = 0.0, t1 = 0.0, used = 0
        for (x, i) in points where i > 0 && i.isFinite {
            let y = log(i)
            s0 += i; s1 += i * x; s2 += i * x * x; t0 += i * y; t1 += i * x * y
            used += 1
        }
        let det = s0 * s2 - s1 * s1
        guard used >= 2, det > 1e-12 * s0 * s0 else { return nil }
        let slope = (s0 * t1 - s1 * t0) / det
        let intercept = (t0 - slope * s1) / s0
        guard slope.isFinite, intercept.isFinite else { return nil }
        return (-slope, intercept)
    }

    /// `powerlaw:auto`: the pre-edge region of the summed spectrum, which is precise where a
    /// pixel is not. From the first channel of positive energy, the window grows one channel at
    /// a time while the next three channels follow the window's power law; it stops at the first
    /// channel where all three stand above the extrapolation by more than 3σ (Poisson, of the
    /// summed counts) and 0.3 % (the power law is a model, not exact over long windows).
    static func preEdgeWindow(cube: CubeData, energy: [Double], path: String) throws -> Range<Int> {
        let bands = cube.bands
        guard let first = energy.firstIndex(where: { $0 > 0 }), (first..<bands).allSatisfy({ energy[$0] > 0 }) else {
            throw UnmixError("\(path): --background powerlaw:auto needs energies that are positive from some channel to the end")
        }
        var total = [Double](repeating: 0, count: bands)
        cube.withUnsafeValues { v in
            for p in 0..<cube.pixels { for b in 0..<bands { total[b] += Double(v[p * bands + b]) } }
        }
        let x = energy.map { $0 > 0 ? log($0) : 0 }
        let minimum = max(4, (bands - first) / 100)
        guard bands - first >= minimum + 3 else {
            throw UnmixError("\(path): --background powerlaw:auto needs at least \(minimum + 3) channels of positive energy")
        }
        var end = first + minimum
        while end + 3 <= bands {
            guard let fit = logLogFit((first..<end).map { (x[$0], total[$0]) }) else {
                throw UnmixError("\(path): --background powerlaw:auto: the first channels hold no counts to fit")
            }
            let rises = (end..<(end + 3)).allSatisfy { b in
                let model = exp(fit.logA - fit.r * x[b])
                return total[b] > model * 1.003 + 3 * max(1, model).squareRoot()
            }
            if rises { return first..<end }
            end += 1
        }
        // No edge stands out: the whole axis is background.
        return first..<bands
    }

    // MARK: - A basis of power laws, no window

    /// How many times the basis fit is reweighted, and the weight of channels above the fit.
    static let basisIterations = 12
    static let edgeWeight = 0.01
    static let edgeThreshold = 2.0

    static func basis(cube: CubeData, energy: [Double], exponents: [Double], from first: Int) throws -> BackgroundFit {
        let (pixels, bands) = (cube.pixels, cube.bands)
        let k = exponents.count, used = bands - first
        // φₖ(E) = (E / E₀)^−rₖ on the channels used, E₀ the first of them.
        var phi = Matrix(rows: k, cols: used)
        for j in 0..<k { for b in 0..<used { phi[j, b] = pow(energy[first + b] / energy[first], -exponents[j]) } }
        // Qᵇ = φ_j(b) φ_l(b), so that one product W·Q gives every pixel's weighted Gram matrix.
        var q = Matrix(rows: used, cols: k * k)
        for b in 0..<used { for j in 0..<k { for l in 0..<k { q[b, j * k + l] = phi[j, b] * phi[l, b] } } }
        try SampleStorage.checkAllocatable(pixels * bands, "the background-subtracted cube")
        var removed = 0.0
        let block = 256
        let storage = cube.withUnsafeValues { v in
            SampleStorage(count: pixels * bands) { out in
                let blocks = (pixels + block - 1) / block
                let lock = NSLock()
                DispatchQueue.concurrentPerform(iterations: blocks) { index in
                    let lo = index * block, hi = min(pixels, lo + block), n = hi - lo
                    var data = Matrix(rows: n, cols: used)
                    for i in 0..<n { for b in 0..<used { data[i, b] = Double(v[(lo + i) * bands + first + b]) } }
                    var weights = Matrix(rows: n, cols: used)
                    for i in 0..<(n * used) { weights.storage[i] = 1 / max(data.storage[i], 1) }
                    var coefficients = Matrix(rows: n, cols: k)
                    var fit = Matrix(rows: n, cols: used)
                    for _ in 0..<basisIterations {
                        let grams = matmul(weights, q)
                        var weighted = weights
                        for i in 0..<(n * used) { weighted.storage[i] *= data.storage[i] }
                        let products = matmul(weighted, phi, transposeB: true)
                        for i in 0..<n {
                            let c = nonnegativeLeastSquares(gram: Array(grams.storage[(i * k * k)..<((i + 1) * k * k)]),
                                                            product: Array(products.storage[(i * k)..<((i + 1) * k)]), k: k)
                            for j in 0..<k { coefficients[i, j] = c[j] }
                        }
                        fit = matmul(coefficients, phi)
                        for i in 0..<(n * used) {
                            let f = max(fit.storage[i], 1), residual = data.storage[i] - fit.storage[i]
                            weights.storage[i] = (residual > edgeThreshold * f.squareRoot() ? edgeWeight : 1) / f
                        }
                    }
                    var total = 0.0
                    for i in 0..<n {
                        let row = (lo + i) * bands
                        for b in 0..<first { out[row + b] = 0 }
                        for b in 0..<used {
                            total += fit[i, b]
                            out[row + first + b] = Float(data[i, b] - fit[i, b])
                        }
                    }
                    lock.lock(); removed += total; lock.unlock()
                }
            }
        }
        let share = removed / max(1e-300, cube.withUnsafeValues { $0.reduce(0.0) { $0 + Double($1) } })
        return BackgroundFit(
            subtracted: CubeData(rows: cube.rows, cols: cube.cols, bands: bands, storage: storage),
            summary: Summary(method: "basis", fitChannels: [first, bands], zeroedChannels: first, exponentQuartiles: nil,
                             fallbackPixels: 0, backgroundShare: share))
    }
}

/// min ½ cᵀGc − hᵀc subject to c ≥ 0 (G = ΦᵀWΦ, k × k, row-major): Lawson and Hanson's
/// active-set method on the normal equations, each passive-set system solved by LAPACK.
func nonnegativeLeastSquares(gram: [Double], product: [Double], k: Int) -> [Double] {
    var c = [Double](repeating: 0, count: k)
    var passive = [Bool](repeating: false, count: k)
    let scale = (0..<k).reduce(0.0) { max($0, gram[$1 * k + $1]) }
    guard scale > 0 else { return c }
    let tolerance = 1e-12 * scale
    func gradient() -> [Double] { (0..<k).map { i in product[i] - (0..<k).reduce(0.0) { $0 + gram[i * k + $1] * c[$1] } } }
    func solvePassive() -> [Double]? {
        let index = (0..<k).filter { passive[$0] }
        guard !index.isEmpty else { return [] }
        var a = Matrix(rows: index.count, cols: index.count)
        var rhs = Matrix(rows: index.count, cols: 1)
        for (r, i) in index.enumerated() {
            rhs[r, 0] = product[i]
            for (s, j) in index.enumerated() { a[r, s] = gram[i * k + j] + (r == s ? 1e-13 * scale : 0) }
        }
        guard let x = try? solve(a, rhs) else { return nil }
        var full = [Double](repeating: 0, count: k)
        for (r, i) in index.enumerated() { full[i] = x[r, 0] }
        return full
    }
    for _ in 0..<(3 * k) {
        let w = gradient()
        guard let next = (0..<k).filter({ !passive[$0] && w[$0] > tolerance }).max(by: { w[$0] < w[$1] }) else { break }
        passive[next] = true
        while true {
            guard let z = solvePassive() else { return c }
            if (0..<k).allSatisfy({ !passive[$0] || z[$0] > 0 }) { c = z; break }
            // Step back to the boundary and drop the variables that reach it.
            var alpha = 1.0
            for i in 0..<k where passive[i] && z[i] <= 0 { alpha = min(alpha, c[i] / (c[i] - z[i])) }
            for i in 0..<k { c[i] += alpha * (z[i] - c[i]) }
            for i in 0..<k where passive[i] && c[i] <= tolerance * 1e-3 { passive[i] = false; c[i] = 0 }
            if !passive.contains(true) { break }
        }
    }
    return c
}

/// Runs `body` over `count` items in contiguous chunks on all cores.
func concurrentChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    let chunks = max(1, min(64, count / 64))
    DispatchQueue.concurrentPerform(iterations: chunks) { i in body((count * i / chunks)..<(count * (i + 1) / chunks)) }
}
