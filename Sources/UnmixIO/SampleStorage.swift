import CSystem
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
        /// A shared mapping of an anonymous in-memory file (memfd) that a child process can map too.
        case sharedMemory(fd: Int32, length: Int)
        case mapped(MappedFile)
        /// A read-only mapping of a descriptor handed over by another process.
        case descriptorMapping(address: UnsafeMutableRawPointer, length: Int)
        case none
    }

    /// From this size up, samples live in an in-memory file (memfd) from the start, so that a
    /// worker process can map them without a copy; smaller ones are copied when shared.
    public static let sharedMemoryThreshold = 1 << 20

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
        if count >= Self.sharedMemoryThreshold, let (fd, memory) = Self.sharedMemory(count: count) {
            do {
                try fill(UnsafeMutableBufferPointer(start: memory, count: count))
            } catch {
                munmap(memory, 4 * count)
                close(fd)
                throw error
            }
            base = UnsafePointer(memory)
            owner = .sharedMemory(fd: fd, length: 4 * count)
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

    /// A memfd of `count` floats mapped shared and writable, or nil (then plain memory is used).
    private static func sharedMemory(count: Int) -> (Int32, UnsafeMutablePointer<Float>)? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow else { return nil }
        let fd = unmix_memfd_create("unmix-cube")
        guard fd >= 0 else { return nil }
        guard ftruncate(fd, off_t(bytes)) == 0,
              let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), address != MAP_FAILED else {
            close(fd)
            return nil
        }
        return (fd, address.assumingMemoryBound(to: Float.self))
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
        switch owner {
        case .allocated(let memory): memory.deallocate()
        case .sharedMemory(let fd, let length):
            munmap(UnsafeMutableRawPointer(mutating: base), length)
            close(fd)
        case .descriptorMapping(let address, let length): munmap(address, length)
        case .mapped, .none: break
        }
    }

    /// Maps a checked range of an open descriptor read-only (see `mapping(descriptor:…)`).
    fileprivate init(mappedDescriptor fd: Int32, byteOffset: Int, count: Int) throws {
        self.count = count
        guard count > 0 else {
            base = nil
            owner = .none
            return
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = byteOffset - byteOffset % page
        let length = byteOffset - start + 4 * count
        guard let address = mmap(nil, length, PROT_READ, MAP_SHARED, fd, off_t(start)), address != MAP_FAILED else {
            throw UnmixError("cannot map the shared cube: \(errnoText())")
        }
        base = UnsafePointer((address + (byteOffset - start)).assumingMemoryBound(to: Float.self))
        owner = .descriptorMapping(address: address, length: length)
    }

    /// Where another process can map these samples: an open descriptor (close-on-exec, owned by
    /// the returned value) and the byte offset of the first sample in it. A mapped file is
    /// opened again; samples in our own memory are copied once into an in-memory file.
    public func shared() throws -> SharedSamples {
        switch owner {
        case .sharedMemory(let fd, _):
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else { throw UnmixError("cannot share the cube: \(errnoText())") }
            return SharedSamples(descriptor: copy, byteOffset: 0, count: count)
        case .mapped(let file):
            let fd = open(file.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw UnmixError("cannot share the cube of \(file.path): \(errnoText())") }
            return SharedSamples(descriptor: fd, byteOffset: UnsafeRawPointer(base!) - file.bytes.baseAddress!, count: count)
        case .allocated, .none, .descriptorMapping:
            guard let (fd, memory) = Self.sharedMemory(count: Swift.max(1, count)) else {
                throw UnmixError("cannot share the cube: no shared memory for \(count) samples (\(errnoText()))")
            }
            if let base { memory.update(from: base, count: count) }
            munmap(memory, 4 * Swift.max(1, count))
            return SharedSamples(descriptor: fd, byteOffset: 0, count: count)
        }
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

/// Samples another process can map: `count` float32 values at `byteOffset` of the open file
/// `descriptor` (an in-memory file or the input file). Closes the descriptor when released.
public final class SharedSamples: @unchecked Sendable {
    public let descriptor: Int32
    public let byteOffset: Int
    public let count: Int

    init(descriptor: Int32, byteOffset: Int, count: Int) {
        self.descriptor = descriptor
        self.byteOffset = byteOffset
        self.count = count
    }

    deinit { close(descriptor) }
}

extension SampleStorage {
    /// Refuses a sample count read from a file that no allocation could hold: its bytes overflow,
    /// or exceed this machine's physical memory (a corrupt size, not a cube to try).
    public static func checkAllocatable(_ count: Int, _ name: String) throws {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), page = sysconf(Int32(_SC_PAGESIZE))
        let memory = pages > 0 && page > 0 ? Int(pages) * Int(page) : Int.max
        guard count >= 0, !overflow, bytes <= memory else {
            throw UnmixError("\(name): declares \(count) samples, more than this machine's memory holds: the file is corrupt")
        }
    }

    /// Maps `count` float32 samples at `byteOffset` of the open file `descriptor` read-only
    /// (what a worker does with `SharedSamples` it was handed). Sizes are checked against the
    /// file before mapping.
    public static func mapping(descriptor: Int32, byteOffset: Int, count: Int) throws -> SampleStorage {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw UnmixError("cannot map the shared cube: \(errnoText())") }
        let (bytes, o1) = count.multipliedReportingOverflow(by: 4)
        let (end, o2) = bytes.addingReportingOverflow(byteOffset)
        guard !o1, !o2, byteOffset >= 0, byteOffset % 4 == 0, end <= Int(info.st_size) else {
            throw UnmixError("the shared cube (\(count) samples at byte \(byteOffset)) does not fit its \(info.st_size)-byte file")
        }
        return try SampleStorage(mappedDescriptor: descriptor, byteOffset: byteOffset, count: count)
    }
}
