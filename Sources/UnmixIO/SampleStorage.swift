import Foundation

/// Float32 samples that live as long as the storage: an allocation of ours, or the pages of a
/// file mapped in place (no copy) when the file already holds native float32 in the order we
/// use. Read-only once made; shared between copies of the `CubeData` that owns it.
public final class SampleStorage: @unchecked Sendable {
    public let count: Int
    private let base: UnsafePointer<Float>?
    private let owner: Owner

    private enum Owner {
        case allocated(UnsafeMutablePointer<Float>)
        case mapped(MappedFile)
        case none
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count) { out in
            values.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: values.count) }
        }
    }

    /// `count` samples written by `fill`, which must set every one of them.
    public init(count: Int, fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        precondition(count >= 0, "SampleStorage: negative count \(count)")
        self.count = count
        if count == 0 {
            base = nil
            owner = .none
            return
        }
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: count)
        do {
            try fill(UnsafeMutableBufferPointer(start: memory, count: count))
        } catch {
            memory.deallocate()
            throw error
        }
        base = UnsafePointer(memory)
        owner = .allocated(memory)
    }

    /// `count` float32 samples in place in `file` at byte `offset` (4-byte aligned, inside the file).
    init(mapping file: MappedFile, offset: Int, count: Int) {
        precondition(offset % 4 == 0 && offset >= 0 && offset + 4 * count <= file.bytes.count,
                     "SampleStorage: mapping \(count) samples at \(offset) of a \(file.bytes.count)-byte file")
        self.count = count
        base = count == 0 ? nil : UnsafePointer((file.bytes.baseAddress! + offset).assumingMemoryBound(to: Float.self))
        owner = .mapped(file)
    }

    deinit {
        if case .allocated(let memory) = owner { memory.deallocate() }
    }

    /// Whether the samples are the pages of a mapped file rather than a copy.
    public var isMapped: Bool {
        if case .mapped = owner { return true }
        return false
    }

    public func withUnsafeBufferPointer<T>(_ body: (UnsafeBufferPointer<Float>) throws -> T) rethrows -> T {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}
