import DatabaseLayerTesting
import Foundation
import Testing

@testable import DatabaseLayer

/// Counts how often a cache loader ran.
final class LoadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func next() -> Int {
        self.lock.withLock {
            self.count += 1; return self.count
        }
    }
    var value: Int { self.lock.withLock { self.count } }
}

@Suite(.enabled(if: TestServers.redisEnabled, TestServers.skipReason))
struct RedisTests {
    struct Cached: Codable, Sendable, Equatable {
        var name: String
        var at: Date
    }

    @Test func cacheHitMissAndExpiry() async throws {
        let metrics = ServiceMetrics()
        let redis = RedisPool(configuration: try TestServers.redis(), logger: TestServers.logger, metrics: metrics)
        let cache = RedisCache(
            redis: redis, prefix: TestServers.uniqueName("cache") + ":", ttlSeconds: 1, logger: TestServers.logger, metrics: metrics)
        let loads = LoadCounter()
        let load = { () async throws -> Cached? in Cached(name: "v\(loads.next())", at: Date(timeIntervalSince1970: 1_700_000_000)) }

        let first = try await cache.value(for: "k", load: load)
        #expect(first?.name == "v1")
        #expect(loads.value == 1, "a miss loads from the store")
        let second = try await cache.value(for: "k", load: load)
        #expect(second == first)
        #expect(loads.value == 1, "a hit does not load")
        #expect(try await redis.timeToLive(cache.prefix + "k") >= 0)

        try await Task.sleep(for: .milliseconds(2100))
        let third = try await cache.value(for: "k", load: load)
        #expect(third?.name == "v2", "after the TTL the entry expired and was loaded again")

        try await cache.invalidate("k")
        _ = try await cache.value(for: "k", load: load)
        #expect(loads.value == 3, "invalidation forces a load")
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(text.contains(#"cache_requests_total{result="hit"} 1"#))
        #expect(text.contains(#"cache_requests_total{result="miss"} 3"#))
        await redis.connections.shutdown()
    }

    @Test func commandsAndCounters() async throws {
        let redis = RedisPool(configuration: try TestServers.redis(), logger: TestServers.logger)
        let key = TestServers.uniqueName("counter")
        #expect(try await redis.increment(key) == 1)
        #expect(try await redis.increment(key) == 2)
        #expect(try await redis.expire(key, seconds: 30))
        #expect((1...30).contains(try await redis.timeToLive(key)))
        try await redis.set(key + ":s", "value with spaces\r\nand CRLF", expiresIn: 30)
        #expect(try await redis.get(key + ":s") == "value with spaces\r\nand CRLF")
        #expect(try await redis.delete(key, key + ":s") == 2)
        #expect(try await redis.get(key) == nil)
        await redis.connections.shutdown()
    }

    @Test func wrongPasswordIsUnavailableAndNotLeaked() async throws {
        var configuration = try TestServers.redis()
        configuration.password = "definitely-wrong-password"
        let redis = RedisPool(configuration: configuration, logger: TestServers.logger)
        do {
            try await redis.ping()
            Issue.record("expected AUTH to fail")
        } catch let error as DatabaseError {
            #expect(error.code == .unavailable)
            #expect(!"\(error) \(error.debugDetails ?? "")".contains("definitely-wrong-password"))
        }
        await redis.connections.shutdown()
    }
}
