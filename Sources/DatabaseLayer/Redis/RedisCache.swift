import Foundation
public import Logging

/// A read-through cache over ``RedisPool`` for JSON-encodable values.
///
/// Redis failures never fail the request: the value is loaded from its store and the error is logged and
/// counted (`cache_requests_total{result="error"}`); a cache is an optimisation, not a dependency of correctness.
public struct RedisCache: Sendable {
    let redis: RedisPool
    /// Key prefix, e.g. `tenant-mgmt:tenant:`.
    public let prefix: String
    /// Time to live of cached entries.
    public let ttlSeconds: Int
    private let metrics: (any DatabaseMetricsRecorder)?
    private let logger: Logger

    /// Creates a cache namespace.
    public init(redis: RedisPool, prefix: String, ttlSeconds: Int, logger: Logger, metrics: (any DatabaseMetricsRecorder)? = nil) {
        self.redis = redis
        self.prefix = prefix
        self.ttlSeconds = ttlSeconds
        self.logger = logger
        self.metrics = metrics
    }

    /// The cached value for `key`, or the result of `load` (cached when non-nil).
    public func value<Value: Codable & Sendable>(
        for key: String, as type: Value.Type = Value.self, load: () async throws -> Value?
    ) async throws -> Value? {
        let fullKey = self.prefix + key
        do {
            if let cached = try await self.redis.get(fullKey) {
                // An entry that no longer decodes (written by an older version) is a miss, not an error.
                if let tree = try? JSONParser.parse(cached, plainObjects: true), let value = try? JSONValueDecoder.decode(Value.self, from: tree) {
                    self.metrics?.recordCache(result: "hit")
                    return value
                }
            }
            self.metrics?.recordCache(result: "miss")
        } catch {
            self.metrics?.recordCache(result: "error")
            self.logger.warning(
                "cache read failed; loading from the store", metadata: ["key": "\(fullKey)", "error": .string(String(reflecting: error))])
            return try await load()
        }
        guard let value = try await load() else { return nil }
        do {
            try await self.redis.set(fullKey, String(decoding: try JSONBytesEncoder.encode(value), as: UTF8.self), expiresIn: self.ttlSeconds)
        } catch {
            self.logger.warning("cache write failed", metadata: ["key": "\(fullKey)", "error": .string(String(reflecting: error))])
        }
        return value
    }

    /// Removes `key` so the next read loads fresh data. Throws when Redis is down, so callers can decide.
    public func invalidate(_ key: String) async throws {
        try await self.redis.delete(self.prefix + key)
    }
}
