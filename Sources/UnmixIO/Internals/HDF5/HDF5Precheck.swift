#if canImport(Glibc)
import Glibc
#endif

/// Checks of an HDF5 file's bytes made before libhdf5 parses it, for corruptions that the
/// library (1.10.8, as Debian ships it) does not detect and crashes on.
///
/// Global heap collections ("GCOL", where variable-length strings such as every HyperSpy
/// attribute live): libhdf5 decodes each object's size without checking that the object lies
/// inside its collection, then copies that many bytes when a string is read (a read past the
/// end of its buffer, or a write past a string's buffer: `H5HG_read` from `H5T__conv_vlen` in
/// `H5Aread`). We walk every collection as the library does and refuse the file when an object
/// overruns its collection, a collection overruns the file, or an index repeats.
///
/// The scan looks for the signature anywhere in the file (collections can be anywhere): a
/// sample block that happens to hold the bytes "GCOL" then 0x01 is checked too, and refused
/// unless it also parses as a collection, a risk of one in 2⁴⁰ per 8 random bytes.
enum HDF5Precheck {
    /// Refuses `bytes` (the whole file, named `file` in messages) when a global heap collection
    /// is inconsistent.
    static func check(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        guard let lengthSize = lengthSize(bytes), [2, 4, 8].contains(lengthSize) else { return }
        let magic: [UInt8] = Array("GCOL".utf8)
        var start = 0
        while let found = find(magic, in: bytes, from: start) {
            start = found + 1
            try checkCollection(at: found, bytes, lengthSize: lengthSize, file: file)
        }
    }

    /// The superblock's "size of lengths" (bytes 14 of a version 0/1 superblock, 10 of a
    /// version 2/3 one), for a superblock at offset 0; nil when it cannot be read.
    static func lengthSize(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 16 else { return nil }
        switch bytes[8] {
        case 0, 1: return Int(bytes[14])
        case 2, 3: return Int(bytes[10])
        default: return nil
        }
    }

    /// One collection: "GCOL", version 1, 3 reserved bytes, its size (a length), then objects
    /// (index: 2 bytes, reference count: 2, reserved: 4, size: a length; data padded to 8
    /// bytes), index 0 being the free space, whose size includes its header; a tail too short
    /// for an object header is free space.
    private static func checkCollection(at offset: Int, _ bytes: UnsafeRawBufferPointer, lengthSize: Int, file: String) throws {
        let headerSize = 8 + lengthSize
        let objectHeaderSize = 8 + lengthSize
        guard offset + headerSize <= bytes.count, bytes[offset + 4] == 1 else { return }  // not a version-1 collection
        func fail(_ problem: String) -> UnmixError {
            UnmixError("\(file): corrupt HDF5 file: the global heap at byte \(offset) \(problem)")
        }
        let size = unsigned(bytes, at: offset + 8, size: lengthSize)
        guard size >= UInt64(headerSize), size <= UInt64(bytes.count - offset) else {
            throw fail("declares \(size) bytes (the file has \(bytes.count - offset) from there)")
        }
        let end = offset + Int(size)
        var p = offset + headerSize
        var seen = Set<UInt64>()
        while p < end {
            guard p + objectHeaderSize <= end else { break }  // a tail of free space
            let index = unsigned(bytes, at: p, size: 2)
            let objectSize = unsigned(bytes, at: p + 8, size: lengthSize)
            let room = UInt64(end - p)
            let need: UInt64
            if index > 0 {
                guard seen.insert(index).inserted else { throw fail("lists object \(index) twice") }
                guard objectSize <= room else { throw fail("has object \(index) of \(objectSize) bytes past its end") }
                need = UInt64(objectHeaderSize) + (objectSize + 7) / 8 * 8
            } else {
                need = objectSize
            }
            guard need >= UInt64(objectHeaderSize), need <= room else {
                throw fail("has object \(index) of \(objectSize) bytes that does not fit its \(size) bytes")
            }
            p += Int(need)
        }
    }

    private static func unsigned(_ bytes: UnsafeRawBufferPointer, at offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in (0..<size).reversed() { value = value << 8 | UInt64(bytes[offset + i]) }
        return value
    }

    /// The first offset ≥ `start` where `pattern` occurs in `bytes` (glibc's `memchr` finds
    /// the candidates).
    private static func find(_ pattern: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, let first = pattern.first else { return nil }
        var i = start
        while i + pattern.count <= bytes.count {
            guard let hit = memchr(base + i, Int32(first), bytes.count - pattern.count + 1 - i) else { return nil }
            let at = UnsafeRawPointer(hit) - base
            if memcmp(base + at, pattern, pattern.count) == 0 { return at }
            i = at + 1
        }
        return nil
    }
}
