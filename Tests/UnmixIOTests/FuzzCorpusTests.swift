import Foundation
import Testing
import UnmixIO
import _TestSupport

/// The fixed fuzz corpus (Tests/Fixtures/fuzz/<format>/: the seeds of `scripts/fuzz`, and any
/// input a fuzzing run once crashed on, kept as a regression): every file opens or is refused
/// with one line, never a trap.
@Suite struct FuzzCorpusTests {
    static let root = repositoryRoot().appendingPathComponent("Tests/Fixtures/fuzz")

    static var formats: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
    }

    @Test(arguments: formats)
    func everyCorpusFileOpensOrIsRefusedWithOneLine(_ format: String) throws {
        let folder = Self.root.appendingPathComponent(format)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(!names.isEmpty, "\(format): an empty corpus")
        for name in names {
            do {
                _ = try Datasets.open(folder.appendingPathComponent(name).path)
            } catch let error as UnmixError {
                #expect(!error.message.contains("\n"), "\(format)/\(name): \(error.message)")
            }
        }
    }
}
