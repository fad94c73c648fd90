// swift-tools-version:6.2
// Hummingbird 2.28.1 declares tools 6.2; Swift 6 language mode is the default at this version.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// What every service executable links against; the services share nothing else.
let serviceDependencies: [Target.Dependency] = [
    "DatabaseLayer",
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "Prometheus", package: "swift-prometheus"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    .product(name: "UnixSignals", package: "swift-service-lifecycle"),
]

/// (target, product/binary name) for the five services; the binary names are the reference's service names.
let services: [(target: String, product: String)] = [
    ("TenantManagementService", "tenant-mgmt-service"),
    ("UserDataService", "user-data-service"),
    ("TaskRepositoryService", "task-repo-service"),
    ("CategoryRepositoryService", "category-repository-service"),
    ("ManagementSystemService", "management-system-repo"),
]

let serviceProducts: [Product] = services.map { .executable(name: $0.product, targets: [$0.target]) }
/// What a service needs beyond the shared dependencies: user-data-service hashes passwords and ships migrations.
let serviceExtras: [String: (dependencies: [Target.Dependency], resources: [Resource])] = [
    "UserDataService": (
        [.product(name: "HummingbirdBcrypt", package: "hummingbird-auth"), .product(name: "Crypto", package: "swift-crypto")],
        [.copy("Migrations")]
    )
]
let serviceTargets: [Target] = services.map {
    .executableTarget(
        name: $0.target, dependencies: serviceDependencies + (serviceExtras[$0.target]?.dependencies ?? []),
        resources: serviceExtras[$0.target]?.resources, swiftSettings: swiftSettings)
}

/// What every test target links: the shared test helpers, Hummingbird's test client and Swift Testing's host.
let testDependencies: [Target.Dependency] = [
    "DatabaseLayer", "DatabaseLayerTesting",
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HummingbirdTesting", package: "hummingbird"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
]

/// One test target per service (`<Target>Tests`), plus DatabaseLayer's integration suite against the real servers.
/// Suites that need no server are named `…UnitTests` or live in DatabaseLayerTests, so `make test-unit` can run
/// them alone; suites that need servers are named `…IntegrationTests`.
let serviceTestTargets: [Target] = services.map {
    .testTarget(name: "\($0.target)Tests", dependencies: testDependencies + [.target(name: $0.target)], swiftSettings: swiftSettings)
} + [
    .testTarget(name: "DatabaseLayerIntegrationTests", dependencies: testDependencies, swiftSettings: swiftSettings)
]

let package = Package(
    name: "prismicx-data-services",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DatabaseLayer", targets: ["DatabaseLayer"]),
        .library(name: "DatabaseLayerTesting", targets: ["DatabaseLayerTesting"]),
    ] + serviceProducts,
    dependencies: [
        // ConfigurationSupport is left out: configuration names come verbatim from the reference, read by DatabaseLayer.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // `<service> migrate up|down|status`.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // SHA-256 (migration checksums, refresh-token hashes); jwt-kit needs 4.x.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // Bearer tokens (EdDSA/ES256), verified by every service, issued by user-data-service.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        // bcrypt for user passwords (user-data-service).
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        // hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM rejects as an unsafe flag: link from the modulemap instead.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(
            name: "DatabaseLayer",
            dependencies: [
                "CLibPQ", "CMongoC", "CHiredis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DatabaseLayerTesting",
            dependencies: [
                "DatabaseLayer",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DatabaseLayerTests",
            dependencies: [
                "DatabaseLayer", "DatabaseLayerTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `make bench`: claim-next + complete through the task service vs. the same calls straight to libmongoc.
        .executableTarget(
            name: "TaskQueueBenchmark",
            dependencies: [
                "DatabaseLayer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/TaskQueueBenchmark",
            swiftSettings: swiftSettings
        ),
        // `make bench-mongo`: the floor for the task service's MongoDB data path (libmongoc straight from the handlers).
        // Named like a service binary, so the implicit executable product is `mongo-floor`.
        .executableTarget(
            name: "mongo-floor",
            dependencies: [
                "CMongoC",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/MongoFloor",
            swiftSettings: swiftSettings
        ),
        // `make bench-users`: bcrypt verifications per second with the service's library, the ceiling of login throughput.
        .executableTarget(
            name: "bcrypt-floor",
            dependencies: [.product(name: "HummingbirdBcrypt", package: "hummingbird-auth")],
            path: "Benchmarks/BcryptFloor",
            swiftSettings: swiftSettings
        ),
    ] + serviceTargets + serviceTestTargets
)
