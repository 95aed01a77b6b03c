// swift-tools-version: 6.1
import PackageDescription

// The reconciliation benchmark: its own package so it builds in release without the main
// package's edge dependencies. Sources/{FIXTagValue,TradeBook,Reconciliation} are symlinks to
// the project's targets. Run ./run.sh N (see the README's Reconciliation section).
let package = Package(
    name: "ReconBench",
    targets: [
        .target(name: "FIXTagValue"),
        .target(name: "TradeBook", dependencies: ["FIXTagValue"]),
        .target(name: "Reconciliation", dependencies: ["TradeBook", "FIXTagValue"]),
        .executableTarget(name: "recon-bench", dependencies: ["Reconciliation", "TradeBook", "FIXTagValue"]),
    ]
)
