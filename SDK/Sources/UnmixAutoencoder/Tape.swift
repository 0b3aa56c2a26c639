/// Reverse-mode automatic differentiation on a tape (a Wengert list).
///
/// Every operation on `Variable`s appends its value and a pullback — a closure mapping the
/// gradient of the output to the gradients of its inputs — to the tape. `gradients(of:wrt:)`
/// walks the tape backwards once. Nodes that depend on no trainable leaf record no pullback,
/// so inputs and constants cost nothing in the backward pass.
///
/// One tape serves one forward/backward pass (a training step); start a new one for the next.
public final class Tape {
    /// Gradient of the output → gradients of the inputs; `needs[i]` says whether input i wants one.
    typealias Pullback = (_ gradient: Tensor, _ needs: [Bool]) -> [Tensor?]

    var values: [Tensor] = []
    var parents: [[Int]] = []
    var pullbacks: [Pullback?] = []
    var requiresGradient: [Bool] = []

    public init() {}

    /// A trainable leaf: its gradient can be asked for.
    public func parameter(_ value: Tensor) -> Variable { append(value, parents: [], pullback: nil, requires: true) }

    /// A constant leaf (data, targets): no gradient flows into it.
    public func constant(_ value: Tensor) -> Variable { append(value, parents: [], pullback: nil, requires: false) }

    func record(_ value: Tensor, _ inputs: [Variable], _ pullback: @escaping Pullback) -> Variable {
        let requires = inputs.contains { requiresGradient[$0.id] }
        return append(value, parents: inputs.map(\.id), pullback: requires ? pullback : nil, requires: requires)
    }

    private func append(_ value: Tensor, parents: [Int], pullback: Pullback?, requires: Bool) -> Variable {
        values.append(value)
        self.parents.append(parents)
        pullbacks.append(pullback)
        requiresGradient.append(requires)
        return Variable(tape: self, id: values.count - 1)
    }

    /// The gradient of the scalar `output` with respect to each of `inputs` (zeros where it does
    /// not depend on one).
    public func gradients(of output: Variable, wrt inputs: [Variable]) -> [Tensor] {
        precondition(output.tape === self && inputs.allSatisfy { $0.tape === self }, "gradients: variables of another tape")
        precondition(values[output.id].count == 1, "gradients: the output must be a scalar, shape \(values[output.id].shape)")
        var grads = [Tensor?](repeating: nil, count: output.id + 1)
        grads[output.id] = Tensor(shape: values[output.id].shape, repeating: 1)
        for i in stride(from: output.id, through: 0, by: -1) {
            guard let g = grads[i], let pullback = pullbacks[i] else { continue }
            let ps = parents[i]
            let contributions = pullback(g, ps.map { requiresGradient[$0] })
            for (p, c) in zip(ps, contributions) {
                guard let c, requiresGradient[p] else { continue }
                if let existing = grads[p] {
                    grads[p] = broadcast(existing, c, +)
                } else {
                    grads[p] = c
                }
            }
            if i != output.id { grads[i] = nil } // free intermediate gradients early
        }
        return inputs.map { v in grads.indices.contains(v.id) ? (grads[v.id] ?? Tensor(shape: values[v.id].shape)) : Tensor(shape: values[v.id].shape) }
    }
}

/// A value recorded on a tape.
public struct Variable {
    public let tape: Tape
    public let id: Int

    public var value: Tensor { tape.values[id] }
    public var shape: [Int] { tape.values[id].shape }
}
