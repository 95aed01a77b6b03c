// swift-tools-version: 6.1
import PackageDescription

// The core targets (FIXTagValue, FIXDictionary, FASTCodec) depend on the standard library only;
// edge dependencies enter at the command layer. See README "Design notes".
let package = Package(
    name: "FIXBridge",
    products: [
        .executable(name: "fixbridge", targets: ["fixbridge"]),
        .library(name: "FIXTagValue", targets: ["FIXTagValue"]),
        .library(name: "FIXDictionary", targets: ["FIXDictionary"]),
        .library(name: "FASTCodec", targets: ["FASTCodec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "FIXTagValue"),
        .target(name: "FIXDictionary", dependencies: ["FIXTagValue"]),
        .target(name: "FASTCodec"),
        .target(
            name: "FIXBridgeCommands",
            dependencies: [
                "FIXTagValue", "FIXDictionary", "FASTCodec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "fixbridge", dependencies: ["FIXBridgeCommands"]),
        .target(name: "FIXTestSupport", dependencies: ["FIXTagValue"]),
        .testTarget(name: "FIXTagValueTests", dependencies: ["FIXTagValue", "FIXTestSupport"]),
        .testTarget(name: "FIXDictionaryTests", dependencies: ["FIXDictionary", "FIXTestSupport"]),
        .testTarget(name: "FASTCodecTests", dependencies: ["FASTCodec", "FIXTestSupport"]),
        .testTarget(name: "FIXBridgeCommandsTests", dependencies: ["FIXBridgeCommands", "FIXTestSupport"]),
    ]
)
