/// The type-erased face of a plugin's model, so the C thunks need no generic parameter.
class AnyModelBox {
    var parameterCount: Int { fatalError("abstract") }
    /// The plugin's id and name (for messages) and its declared capabilities.
    var pluginID: String { fatalError("abstract") }
    var pluginName: String { fatalError("abstract") }
    var capabilities: Capabilities { fatalError("abstract") }
    /// The parameter values the model holds, in table order.
    func currentValues() -> [Double] { fatalError("abstract") }
    func problem(parameter index: Int, value: Double) -> String? { fatalError("abstract") }
    /// Starts a fresh model (forgetting any fit) with these parameter values.
    func reset(values: [Double]) { fatalError("abstract") }
    func fit(_ cube: Cube, r: Int, context: RunContext) throws -> Matrix { fatalError("abstract") }
    func abundances(_ cube: Cube, context: RunContext) throws -> Matrix { fatalError("abstract") }
    func saveState() throws -> [UInt8] { fatalError("abstract") }
    /// Replaces the model by a fresh one with these parameter values restored from `bytes`;
    /// when that throws, the model is left as it was.
    func loadState(_ bytes: [UInt8], values: [Double]) throws { fatalError("abstract") }
}

final class ModelBox<U: Unmixer>: AnyModelBox {
    var model = U()
    let parameters = U.parameters

    override var parameterCount: Int { parameters.count }
    override var pluginID: String { U.info.id }
    override var pluginName: String { U.info.name }
    override var capabilities: Capabilities { U.info.capabilities }

    override func currentValues() -> [Double] { parameters.map { $0.get(model) } }

    override func problem(parameter index: Int, value: Double) -> String? {
        parameters[index].problem(with: value)
    }

    override func reset(values: [Double]) { model = fresh(values) }

    private func fresh(_ values: [Double]) -> U {
        var made = U()
        for (p, v) in zip(parameters, values) { p.set(&made, v) }
        return made
    }

    override func fit(_ cube: Cube, r: Int, context: RunContext) throws -> Matrix {
        try model.fit(cube, endmembers: r, context: context)
    }

    override func abundances(_ cube: Cube, context: RunContext) throws -> Matrix {
        try model.abundances(cube, context: context)
    }

    override func saveState() throws -> [UInt8] {
        guard let stateful = model as? any StatefulUnmixer else {
            throw PluginError(.unsupported, "\(U.info.id) cannot save its state")
        }
        return try stateful.saveState()
    }

    override func loadState(_ bytes: [UInt8], values: [Double]) throws {
        guard var stateful = fresh(values) as? any StatefulUnmixer else {
            throw PluginError(.unsupported, "\(U.info.id) cannot load a state")
        }
        try stateful.loadState(bytes)
        model = stateful as! U
    }
}
