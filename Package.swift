// swift-tools-version:6.2
import PackageDescription

// The model's kernels are only fast with the vector units the compiler may use:
// without a target CPU, Swift SIMD falls back to per-lane calls (measured at
// 0.6 GFLOP/s). haswell (AVX2 + FMA) is the baseline of every rig-class x86 CPU since 2015.
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "haswell"])]
#else
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-O"])]
#endif

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "poyo-rt",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "poyo", targets: ["poyo"]),
        .library(name: "POYO", targets: ["POYO"]),
        .library(name: "SpikeWire", targets: ["SpikeWire"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .target(name: "POYO", dependencies: ["CBLAS"], swiftSettings: strict + kernelFlags),
        .target(name: "SpikeWire", swiftSettings: strict + kernelFlags),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strict),
        .executableTarget(
            name: "poyo",
            dependencies: [
                "POYO", "SpikeWire", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "POYOTests", dependencies: ["POYO"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "SpikeWireTests", dependencies: ["SpikeWire"], swiftSettings: strict),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ", "SpikeWire"], swiftSettings: strict),
    ]
)
