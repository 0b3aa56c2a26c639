import CHDF5

/// The few things every use of libhdf5 needs, and nothing format-specific: opening the library,
/// silencing its error printing, and turning a failed call (a negative return code) into one
/// `UnmixError` line naming the file, with HDF5's own explanation taken from its error stack.
///
/// HDF5's C macros (`H5P_DEFAULT`, `H5T_NATIVE_FLOAT`, `H5F_ACC_RDONLY`, …) do not all reach
/// Swift: the predefined types and property-list classes are global variables
/// (`H5T_NATIVE_FLOAT_g`), valid once `H5open()` has run, which `prepare()` guarantees.
enum HDF5 {
    /// `H5P_DEFAULT`, `H5S_ALL` and `H5E_DEFAULT`: the identifier 0.
    static let defaultPlist = hid_t(H5P_DEFAULT)
    static let all = hid_t(0)
    static let defaultStack = hid_t(H5E_DEFAULT)

    /// Opens the library once per process.
    private static let opened: Bool = H5open() >= 0

    /// Makes the library ready on this thread: opened, and its automatic printing of error
    /// stacks to stderr switched off (the stack and that setting are per thread in the
    /// thread-safe build Debian ships). Call before any other function of the wrapper.
    static func prepare(_ file: String) throws {
        guard opened else { throw UnmixError("\(file): cannot initialise the HDF5 library") }
        H5Eset_auto2(defaultStack, nil, nil)
    }

    /// `code` when it is not negative; otherwise an `UnmixError` "file: cannot `what` (HDF5: …)".
    @discardableResult
    static func check<Code: BinaryInteger>(_ code: Code, _ what: @autoclosure () -> String, file: String) throws -> Code {
        guard code < 0 else { return code }
        throw failure(what(), file: file)
    }

    /// The error for a failed call: what we were doing, and what HDF5's error stack says.
    static func failure(_ what: String, file: String) -> UnmixError {
        if let reason = stackDescription() {
            return UnmixError("\(file): cannot \(what) (HDF5: \(reason))")
        }
        return UnmixError("\(file): cannot \(what)")
    }

    /// The outermost and innermost messages of this thread's error stack ("unable to open file:
    /// bad object header version number"), or nil when it is empty.
    static func stackDescription() -> String? {
        final class Messages { var texts: [String] = [] }
        let messages = Messages()
        let client = Unmanaged.passUnretained(messages).toOpaque()
        _ = H5Ewalk2(defaultStack, H5E_WALK_DOWNWARD, { _, error, client in
            guard let error, let client, let description = error.pointee.desc else { return 0 }
            let text = String(cString: description)
            if !text.isEmpty { Unmanaged<Messages>.fromOpaque(client).takeUnretainedValue().texts.append(text) }
            return 0
        }, client)
        return withExtendedLifetime(messages) {
            guard let first = messages.texts.first, let last = messages.texts.last else { return nil }
            let joined = first == last ? first : "\(first): \(last)"
            return joined.replacingOccurrences(of: "\n", with: " ")
        }
    }
}
