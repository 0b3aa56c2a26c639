/// One signal of a HyperSpy file (`Experiments/<name>/`) as its attributes describe it: title,
/// signal type, axes (with which of them navigate) and how its `data` is stored, read before
/// any sample is.
struct HyperSpyExperiment {
    /// One axis (`axis-<i>`), in array order.
    struct AxisInfo {
        var name: String
        var size: Int
        var offset: Double
        var scale: Double
        var units: String
        /// Every value, for a non-uniform axis (format 3: `_type = "DataAxis"` and a dataset
        /// `axis`).
        var values: [Double]?
        /// The `navigate` flag; nil in files that do not store it (format < 2 or so).
        var navigate: Bool?
        /// The expression of a functional axis (`FunctionalDataAxis`), which we do not evaluate.
        var expression: String?

        func axis(defaultName: String) -> Axis {
            Axis(name: name.isEmpty ? defaultName : name, size: size, offset: offset, scale: scale, units: units, values: values)
        }
    }

    /// The group's name under `Experiments`.
    let name: String
    let data: HDF5Dataset
    let storage: HDF5Storage
    let title: String
    let signalType: String
    let axes: [AxisInfo]
    /// How many of the last axes are signal axes, decided as HyperSpy decides it: by the
    /// `navigate` flags when every axis has one, else by `metadata/Signal/record_by`
    /// ("spectrum" 1, "image" 2), else every axis is a signal axis.
    let signalDimension: Int
    /// What the user should hear about how the axes were read.
    let notes: [String]

    /// Reads the description of `Experiments/<name>` in a file of format `version`.
    init(_ experiments: HDF5Group, name: String, version: HyperSpyFormat.Version) throws {
        let file = experiments.file
        let group = try experiments.group(name)
        self.name = name
        data = try group.dataset("data")
        storage = try data.storage()

        // Metadata: `mapped_parameters` before 1.2; title, record_by and signal_type at its
        // root before 1.2, and named `name` and `signal` before 1.1.
        let old = version < HyperSpyFormat.Version(major: 1, minor: 2)
        let metadataName = old ? "mapped_parameters" : "metadata"
        let metadata = try group.childType(metadataName) == .group ? try group.group(metadataName) : nil
        func entry(_ section: String, _ key: String, legacy: [String]) throws -> String? {
            guard let metadata else { return nil }
            if try metadata.childType(section) == .group, let text = try metadata.group(section).stringAttribute(key) { return text }
            for alias in legacy where old {
                if let text = try metadata.stringAttribute(alias) { return text }
            }
            return nil
        }
        var title = try entry("General", "title", legacy: ["title", "name"]) ?? ""
        if title == "__unnamed__" || title == HyperSpyFormat.none { title = "" }
        if title.isEmpty, name != "__unnamed__" { title = name }
        self.title = title
        let signalType = try entry("Signal", "signal_type", legacy: ["signal_type", "signal"]) ?? ""
        self.signalType = signalType == HyperSpyFormat.none ? "" : signalType
        let recordBy = try entry("Signal", "record_by", legacy: ["record_by"])

        // Axes: `axis-<i>` groups, or (files whose axes went through the generic dictionary
        // writer) the children of `_list_<n>_axes`, in name order.
        let shape = storage.shape
        var axisGroups = [HDF5Group]()
        let listName = "_list_\(shape.count)_axes"
        for i in shape.indices {
            if try group.childType("axis-\(i)") == .group {
                axisGroups.append(try group.group("axis-\(i)"))
            } else if try group.childType(listName) == .group {
                let list = try group.group(listName)
                let children = try list.childNames()
                guard i < children.count else { throw UnmixError("\(file): '\(name)' has no axis \(i) in \(listName)") }
                axisGroups.append(try list.group(children[i]))
            } else {
                throw UnmixError("\(file): '\(group.path)' has no axis-\(i) group for dimension \(i) of its \(shape.count)-D data")
            }
        }
        var notes = [String]()
        var axes = [AxisInfo]()
        for (i, axisGroup) in axisGroups.enumerated() {
            let info = try Self.axis(axisGroup, size: shape[i], index: i)
            if let expression = info.expression {
                notes.append("\(file): axis '\(info.name)' is a functional axis (\(expression)), not evaluated: its channels are numbered")
            }
            axes.append(info)
        }
        self.axes = axes
        if !axes.isEmpty, axes.allSatisfy({ $0.navigate != nil }) {
            signalDimension = axes.filter { $0.navigate == false }.count
        } else if recordBy == "spectrum" {
            signalDimension = Swift.min(1, shape.count)
        } else if recordBy == "image" {
            signalDimension = Swift.min(2, shape.count)
        } else {
            signalDimension = shape.count
        }
        self.notes = notes
    }

    /// Reads one axis group, whose dimension in the data is `size`.
    private static func axis(_ group: HDF5Group, size: Int, index: Int) throws -> AxisInfo {
        let file = group.file
        func text(_ key: String) throws -> String {
            let value = try group.stringAttribute(key) ?? ""
            return value == HyperSpyFormat.none ? "" : value
        }
        func number(_ key: String, default fallback: Double) throws -> Double {
            guard let value = try group.attribute(key) else { return fallback }
            if value.string == HyperSpyFormat.none { return fallback }
            guard let number = value.number else {
                throw UnmixError("\(file): \(group.displayPath) has a non-numeric \(key) (\(value.description))")
            }
            guard number.isFinite else { throw UnmixError("\(file): \(group.displayPath) has a non-finite \(key)") }
            return number
        }
        var info = AxisInfo(name: try text("name"), size: size, offset: try number("offset", default: 0),
                            scale: try number("scale", default: 1), units: try text("units"))
        if let stated = try group.attribute("size"), stated.string != HyperSpyFormat.none {
            guard let count = stated.number, count == Double(size) else {
                throw UnmixError("\(file): \(group.displayPath) says size \(stated.description) but dimension \(index) of the data is \(size)")
            }
        }
        if let navigate = try group.attribute("navigate") {
            guard let flag = navigate.number else {
                throw UnmixError("\(file): \(group.displayPath) has a navigate flag that is not a boolean (\(navigate.description))")
            }
            info.navigate = flag != 0
        }
        let type = try text("_type")
        let listsValues = try group.childType("axis") == .dataset
        if type == "DataAxis" || (type.isEmpty && listsValues) {
            let values = try group.dataset("axis").readDoubles(limit: Swift.max(size, 1))
            guard values.count == size else {
                throw UnmixError("\(file): \(group.displayPath) lists \(values.count) values for \(size) channels")
            }
            guard values.allSatisfy(\.isFinite) else { throw UnmixError("\(file): \(group.displayPath) lists non-finite values") }
            info.values = values
            info.offset = values.first ?? 0
            if size > 1 { info.scale = (values[size - 1] - values[0]) / Double(size - 1) }
        } else if type == "FunctionalDataAxis" {
            info.expression = try text("expression")
            (info.offset, info.scale) = (0, 1)
        }
        return info
    }

    /// Why unmix cannot read this signal as a spectrum image, or nil when it can: one signal
    /// axis and at most two navigation axes.
    var unreadableReason: String? {
        let shape = "(\(storage.shape.map(String.init).joined(separator: ", ")))"
        let navigation = axes.count - signalDimension
        switch signalDimension {
        case 1 where navigation <= 2: return nil
        case 1: return "a spectrum stack of shape \(shape) with \(navigation) navigation axes"
        case 0: return "a signal of shape \(shape) with no signal axis (every axis navigates)"
        case 2: return "a 2-D signal (image\(navigation > 0 ? " stack" : "")) of shape \(shape), not spectra"
        default: return "a \(signalDimension)-D signal of shape \(shape), not spectra"
        }
    }
}
