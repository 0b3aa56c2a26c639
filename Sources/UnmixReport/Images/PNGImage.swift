import CPNG
import Foundation
import UnmixIO

/// An 8-bit RGB image, row-major, 3 bytes a pixel; encoded and decoded as PNG through libpng's
/// simplified API.
public struct PNGImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// width × height × 3 bytes: R, G, B of each pixel, rows top to bottom.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "PNGImage: \(pixels.count) bytes for \(width)×\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour of pixel (x, y).
    public func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// The PNG file's bytes. The corresponding C function is `png_image_write_to_memory`.
    public func encoded() throws -> Data {
        var image = Self.header(width: width, height: height)
        var size: png_alloc_size_t = 0
        let stride = png_int_32(width * 3)
        let ok = pixels.withUnsafeBytes { raw -> Bool in
            guard png_image_write_to_memory(&image, nil, &size, 0, raw.baseAddress, stride, nil) != 0 else { return false }
            return true
        }
        guard ok, size > 0 else { throw UnmixError("cannot encode a \(width)×\(height) PNG: \(Self.message(image))") }
        var data = Data(count: Int(size))
        let written = data.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes { raw in png_image_write_to_memory(&image, out.baseAddress, &size, 0, raw.baseAddress, stride, nil) }
        }
        guard written != 0 else { throw UnmixError("cannot encode a \(width)×\(height) PNG: \(Self.message(image))") }
        png_image_free(&image)
        return data.prefix(Int(size))
    }

    /// Reads a PNG file, converting it to 8-bit RGB (alpha composited on white).
    /// The corresponding C functions are `png_image_begin_read_from_file` and `png_image_finish_read`.
    public static func read(_ path: String) throws -> PNGImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, path) != 0 else {
            throw UnmixError("cannot read \(path) as PNG: \(message(image))")
        }
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR)
        let (width, height) = (Int(image.width), Int(image.height))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var white = png_color(red: 255, green: 255, blue: 255)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, &white, $0.baseAddress, png_int_32(width * 3), nil) }
        defer { png_image_free(&image) }
        guard ok != 0 else { throw UnmixError("cannot read \(path) as PNG: \(message(image))") }
        return PNGImage(width: width, height: height, pixels: pixels)
    }

    /// The image as a `data:` URI, for a self-contained page.
    public func dataURI() throws -> String { "data:image/png;base64," + (try encoded()).base64EncodedString() }

    private static func header(width: Int, height: Int) -> png_image {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR)
        return image
    }

    private static func message(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
