/// A check of the root group's index of an HDF5 file (a MATLAB 7.3 or a HyperSpy file), read
/// from the bytes themselves before HDF5 opens the file.
///
/// MATLAB (and h5py, which HyperSpy writes with) write a version 0 superblock and an old-style root group: a
/// version 1 B-tree ("TREE" nodes) over symbol table nodes ("SNOD") and a local heap ("HEAP").
/// HDF5 1.10.8 follows a damaged node's address without checking its signature, and copies
/// past its metadata buffer (a segmentation fault in `H5F__accum_read` under `H5Gget_info`,
/// which libmatio's `Mat_Open` calls; found by mutating the fixtures). Later HDF5 releases
/// refuse such nodes ("wrong B-tree signature", "bad symbol table node signature"); this check
/// does the same for the root group, which is all libmatio lists and where a HyperSpy file's
/// walk starts. Files of later superblock
/// versions or with a root group that is not cached in the superblock are left to HDF5.
struct HDF5RootIndex {
    private var cursor: ByteCursor
    private var offsetSize = 8
    private var lengthSize = 8
    private var base = 0
    private var leafK = 4
    private var internalK = 16
    private var visited = 0

    /// The most B-tree and symbol table nodes visited (a corrupt tree cannot make the walk endless).
    static let maximumNodes = 100_000

    /// What is wrong with the root group index of the HDF5 file in `bytes`, or nil.
    static func problem(_ bytes: UnsafeRawBufferPointer, name: String) -> String? {
        var check = HDF5RootIndex(cursor: ByteCursor(bytes, name: name))
        do {
            return try check.run()
        } catch let error as UnmixError {
            return "its root group index is truncated (\(error.message.replacingOccurrences(of: "\(name): ", with: "")))"
        } catch {
            return "its root group index cannot be read"
        }
    }

    private mutating func run() throws -> String? {
        // The superblock is at 0, 512, 1024, 2048, …: MATLAB's is after its 512-byte user block.
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        var at = 0
        var superblock: Int?
        while at <= cursor.bytes.count - 8, at <= 1 << 30 {
            if (0..<8).allSatisfy({ cursor.bytes[at + $0] == signature[$0] }) { superblock = at; break }
            at = at == 0 ? 512 : at * 2
        }
        guard let start = superblock else { return nil }  // HDF5 refuses the file itself
        try cursor.seek(to: start + 8)
        let version = try cursor.integer(UInt8.self)
        guard version <= 1 else { return nil }
        try cursor.skip(4)
        offsetSize = Int(try cursor.integer(UInt8.self))
        lengthSize = Int(try cursor.integer(UInt8.self))
        guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
            return "its superblock declares \(offsetSize)-byte offsets and \(lengthSize)-byte lengths"
        }
        try cursor.skip(1)
        leafK = Int(try cursor.integer(UInt16.self))
        internalK = Int(try cursor.integer(UInt16.self))
        guard leafK > 0, internalK > 0 else { return "its superblock declares a group node rank of 0" }
        try cursor.skip(version == 1 ? 8 : 4)
        guard let b = Int(exactly: try offset()) else { return "its base address is past the end" }
        base = b
        try cursor.skip(4 * offsetSize)  // free space, end of file, driver; the root entry's name
        let header = try offset()
        let cacheType = try cursor.integer(UInt32.self)
        try cursor.skip(4)
        // The index is named twice: in the superblock's cache of the root entry, and in the
        // root object header's symbol table message (which HDF5 follows). Both are checked.
        var indexes = [(tree: UInt64, heap: UInt64)]()
        if cacheType == 1 { indexes.append((try offset(), try offset())) }
        if let message = try symbolTableMessage(header) { indexes.append(message) }
        for (tree, heap) in indexes {
            if let problem = try checkHeap(heap) { return problem }
            if let problem = try checkTree(tree, level: nil, depth: 0) { return problem }
        }
        return nil
    }

    /// The B-tree and heap addresses of the symbol table message (type 0x11) of the version 1
    /// object header at `address`, when it is there (not in a continuation block).
    private mutating func symbolTableMessage(_ address: UInt64) throws -> (tree: UInt64, heap: UInt64)? {
        guard let relative = Int(exactly: address), relative <= cursor.bytes.count,
              base <= cursor.bytes.count - relative else { return nil }
        try cursor.seek(to: base + relative)
        guard try cursor.integer(UInt8.self) == 1 else { return nil }  // later header versions: left to HDF5
        try cursor.skip(1)
        let messages = Int(try cursor.integer(UInt16.self))
        try cursor.skip(4)
        let size = Int(try cursor.integer(UInt32.self))
        try cursor.skip(4)
        let end = cursor.position + min(size, cursor.remaining)
        for _ in 0..<min(messages, 256) where cursor.position + 8 <= end {
            let type = try cursor.integer(UInt16.self), length = Int(try cursor.integer(UInt16.self))
            try cursor.skip(4)
            let next = cursor.position + length
            if type == 0x11, length >= 2 * offsetSize { return (try offset(), try offset()) }
            try cursor.seek(to: next)
        }
        return nil
    }

    private mutating func offset() throws -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<offsetSize { value |= UInt64(try cursor.integer(UInt8.self)) << (8 * UInt64(i)) }
        return value
    }

    private mutating func length() throws -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<lengthSize { value |= UInt64(try cursor.integer(UInt8.self)) << (8 * UInt64(i)) }
        return value
    }

    /// Moves to relative address `address` and checks the 4-byte signature there.
    private mutating func node(_ address: UInt64, _ signature: String) throws -> Bool {
        guard let relative = Int(exactly: address), relative <= cursor.bytes.count,
              base <= cursor.bytes.count - relative else { return false }
        try cursor.seek(to: base + relative)
        return try cursor.array(4) == Array(signature.utf8)
    }

    private mutating func checkHeap(_ address: UInt64) throws -> String? {
        guard try node(address, "HEAP") else { return "its root group's name heap (at \(address)) has no HEAP signature" }
        try cursor.skip(4)
        let size = try length()
        _ = try length()
        let data = try offset()
        guard let s = Int(exactly: size), let d = Int(exactly: data), d <= cursor.bytes.count,
              s <= cursor.bytes.count - d, base <= cursor.bytes.count - d - s else {
            return "its root group's name heap (\(size) bytes at \(data)) lies past the end of the file"
        }
        return nil
    }

    private mutating func checkTree(_ address: UInt64, level expected: Int?, depth: Int) throws -> String? {
        visited += 1
        guard visited <= HDF5RootIndex.maximumNodes, depth <= 64 else { return "its root group index is too deep or too large" }
        guard try node(address, "TREE") else { return "its root group index node at \(address) has no TREE signature" }
        let type = try cursor.integer(UInt8.self), level = Int(try cursor.integer(UInt8.self))
        let entries = Int(try cursor.integer(UInt16.self))
        guard type == 0, expected == nil || level == expected, entries <= 2 * internalK else {
            return "its root group index node at \(address) is damaged (type \(type), level \(level), \(entries) entries)"
        }
        try cursor.skip(2 * offsetSize)
        var children = [UInt64]()
        for _ in 0..<entries {
            _ = try length()
            children.append(try offset())
        }
        _ = try length()
        for child in children {
            if level > 0 {
                if let problem = try checkTree(child, level: level - 1, depth: depth + 1) { return problem }
            } else {
                visited += 1
                guard try node(child, "SNOD") else { return "its root group's symbol table node at \(child) has no SNOD signature" }
                let version = try cursor.integer(UInt8.self)
                try cursor.skip(1)
                let symbols = Int(try cursor.integer(UInt16.self))
                guard version == 1, symbols <= 2 * leafK else {
                    return "its root group's symbol table node at \(child) is damaged (version \(version), \(symbols) symbols)"
                }
                try cursor.skip(symbols * (2 * offsetSize + 24))
            }
        }
        return nil
    }
}
