import Foundation
import Testing
import UnmixIO
import _TestSupport

/// The fixed fuzz corpus (Tests/Fixtures/fuzz/<format>/: the seeds of `scripts/fuzz`, and any
/// input a fuzzing run once crashed on, kept as a regression): every file opens or is refused
/// with one line, never a trap. `model/` holds model files, replayed through `ModelFile.read`.
@Suite struct FuzzCorpusTests {
    static let root = repositoryRoot().appendingPathComponent("Tests/Fixtures/fuzz")

    static var formats: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0 != "model" }.sorted()
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

    /// The model corpus: `valid-*` files (well formed, written by Tests/Fuzz/make_model_seeds.py)
    /// are read; every other file (crafted `refuse-*` seeds, and inputs a fuzzing run found) is
    /// refused with one line naming the file.
    @Test func everyModelCorpusFileIsReadOrRefusedWithOneLine() throws {
        let folder = Self.root.appendingPathComponent("model")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.filter { $0.hasPrefix("valid-") }.count >= 3, "too few valid model seeds: \(names)")
        #expect(names.filter { !$0.hasPrefix("valid-") }.count >= 20, "too few crafted model seeds: \(names)")
        for name in names {
            let path = folder.appendingPathComponent(name).path
            do {
                let model = try ModelFile.read(path)
                #expect(name.hasPrefix("valid-"), "\(name) was read (R = \(model.r), \(model.bands) bands), expected a refusal")
            } catch let error as UnmixError {
                #expect(!name.hasPrefix("valid-"), "\(name): \(error.message)")
                #expect(!error.message.contains("\n") && error.message.contains(path), "\(name): \(error.message)")
            }
        }
    }
}
