import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// Keyset pages of `GET /users`, and the Redis read-through cache of `GET /users/{id}`.
@Suite(.enabled(if: userDataServersEnabled, TestServers.skipReason))
struct UserDataListCacheIntegrationTests {
    /// `limit` above `MAX_PAGE_SIZE` is clamped to it.
    @Test func listLimitIsClamped() async throws {
        try await withUserDataService(extra: ["MAX_PAGE_SIZE": "2"]) { client, _ in
            for name in ["clamp_a", "clamp_b", "clamp_c"] { _ = try await client.createUser(name) }
            let page = try await client.call(.get, "/api/v1/users?limit=50")
            #expect(page.status == 200)
            #expect(page["limit"]?.intValue == 2)
            #expect(page.items.count == 2)
            #expect(page.next != nil)
            let defaulted = try await client.call(.get, "/api/v1/users")
            #expect(defaulted["limit"]?.intValue == 2, "the default 20 is clamped too")
        }
    }

    /// Walking the pages returns every user once, in (`created_at`, `id`) order, whatever the page size, also when
    /// creation times carry microseconds and when two users share one.
    @Test(arguments: [1, 2]) func pagesNeitherRepeatNorSkip(limit: Int) async throws {
        try await withUserDataService { client, store in
            var users: [TestUser] = []
            for index in 0..<5 { users.append(try await client.createUser("page_\(index)")) }
            // PostgreSQL keeps microseconds: fractions below and above half a millisecond, and a tie.
            let times = ["00.000400", "00.000600", "00.001100", "00.001100", "00.001900"]
            for (user, time) in zip(users, times) {
                try await store.pool.query(
                    "UPDATE user_data.users SET created_at = $1::timestamptz WHERE id = $2::uuid", ["2026-01-01 00:00:\(time)+00", user.id])
            }
            let expected = zip(users, times).sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }.map(\.0.id)
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await client.call(.get, "/api/v1/users?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == 200, "\(page.body)")
                #expect(page.items.count <= limit)
                seen += page.items.compactMap { $0["id"]?.stringValue }
                cursor = page.next
                pages += 1
            } while cursor != nil && pages < 12
            #expect(seen == expected, "pages of \(limit): \(seen.map { expected.firstIndex(of: $0) ?? -1 })")
        }
    }

    /// `GET /users/{id}` is served from `user-data-service:user:<id>` (with the configured TTL, never the hash);
    /// PUT and DELETE drop the entry, so no stale user is served after a write.
    @Test func getReadsThroughTheCacheAndWritesInvalidateIt() async throws {
        try await withUserDataService(extra: ["USER_CACHE_TTL_SECONDS": "120"]) { client, store in
            try await withTestRedis { redis in
                let alice = try await client.createUser("cached")
                let key = "user-data-service:user:\(alice.id)"
                #expect(try await client.call(.get, "/api/v1/users/\(alice.id)").status == 200)
                let entry = try #require(try await redis.get(key), "GET fills the cache")
                #expect(!entry.contains("hashed_password") && !entry.contains("$2"))
                #expect((1...120).contains(try await redis.timeToLive(key)))

                // Changed behind the service's back: the cached answer is still served, which shows the cache is used.
                try await store.pool.query("UPDATE user_data.users SET profile = '{\"sneaky\": true}' WHERE id = $1::uuid", [alice.id])
                #expect(try await client.call(.get, "/api/v1/users/\(alice.id)")["profile"] == [:])

                let put = try await client.call(.put, "/api/v1/users/\(alice.id)", body: ["profile": ["fresh": true]])
                #expect(put.status == 200)
                #expect(try await client.call(.get, "/api/v1/users/\(alice.id)")["profile"] == ["fresh": true], "PUT invalidates")

                #expect(try await client.call(.delete, "/api/v1/users/\(alice.id)").status == 204)
                #expect(try await redis.get(key) == nil, "DELETE drops the entry")
                #expect(try await client.call(.get, "/api/v1/users/\(alice.id)").status == 404)
            }
        }
    }

    /// `USER_CACHE_TTL_SECONDS=0` turns the cache off: nothing is written to Redis, every GET reads PostgreSQL.
    @Test func aZeroTTLTurnsTheCacheOff() async throws {
        try await withUserDataService(extra: ["USER_CACHE_TTL_SECONDS": "0"]) { client, store in
            try await withTestRedis { redis in
                let alice = try await client.createUser("uncached")
                #expect(try await client.call(.get, "/api/v1/users/\(alice.id)").status == 200)
                #expect(try await redis.get("user-data-service:user:\(alice.id)") == nil)
                try await store.pool.query("UPDATE user_data.users SET profile = '{\"direct\": true}' WHERE id = $1::uuid", [alice.id])
                #expect(try await client.call(.get, "/api/v1/users/\(alice.id)")["profile"] == ["direct": true])
            }
        }
    }
}
