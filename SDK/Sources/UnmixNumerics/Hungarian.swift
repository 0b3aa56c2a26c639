/// The linear assignment problem: match each row of a cost matrix to a distinct column so the
/// total cost is smallest.
///
/// Design notes: the shortest-augmenting-path form of the Hungarian method (Kuhn–Munkres, in
/// the style of Jonker & Volgenant) with row and column potentials. Rows are added one at a
/// time; each addition runs a Dijkstra-like search over the columns using reduced costs, so the
/// whole solve is O(n²·m) for n rows and m ≥ n columns. Costs must be finite; ties are broken
/// towards lower column indices, so the result is deterministic.
public enum Hungarian {
    /// For an n × m cost matrix with n ≤ m (every row the same length), the column assigned to
    /// each row in an assignment of minimum total cost; columns are used at most once.
    public static func minimumCostAssignment(_ cost: [[Double]]) -> [Int] {
        let n = cost.count
        if n == 0 { return [] }
        let m = cost[0].count
        precondition(cost.allSatisfy { $0.count == m }, "Hungarian: every row of the cost matrix must have \(m) columns")
        precondition(n <= m, "Hungarian: needs rows <= columns, got \(n) × \(m)")
        precondition(cost.allSatisfy { $0.allSatisfy(\.isFinite) }, "Hungarian: costs must be finite")

        // Index 0 of the column arrays is a virtual column that holds the row being inserted;
        // real column j lives at j + 1, real row i is i + 1 (0 means "no row").
        var rowPotential = [Double](repeating: 0, count: n + 1)
        var columnPotential = [Double](repeating: 0, count: m + 1)
        var rowOfColumn = [Int](repeating: 0, count: m + 1)
        var previousColumn = [Int](repeating: 0, count: m + 1)
        var distance = [Double](repeating: 0, count: m + 1)
        var visited = [Bool](repeating: false, count: m + 1)

        for row in 1...n {
            rowOfColumn[0] = row
            var column0 = 0
            for j in 0...m { distance[j] = .infinity; visited[j] = false }
            // Grow a shortest-path tree from the new row until it reaches a free column.
            repeat {
                visited[column0] = true
                let i0 = rowOfColumn[column0]
                var delta = Double.infinity
                var column1 = 0
                for j in 1...m where !visited[j] {
                    let reduced = cost[i0 - 1][j - 1] - rowPotential[i0] - columnPotential[j]
                    if reduced < distance[j] {
                        distance[j] = reduced
                        previousColumn[j] = column0
                    }
                    if distance[j] < delta {
                        delta = distance[j]
                        column1 = j
                    }
                }
                // Shift potentials so the tree's edges stay tight and reduced costs stay >= 0.
                for j in 0...m {
                    if visited[j] {
                        rowPotential[rowOfColumn[j]] += delta
                        columnPotential[j] -= delta
                    } else {
                        distance[j] -= delta
                    }
                }
                column0 = column1
            } while rowOfColumn[column0] != 0
            // Augment: flip the matching along the path back to the virtual column.
            repeat {
                let column1 = previousColumn[column0]
                rowOfColumn[column0] = rowOfColumn[column1]
                column0 = column1
            } while column0 != 0
        }

        var assignment = [Int](repeating: -1, count: n)
        for j in 1...m where rowOfColumn[j] != 0 {
            assignment[rowOfColumn[j] - 1] = j - 1
        }
        return assignment
    }
}
