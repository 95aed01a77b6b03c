// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so benchmark-only code never slows the main build.
// Build and run in release mode: see the README's "Performance" section.
let package = Package(
    name: "FIXBridgeBench",
    dependencies: [
        .package(name: "FIXBridge", path: "../.."),
    ],
    targets: [
        .target(name: "BenchSupport"),
        .executableTarget(
            name: "parse-bench",
            dependencies: ["BenchSupport", .product(name: "FIXTagValue", package: "FIXBridge")]
        ),
        .executableTarget(
            name: "validate-bench",
            dependencies: [
                .product(name: "FIXTagValue", package: "FIXBridge"),
                .product(name: "FIXDictionary", package: "FIXBridge"),
            ]
        ),
        .executableTarget(
            name: "book-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "FIXTagValue", package: "FIXBridge"),
                .product(name: "TradeBook", package: "FIXBridge"),
            ]
        ),
        .executableTarget(
            name: "fast-bench",
            dependencies: [.product(name: "FASTCodec", package: "FIXBridge")]
        ),
    ]
)
