// swift-tools-version: 6.1
import PackageDescription

// The core targets (FIXTagValue, FIXDictionary, FASTCodec) depend on the standard library only;
// edge dependencies enter at the command layer. See README "Design notes".
/// SwiftNIO's products, used by the transport and the executables that run it.
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
]

let package = Package(
    name: "FIXBridge",
    products: [
        .executable(name: "fixbridge", targets: ["fixbridge"]),
        .executable(name: "fixbridge-acceptance", targets: ["fixbridge-acceptance"]),
        .library(name: "FIXTagValue", targets: ["FIXTagValue"]),
        .library(name: "FIXDictionary", targets: ["FIXDictionary"]),
        .library(name: "FASTCodec", targets: ["FASTCodec"]),
        .library(name: "TradeBook", targets: ["TradeBook"]),
        .library(name: "Reconciliation", targets: ["Reconciliation"]),
        .library(name: "ClientCRM", targets: ["ClientCRM"]),
        .library(name: "FIXSession", targets: ["FIXSession"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "FIXTagValue"),
        .target(name: "FIXDictionary", dependencies: ["FIXTagValue"]),
        .target(name: "FASTCodec"),
        .target(name: "TradeBook", dependencies: ["FIXTagValue"]),
        .target(name: "Reconciliation", dependencies: ["TradeBook", "FIXTagValue"]),
        .target(name: "ClientCRM", dependencies: ["TradeBook", "FIXTagValue"]),
        .target(
            name: "CRMDelivery",
            dependencies: [
                "ClientCRM", "FIXTagValue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "FIXSession", dependencies: ["FIXTagValue", "FIXDictionary"]),
        .target(
            name: "BackOfficeStore",
            dependencies: [
                "TradeBook", "FIXTagValue", "Reconciliation", "ClientCRM",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ] + nio
        ),
        .target(name: "FIXSessionFileStore", dependencies: ["FIXSession", "FIXTagValue"]),
        .target(
            name: "FIXTransport",
            dependencies: ["FIXSession", "FIXTagValue", .product(name: "NIOSSL", package: "swift-nio-ssl")] + nio
        ),
        .executableTarget(
            name: "fixbridge-acceptance",
            dependencies: ["FIXSession", "FIXDictionary", "FIXTransport"] + nio
        ),
        .target(
            name: "FIXBridgeCommands",
            dependencies: [
                "FIXTagValue", "FIXDictionary", "FASTCodec", "TradeBook", "FIXSession", "FIXSessionFileStore", "FIXTransport",
                "BackOfficeStore", "Reconciliation", "ClientCRM", "CRMDelivery",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio
        ),
        .executableTarget(
            name: "fixbridge",
            dependencies: ["FIXBridgeCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "FIXTestSupport", dependencies: ["FIXTagValue"]),
        .target(name: "FIXSessionTestSupport", dependencies: ["FIXSession", "FIXTestSupport"]),
        .testTarget(name: "FIXTagValueTests", dependencies: ["FIXTagValue", "FIXTestSupport"]),
        .testTarget(name: "FIXDictionaryTests", dependencies: ["FIXDictionary", "FIXTestSupport"]),
        .testTarget(name: "FASTCodecTests", dependencies: ["FASTCodec", "FIXTestSupport"]),
        .testTarget(name: "TradeBookTests", dependencies: ["TradeBook", "FIXTestSupport"]),
        .testTarget(
            name: "ReconciliationTests",
            dependencies: ["Reconciliation", "TradeBook", "FIXTagValue", "FIXTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "ClientCRMTests", dependencies: ["ClientCRM", "TradeBook", "FIXTagValue", "FIXTestSupport"]),
        .testTarget(
            name: "CRMDeliveryTests",
            dependencies: [
                "CRMDelivery", "ClientCRM", "FIXTagValue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio
        ),
        .testTarget(name: "BackOfficeStoreTests", dependencies: ["BackOfficeStore", "TradeBook", "Reconciliation", "ClientCRM", "FIXTestSupport", "FIXSessionTestSupport"]),
        .testTarget(name: "FIXSessionTests", dependencies: ["FIXSession", "FIXSessionTestSupport", "FIXTestSupport"]),
        .testTarget(name: "FIXSessionFileStoreTests", dependencies: ["FIXSessionFileStore", "FIXSessionTestSupport", "FIXTestSupport"]),
        .testTarget(
            name: "FIXTransportTests",
            dependencies: ["FIXTransport", "FIXSessionTestSupport"] + nio
        ),
        .testTarget(
            name: "FIXBridgeCommandsTests",
            dependencies: [
                "FIXBridgeCommands", "FIXTestSupport", "FIXSession", "FIXTransport", "FIXTagValue", "BackOfficeStore",
                "TradeBook", "Reconciliation", "ClientCRM", "CRMDelivery", "FIXSessionTestSupport",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio
        ),
    ]
)
