// swift-tools-version:6.2
import PackageDescription

// The model's kernels are only fast with the vector units the compiler may use:
// without a target CPU, Swift SIMD falls back to per-lane calls (measured at
// 0.6 GFLOP/s). haswell (AVX2 + FMA) is the baseline of every rig-class x86 CPU since 2015.
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-enforce-exclusivity=unchecked", "-target-cpu", "haswell"])]
#else
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-enforce-exclusivity=unchecked"])]
#endif

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "poyo-rt",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "poyo", targets: ["poyo"]),
        .library(name: "POYO", targets: ["POYO"]),
        .library(name: "SpikeWire", targets: ["SpikeWire"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSystem"),
        .target(name: "POYO", dependencies: ["CSystem"], swiftSettings: strict + kernelFlags),
        .target(name: "SpikeWire", swiftSettings: strict + kernelFlags),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strict),
        .target(
            name: "Decoder",
            dependencies: [
                "POYO", "SpikeWire", "ZeroMQ", "CSystem",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict + kernelFlags
        ),
        .executableTarget(
            name: "poyo",
            dependencies: [
                "POYO", "SpikeWire", "ZeroMQ", "Decoder",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Counts the heap allocations of a thread (interposes malloc in the test binary).
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .testTarget(name: "POYOTests", dependencies: ["POYO", "CAllocationCounter"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "SpikeWireTests", dependencies: ["SpikeWire"], swiftSettings: strict),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ", "SpikeWire"], swiftSettings: strict),
        .testTarget(name: "DecoderTests", dependencies: ["Decoder"], swiftSettings: strict),
    ]
)
