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
//         let ((bands, r), scale) = (try state.bandsAndEndmembers(), try state.positive())
//         try state.expectTensors(first: [bands, 9 * r], last: [r, bands])
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
    /// Checks, before a network is built from the header, that the saved tensors (the values not
    /// read yet) start with a tensor of shape `first` and end with one of shape `last`: the
    /// layers whose sizes the header gives. A corrupt header then cannot make the plugin build,
    /// and allocate, a network larger than the file it came from.
    public func expectTensors(first: [Int], last: [Int]) throws {
        let shapes = TensorArchive.shapes(Array(unread))
        guard let shapes, shapes.first == first, shapes.last == last else {
            throw PluginError.invalidArgument("\(plugin) state: its tensors do not match the network its header describes")
        }
    }

    /// Every value not read yet, as tensors copied into `weights` (a freshly built model's, in
    /// the order they were saved); nothing is changed when they do not fit.
    public mutating func restore(into weights: [Weight]) throws {
        guard TensorArchive.restore(rest(), into: weights) else {
            throw PluginError.invalidArgument("\(plugin) state: its tensors do not match the network its header describes")
        }
    }
}
