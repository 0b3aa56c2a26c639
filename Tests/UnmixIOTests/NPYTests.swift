import Foundation
import Testing
import UnmixHost
import _TestSupport

private func littleEndian(_ values: [Double]) -> [UInt8] {
    values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
}

private func littleEndian(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
}

private func bigEndian(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in (0..<4).reversed().map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
}

/// Writes `data` to `name` in a temporary folder and reads it back with `NPY.read`.
private func readBytes(_ data: Data, name: String = "x.npy") throws -> NPYArray {
    try withTemporaryDirectory { dir in
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return try NPY.read(url)
    }
}

@Suite struct NPYTests {
    @Test(arguments: [[Int](), [5], [2, 3], [2, 3, 4], [0, 3], [1, 1, 7]])
    func roundTrip(shape: [Int]) throws {
        let count = shape.reduce(1, *)
        let values = (0..<count).map { Float($0) * 0.37 - 1.5 }
        let array = try withTemporaryDirectory { dir -> NPYArray in
            let url = dir.appendingPathComponent("a.npy")
            try NPY.write(values, shape: shape, to: url)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            #expect(leftovers == ["a.npy"], "the atomic write left \(leftovers)")
            return try NPY.read(url)
        }
        #expect(array.shape == shape)
        #expect(array.values == values)
        #expect(array.dtype == "<f4")
    }

    @Test func encodedHeaderIsAlignedTo64Bytes() throws {
        for shape in [[], [1], [123_456, 7], [2, 3, 4, 5, 6, 7, 8, 9]] {
            let data = NPY.encode([Float](repeating: 1, count: shape.reduce(1, *)), shape: shape)
            let headerLength = Int(data[8]) | Int(data[9]) << 8
            #expect((10 + headerLength) % 64 == 0, "shape \(shape): data starts at \(10 + headerLength)")
            #expect(data[10 + headerLength - 1] == UInt8(ascii: "\n"), "shape \(shape): header must end in \\n")
        }
    }

    /// Byte for byte what NumPy writes. Obtained once with NumPy 2.4.6:
    /// `f = io.BytesIO(); np.save(f, np.arange(6, dtype='<f4').reshape(2, 3)); f.getvalue().hex()`.
    @Test func encodeMatchesNumPy() {
        let numpyHex = "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000803f0000004000004040000080400000a040"
        let numpy = stride(from: 0, to: numpyHex.count, by: 2).map { i -> UInt8 in
            let start = numpyHex.index(numpyHex.startIndex, offsetBy: i)
            return UInt8(numpyHex[start..<numpyHex.index(start, offsetBy: 2)], radix: 16)!
        }
        let ours = [UInt8](NPY.encode([0, 1, 2, 3, 4, 5], shape: [2, 3]))
        #expect(ours == numpy, "ours: \(ours.count) bytes, NumPy: \(numpy.count) bytes")
    }

    /// A big-endian float64 Fortran-order file written by NumPy 2.4.6:
    /// `np.save(f, np.asfortranarray(np.array([[1.5, -2, 3], [4, 5e-3, -6e10]], dtype='>f8')))`, base64.
    @Test func readsNumPyBigEndianFortranFloat64() throws {
        let base64 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/+AAAAAAAAEAQAAAAAAAAwAAAAAAAAAA/dHrhR64Ue0AIAAAAAAAAwivwjrAAAAA="
        let array = try readBytes(try #require(Data(base64Encoded: base64)))
        #expect(array.shape == [2, 3])
        #expect(array.dtype == ">f8")
        #expect(array.values == [1.5, -2, 3, 4, Float(5e-3), Float(-6e10)])
    }

    @Test func readsLittleEndianFloat64COrder() throws {
        let values: [Double] = [1.5, -2, 3.25, 0, 1e-3, 7]
        let data = npyFileBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n",
                           payload: littleEndian(values))
        let array = try readBytes(data)
        #expect(array.shape == [2, 3])
        #expect(array.dtype == "<f8")
        #expect(array.values == values.map { Float($0) })
    }

    @Test func readsFloat32FortranOrder() throws {
        // Value at C index (i, j, k) is 100 i + 10 j + k; Fortran order stores i fastest.
        var fortran: [Float] = []
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { fortran.append(Float(100 * i + 10 * j + k)) } } }
        let data = npyFileBytes(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }   \n",
                           payload: littleEndian(fortran))
        let array = try readBytes(data)
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(Float(100 * i + 10 * j + k)) } } }
        #expect(array.shape == [2, 3, 4])
        #expect(array.values == expected)
    }

    @Test func readsBigEndianFloat32() throws {
        let values: [Float] = [1, -0.5, 3e7, .leastNormalMagnitude, 42.125]
        let data = npyFileBytes(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (5,), }\n",
                           payload: bigEndian(values))
        let array = try readBytes(data)
        #expect(array.shape == [5])
        #expect(array.dtype == ">f4")
        #expect(array.values == values)
    }

    /// Version 2.0 (4-byte header length), keys out of order, double quotes, odd spacing, no
    /// trailing comma, and the '|' and '=' byte-order marks.
    @Test(arguments: [(UInt8(2), "|f4"), (UInt8(3), "=f4"), (UInt8(2), "f4")])
    func readsVersion2And3Headers(version: UInt8, descr: String) throws {
        let header = "{ \"shape\" : ( 3 , ) ,'fortran_order':False,  'descr':'\(descr)'}  \n"
        let array = try readBytes(npyFileBytes(version: version, header: header, payload: littleEndian([1, 2, 3] as [Float])))
        #expect(array.shape == [3])
        #expect(array.values == [1, 2, 3])
        #expect(array.dtype == descr)
    }

    @Test func readsZeroDimensionalArray() throws {
        let data = npyFileBytes(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n",
                           payload: littleEndian([2.5] as [Double]))
        let array = try readBytes(data)
        #expect(array.shape == [])
        #expect(array.values == [2.5])
    }

    @Test func missingFile() {
        expectUnmixError(containing: ["/nonexistent/nope.npy", "no such file"]) {
            _ = try NPY.read(URL(fileURLWithPath: "/nonexistent/nope.npy"))
        }
    }

    @Test func badMagic() {
        expectUnmixError(containing: ["bad.npy", "bad magic"]) {
            _ = try readBytes(Data("PK\u{3}\u{4} this is a zip".utf8), name: "bad.npy")
        }
        expectUnmixError(containing: ["empty.npy", "bad magic"]) { _ = try readBytes(Data(), name: "empty.npy") }
    }

    @Test func truncatedData() {
        let data = npyFileBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
                           payload: littleEndian([1, 2, 3, 4, 5] as [Float]))
        expectUnmixError(containing: ["short.npy", "truncated", "expected 24 bytes of data, found 20"]) {
            _ = try readBytes(data, name: "short.npy")
        }
    }

    @Test func truncatedHeader() {
        let full = npyFileBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", payload: [])
        expectUnmixError(containing: ["cut.npy", "truncated"]) { _ = try readBytes(full.prefix(30), name: "cut.npy") }
        expectUnmixError(containing: ["cut.npy", "truncated"]) { _ = try readBytes(full.prefix(9), name: "cut.npy") }
    }

    @Test func unsupportedDtype() {
        let data = npyFileBytes(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", payload: [1, 0, 2, 0, 0, 0, 0, 0])
        expectUnmixError(containing: ["complex.npy", "unsupported dtype '<c8'", "float32, float64"]) {
            _ = try readBytes(data, name: "complex.npy")
        }
        let bools = npyFileBytes(header: "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }\n", payload: [1, 0])
        expectUnmixError(containing: ["bool.npy", "unsupported dtype '|b1'"]) { _ = try readBytes(bools, name: "bool.npy") }
    }

    @Test func objectArray() {
        let data = npyFileBytes(header: "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n", payload: [0x80, 2])
        expectUnmixError(containing: ["obj.npy", "object arrays"]) { _ = try readBytes(data, name: "obj.npy") }
    }

    @Test(arguments: [
        ("(2, -3)", "negative dimension"),
        ("(99999999999999999999999,)", "too large"),
        ("(4294967296, 4294967296)", "too large"),
        ("(65536, 32769)", "at most 2^31"),
    ])
    func badShapes(shape: String, problem: String) {
        let data = npyFileBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }\n", payload: [])
        expectUnmixError(containing: ["shape.npy", problem]) { _ = try readBytes(data, name: "shape.npy") }
    }

    @Test(arguments: [
        "{'descr': '<f4', 'fortran_order': False}",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
        "not a dict at all",
    ])
    func malformedHeaders(header: String) {
        let data = npyFileBytes(header: header + "\n", payload: littleEndian([1] as [Float]))
        expectUnmixError(containing: ["h.npy", "malformed header"]) { _ = try readBytes(data, name: "h.npy") }
    }

    @Test func unsupportedVersion() {
        let data = npyFileBytes(version: 4, header: "{}\n", payload: [])
        expectUnmixError(containing: ["v.npy", "version 4.0"]) { _ = try readBytes(data, name: "v.npy") }
    }

    @Test func writeIntoMissingFolderFails() {
        expectUnmixError(containing: ["cannot write", "/nonexistent/folder/a.npy"]) {
            try NPY.write([1], shape: [1], to: URL(fileURLWithPath: "/nonexistent/folder/a.npy"))
        }
    }
}
