// swift-tools-version:6.0
import PackageDescription

/// Every first-party plugin: its folder under `Plugins/` and the library it builds
/// (`lib<product>.so`, which the host discovers by its `libunmix_` prefix).
let firstPartyPlugins: [(folder: String, product: String)] = [
    ("VCA", "unmix_vca"),
    ("NMF", "unmix_nmf"),
    ("ICA", "unmix_ica"),
    ("BLU", "unmix_blu"),
    ("DAEU", "unmix_daeu"),
    ("UDAS", "unmix_udas"),
    ("MTAEU", "unmix_mtaeu"),
    ("CNNAEU", "unmix_cnnaeu"),
    ("BS", "unmix_bs"),
]

/// The plugins built on the autoencoder toolkit.
let autoencoderPlugins: Set<String> = ["DAEU", "MTAEU", "CNNAEU"]

let package = Package(
    name: "unmix",
    // MARK: - Products
    products: [
        .executable(name: "unmix", targets: ["unmix"]),
        .executable(name: "unmix-bench", targets: ["UnmixBench"]),
        .executable(name: "unmix-bench-readers", targets: ["ReaderBench"]),
        .executable(name: "unmix-bench-memory", targets: ["MemoryBench"]),
        .library(name: "UnmixSDK", targets: ["UnmixSDK", "UnmixAutoencoder"]),
        // An example third-party plugin: named so that the host does not pick it up by itself.
        .library(name: "example_shallowae", type: .dynamic, targets: ["ShallowAE"]),
    ] + firstPartyPlugins.map { .library(name: $0.product, type: .dynamic, targets: [$0.folder]) },
    targets: [
        // MARK: - C modules
        // The plugin ABI: one header, the whole contract (headers only).
        .target(name: "CUnmix", path: "SDK/include", publicHeadersPath: "."),
        .systemLibrary(name: "CLapack", path: "SDK/CLapack"),
        .systemLibrary(name: "CLTDL", path: "Sources/CLTDL"),
        // Linux calls Swift's Glibc module does not reach (memfd_create, prctl).
        .systemLibrary(name: "CSystem", path: "Sources/CSystem"),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5"),
        .systemLibrary(name: "CMatio", path: "Sources/CMatio", pkgConfig: "matio"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),

        // MARK: - SDK
        .target(name: "UnmixNumerics", dependencies: ["CLapack"], path: "SDK/Sources/UnmixNumerics"),
        .target(name: "UnmixSDK", dependencies: ["CUnmix", "UnmixNumerics"], path: "SDK/Sources/UnmixSDK"),
        .target(name: "UnmixAutoencoder", dependencies: ["UnmixSDK", "UnmixNumerics", "CLapack"], path: "SDK/Sources/UnmixAutoencoder",
                exclude: ["README.md"]),

        // MARK: - Host
        // The data layer: one reader per file format, the dataset, its axes and selection.
        .target(name: "UnmixIO", dependencies: ["CUnmix", "CSystem", "CHDF5", "CMatio"], path: "Sources/UnmixIO",
                exclude: ["README.md"]),
        // The report people look at: report.html with its charts and maps, fed by typed values.
        .target(name: "UnmixReport", dependencies: ["UnmixIO", "CPNG"], path: "Sources/UnmixReport", exclude: ["README.md"]),
        // The host library: loading (in workers), data, metrics, running.
        .target(name: "UnmixHost", dependencies: ["CUnmix", "CLTDL", "CSystem", "UnmixNumerics", "UnmixIO", "UnmixReport"], path: "Sources/UnmixHost",
                exclude: ["Preprocessing/README.md", "Estimation/README.md"]),
        // The command line: parse → resolve → run (through UnmixHost) → render.
        .target(name: "UnmixCLI", dependencies: ["UnmixHost", "CUnmix"], path: "Sources/UnmixCLI"),
        .executableTarget(name: "unmix", dependencies: ["UnmixCLI"], path: "Sources/unmix"),
        .executableTarget(name: "UnmixBench", dependencies: ["UnmixHost", "UnmixNumerics"], path: "Benchmarks/UnmixBench"),
        .executableTarget(name: "ReaderBench", dependencies: ["UnmixHost"], path: "Benchmarks/ReaderBench"),
        .executableTarget(name: "MemoryBench", dependencies: ["UnmixHost"], path: "Benchmarks/MemoryBench"),

        // MARK: - Examples
        .target(name: "ShallowAE", dependencies: ["UnmixSDK", "UnmixAutoencoder"], path: "Examples/swift-autoencoder",
                exclude: ["README.md"]),

        // MARK: - Tests
        .target(name: "_TestSupport", dependencies: ["UnmixHost"], path: "Tests/_TestSupport"),
        .testTarget(name: "UnmixNumericsTests", dependencies: ["UnmixNumerics", "_TestSupport"]),
        .testTarget(name: "UnmixSDKTests", dependencies: ["UnmixSDK", "_TestSupport"]),
        .testTarget(name: "UnmixAutoencoderTests", dependencies: ["UnmixAutoencoder", "_TestSupport"]),
        .testTarget(name: "UnmixIOTests", dependencies: ["UnmixIO", "_TestSupport"]),
        .testTarget(name: "UnmixReportTests", dependencies: ["UnmixReport", "_TestSupport"]),
        .testTarget(name: "UnmixHostTests", dependencies: ["UnmixHost", "_TestSupport"]),
        .testTarget(name: "ConformanceTests", dependencies: ["UnmixHost", "_TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["UnmixHost", "_TestSupport"]),
        .testTarget(name: "PluginTests", dependencies: ["UnmixHost", "_TestSupport"]),
    ] + firstPartyPlugins.map {
        // MARK: - Plugins
        .target(name: $0.folder, dependencies: ["UnmixSDK"] + (autoencoderPlugins.contains($0.folder) ? ["UnmixAutoencoder"] : []),
                path: "Plugins/\($0.folder)", exclude: ["README.md"])
    },
    swiftLanguageModes: [.v5]
)
