import Testing
import UnmixNumerics
import _TestSupport

/// The smallest total cost over every injective map of rows to columns, by brute force.
private func bruteForceMinimum(_ cost: [[Double]]) -> Double {
    let n = cost.count, m = cost.first?.count ?? 0
    var best = Double.infinity
    var used = [Bool](repeating: false, count: m)
    func search(_ row: Int, _ total: Double) {
        if row == n { best = min(best, total); return }
        for column in 0..<m where !used[column] {
            used[column] = true
            search(row + 1, total + cost[row][column])
            used[column] = false
        }
    }
    search(0, 0)
    return best
}

private func totalCost(_ cost: [[Double]], _ assignment: [Int]) -> Double {
    assignment.enumerated().reduce(0) { $0 + cost[$1.offset][$1.element] }
}

/// Checks that `assignment` uses each column at most once and reaches the brute-force optimum.
private func expectOptimal(_ cost: [[Double]], _ assignment: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
    let m = cost.first?.count ?? 0
    #expect(assignment.count == cost.count, sourceLocation: sourceLocation)
    #expect(assignment.allSatisfy { (0..<m).contains($0) }, "columns out of range: \(assignment)",
            sourceLocation: sourceLocation)
    #expect(Set(assignment).count == assignment.count, "a column used twice: \(assignment)", sourceLocation: sourceLocation)
    expectClose(totalCost(cost, assignment), bruteForceMinimum(cost), tolerance: 1e-9, "total cost of \(assignment)",
                sourceLocation: sourceLocation)
}

@Suite struct HungarianTests {
    @Test func known3x3() {
        // Optimum 5: row 0 → column 1 (1), row 1 → column 0 (2), row 2 → column 2 (2).
        let cost: [[Double]] = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        let assignment = Hungarian.minimumCostAssignment(cost)
        #expect(assignment == [1, 0, 2])
        expectOptimal(cost, assignment)
    }

    @Test func known4x4() {
        // The unique optimum is 140 = 69 + 37 + 11 + 23 (rows → columns 2, 1, 0, 3); the next best
        // assignment costs 142.
        let cost: [[Double]] = [[82, 83, 69, 92], [77, 37, 49, 92], [11, 69, 5, 86], [8, 9, 98, 23]]
        let assignment = Hungarian.minimumCostAssignment(cost)
        #expect(assignment == [2, 1, 0, 3])
        #expect(totalCost(cost, assignment) == 140)
        expectOptimal(cost, assignment)
    }

    @Test func rectangular() {
        // Two rows, four columns: the cheap columns 3 and 1 are taken.
        let cost: [[Double]] = [[5, 9, 7, 1], [6, 2, 8, 3]]
        let assignment = Hungarian.minimumCostAssignment(cost)
        #expect(assignment == [3, 1])
        expectOptimal(cost, assignment)
    }

    @Test func negativeCostsAndTies() {
        let cost: [[Double]] = [[-1, -1, 0], [-1, -1, 0], [0, 0, 0]]
        expectOptimal(cost, Hungarian.minimumCostAssignment(cost))
    }

    @Test func empty() {
        #expect(Hungarian.minimumCostAssignment([]) == [])
    }

    @Test(arguments: [(1, 1), (2, 2), (3, 5), (4, 4), (5, 5), (5, 7), (6, 6), (7, 7)])
    func randomMatricesMatchBruteForce(n: Int, m: Int) {
        var stream = RandomStream(seed: UInt64(100 * n + m))
        for _ in 0..<25 {
            // Integer costs make ties common, a harder case than distinct real costs.
            let integer = stream.uniform() < 0.5
            let cost = (0..<n).map { _ in
                (0..<m).map { _ in integer ? Double(stream.index(below: 5)) : stream.uniform() * 10 - 3 }
            }
            expectOptimal(cost, Hungarian.minimumCostAssignment(cost))
        }
    }
}
