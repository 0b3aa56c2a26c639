import CMatio

/// One variable of a MAT file as libmatio describes it before reading its data: the
/// `matvar_t*` it owns (freed with the value), and its name, class and dimensions copied
/// into Swift values. Holds its file open (libmatio reads the data through both).
final class MatVariable {
    let raw: UnsafeMutablePointer<matvar_t>
    let file: MatFile
    let name: String
    /// MATLAB's dimensions, first (fastest) first: a 3 × 5 × 8 array has dims [3, 5, 8].
    let dims: [Int]
    /// The class's sample type, nil for classes that are not numeric arrays (char, cell,
    /// struct, sparse, object, function).
    let sampleType: SampleType?
    let isComplex: Bool
    let isCompressed: Bool
    let isCharacter: Bool
    /// MATLAB's name of the class ("double", "uint16", "cell", …), for messages.
    let className: String

    /// The variable that `raw` describes, or nil (and `raw` freed) when libmatio gave no name
    /// or dimensions that fit an `Int`.
    init?(owning raw: UnsafeMutablePointer<matvar_t>, in file: MatFile) {
        let v = raw.pointee
        var dims = [Int]()
        if v.rank > 0, v.rank <= 64, let d = v.dims {
            for i in 0..<Int(v.rank) {
                guard let size = Int(exactly: d[i]) else { dims = []; break }
                dims.append(size)
            }
        }
        guard let cName = v.name, !dims.isEmpty else {
            Mat_VarFree(raw)
            return nil
        }
        self.raw = raw
        self.file = file
        self.name = String(cString: cName)
        self.dims = dims
        self.isComplex = v.isComplex != 0
        self.isCompressed = v.compression == MAT_COMPRESSION_ZLIB
        self.isCharacter = v.class_type == MAT_C_CHAR
        (self.sampleType, self.className) = MatVariable.describe(v.class_type, logical: v.isLogical != 0)
    }

    deinit { Mat_VarFree(raw) }

    /// The number of elements, nil when the dimensions' product overflows.
    var count: Int? {
        var product = 1
        for d in dims {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            product = p
        }
        return product
    }

    /// "3 × 5 × 8".
    var shapeText: String { dims.map(String.init).joined(separator: " × ") }

    /// A real numeric array (what can be read as samples).
    var isRealNumeric: Bool { sampleType != nil && !isComplex }

    /// The number of dimensions other than trailing singletons beyond the second (MATLAB has
    /// no 1-D arrays; a 3 × 5 × 8 × 1 array is 3-D).
    var effectiveRank: Int {
        var rank = dims.count
        while rank > 2, dims[rank - 1] == 1 { rank -= 1 }
        return rank
    }

    /// Whether the variable holds exactly one element.
    var isScalar: Bool { count == 1 }

    private static func describe(_ c: matio_classes, logical: Bool) -> (SampleType?, String) {
        switch c {
        case MAT_C_DOUBLE: return (.float64, "double")
        case MAT_C_SINGLE: return (.float32, "single")
        case MAT_C_INT8: return (.int8, "int8")
        case MAT_C_UINT8: return (.uint8, logical ? "logical" : "uint8")
        case MAT_C_INT16: return (.int16, "int16")
        case MAT_C_UINT16: return (.uint16, "uint16")
        case MAT_C_INT32: return (.int32, "int32")
        case MAT_C_UINT32: return (.uint32, "uint32")
        case MAT_C_INT64: return (.int64, "int64")
        case MAT_C_UINT64: return (.uint64, "uint64")
        case MAT_C_CHAR: return (nil, "char")
        case MAT_C_CELL: return (nil, "cell")
        case MAT_C_STRUCT: return (nil, "struct")
        case MAT_C_SPARSE: return (nil, "sparse")
        case MAT_C_OBJECT: return (nil, "object")
        case MAT_C_FUNCTION: return (nil, "function handle")
        case MAT_C_OPAQUE: return (nil, "opaque object")
        default: return (nil, "empty or unknown class")
        }
    }
}
