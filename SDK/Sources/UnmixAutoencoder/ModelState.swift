import UnmixSDK

// The saved form of a trained network, for `StatefulUnmixer.saveState` and `loadState`: the
// few header numbers a plugin needs to rebuild its network (bands, R, layer sizes, the data
// scale), then every tensor of the network in a fixed order.
//
//     func saveState() throws -> [UInt8] {
//         StateCoder.encode(header: [Double(bands), Double(r), Double(scale)], weights: model.tensors)
//     }
//     mutating func loadState(_ bytes: [UInt8]) throws {
//         var state = try StateReader(bytes, plugin: "DAEU")
//         let (bands, r, scale) = (try state.size(), try state.size(), try state.positive())
//         let model = Model(bands: bands, r: r, …)
//         try state.restore(into: model.tensors)
//         …
//     }

extension StateCoder {
    /// `header`, then the values of `weights` with their shapes (`TensorArchive`).
    public static func encode(header: [Double], weights: [Weight]) -> [UInt8] {
        encode(header + TensorArchive.encode(weights.map(\.value)))
    }
}

extension StateReader {
    /// Every value not read yet, as tensors copied into `weights` (a freshly built model's, in
    /// the order they were saved); nothing is changed when they do not fit.
    public mutating func restore(into weights: [Weight]) throws {
        guard TensorArchive.restore(rest(), into: weights) else {
            throw PluginError.invalidArgument("\(plugin) state: its tensors do not match the network its header describes")
        }
    }
}
