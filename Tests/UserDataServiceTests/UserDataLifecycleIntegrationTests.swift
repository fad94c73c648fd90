import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// A user's whole life through the HTTP API, checked against the rows in PostgreSQL; and the startup migrations.
@Suite(.enabled(if: userDataServersEnabled, TestServers.skipReason))
struct UserDataLifecycleIntegrationTests {
    /// Create (with a tenant), get, list page by page, update, replace preferences, delete: each step's rows.
    @Test func createReadListUpdatePreferencesDelete() async throws {
        try await withUserDataService { client, store in
            let tenant = userTenantID()
            let identity = uniqueIdentity("life")
            let password = "correct horse 1"
            let created = try await client.call(
                .post, "/api/v1/users", tenant: tenant,
                body: createBody(identity, password: password, extra: ["profile": ["display_name": "Life"]]))
            #expect(created.status == 201, "\(created.body)")
            #expect(!created.body.contains("hashed_password") && !created.body.contains(password), "no hash or password in the answer")
            let id = try #require(created["id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(created["email"]?.stringValue == identity.email)
            #expect(created["username"]?.stringValue == identity.username)
            #expect(created["auth_provider"]?.stringValue == "local")
            #expect(created["is_active"]?.boolValue == true && created["is_admin"]?.boolValue == false)
            #expect(created["profile"] == ["display_name": "Life"])
            #expect(created["created_at"]?.stringValue != nil && created["updated_at"]?.stringValue != nil)
            #expect(created["last_login_at"] == .null)

            // Stored: a bcrypt hash (never the password), and the tenant assignment with its role.
            let hash = try #require(try await store.userColumn("hashed_password", of: id))
            #expect(hash.hasPrefix("$2"), "bcrypt hash expected, got a \(hash.count)-character value")
            #expect(!hash.contains(password))
            let assigned = try await store.count(
                "SELECT count(*)::int AS n FROM user_data.tenant_users WHERE user_id = $1::uuid AND tenant_id = $2 AND role = 'member'", [id, tenant])
            #expect(assigned == 1)

            let fetched = try await client.call(.get, "/api/v1/users/\(id)")
            #expect(fetched.status == 200)
            #expect(fetched.json == created.json)
            #expect(try await client.call(.get, "/api/v1/users/\(id)", tenant: tenant).status == 200)

            // Two more users (no tenant); the list walks all three one page at a time, each exactly once.
            let others = [try await client.createUser("life_b"), try await client.createUser("life_c")]
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await client.call(.get, "/api/v1/users?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == 200, "\(page.body)")
                #expect(page["limit"]?.intValue == 1)
                #expect(page.items.count <= 1)
                #expect(!page.body.contains("hashed_password"))
                seen += page.items.compactMap { $0["id"]?.stringValue }
                cursor = page.next
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen.count == 3, "pages: \(seen)")
            #expect(Set(seen) == Set([id] + others.map(\.id)))
            let members = try await client.call(.get, "/api/v1/users", tenant: tenant)
            #expect(members.items.compactMap { $0["id"]?.stringValue } == [id], "the tenant's list holds its member only")

            // Update: the answer, a fresh GET (the cache is invalidated) and the row agree.
            let renamed = uniqueIdentity("renamed")
            let updated = try await client.call(
                .put, "/api/v1/users/\(id)", body: ["username": .string(renamed.username), "profile": ["display_name": "Renamed"]])
            #expect(updated.status == 200, "\(updated.body)")
            #expect(updated["username"]?.stringValue == renamed.username)
            #expect(updated["email"]?.stringValue == identity.email, "fields not sent stay")
            #expect(updated["profile"] == ["display_name": "Renamed"])
            #expect(try await client.call(.get, "/api/v1/users/\(id)")["username"]?.stringValue == renamed.username)
            #expect(try await store.userColumn("username", of: id) == renamed.username)
            #expect(try await store.userColumn("hashed_password", of: id) == hash, "no password sent: the hash stays")

            // Preferences: PUT replaces the whole set.
            let empty = try await client.call(.get, "/api/v1/users/\(id)/preferences")
            #expect(empty.status == 200)
            #expect(empty.json == ["user_id": .string(id), "preferences": [:]])
            let first: JSONValue = ["theme": "dark", "ui_density": ["compact": true], "languages": ["en", "de"]]
            let put = try await client.call(.put, "/api/v1/users/\(id)/preferences", body: ["preferences": first])
            #expect(put.status == 200, "\(put.body)")
            #expect(put.json == ["user_id": .string(id), "preferences": first])
            #expect(try await client.call(.get, "/api/v1/users/\(id)/preferences")["preferences"] == first)
            let replaced = try await client.call(.put, "/api/v1/users/\(id)/preferences", body: ["preferences": ["theme": "light"]])
            #expect(replaced.status == 200)
            #expect(try await client.call(.get, "/api/v1/users/\(id)/preferences")["preferences"] == ["theme": "light"])
            let stored = try await store.count("SELECT count(*)::int AS n FROM user_preferences.preferences WHERE user_id = $1::uuid", [id])
            #expect(stored == 1, "the earlier keys are gone")

            // A login leaves a refresh token; then DELETE removes the user and everything of theirs.
            let user = TestUser(id: id, email: identity.email, username: renamed.username, password: password)
            _ = try await client.tokens(for: user)
            let before = try await store.rowsReferring(to: id)
            #expect(before.values.allSatisfy { $0 >= 1 }, "every table holds a row of the user before: \(before)")
            let deleted = try await client.call(.delete, "/api/v1/users/\(id)")
            #expect(deleted.status == 204)
            #expect(deleted.body.isEmpty)
            let after = try await store.rowsReferring(to: id)
            #expect(after.values.allSatisfy { $0 == 0 }, "rows left: \(after)")
            let gone = try await client.call(.get, "/api/v1/users/\(id)")
            #expect(gone.status == 404)
            #expect(gone.code == "not_found")
            #expect(try await client.call(.delete, "/api/v1/users/\(id)").code == "not_found")
            #expect(try await client.call(.get, "/api/v1/users/\(id)/preferences").status == 404)
            #expect(try await store.userCount() == 2, "the other users stay")
        }
    }

    /// A fresh database gets migration 1 at startup, applied by the owner so the serving role owns nothing;
    /// a second start changes nothing.
    @Test func migrationsRunAtStartupOnce() async throws {
        try await withUserDataDatabase { database, store in
            let tokens = TestTokens()
            try await userDataApp(database: database, tokens: tokens).testWhenReady(.router) { client async throws in
                _ = try await client.createUser("migrated")
            }
            let records = try await Self.migrationRecords(store)
            #expect(records.map(\.version) == [1])
            let owner = try TestServers.pgbouncer().user
            let tables = try await store.pool.query(
                "SELECT schemaname || '.' || tablename AS name, tableowner FROM pg_tables WHERE schemaname IN ('user_data', 'user_preferences')")
            let owners = try Dictionary(
                uniqueKeysWithValues: tables.map { row throws(DatabaseError) in
                    (try row.decode("name", as: String.self), try row.decode("tableowner", as: String.self))
                })
            #expect(Set(owners.keys) == ["user_data.users", "user_data.tenant_users", "user_data.refresh_tokens", "user_preferences.preferences"])
            #expect(owners.values.allSatisfy { $0 == owner }, "owned by the migration role, not the serving one: \(owners)")
            let rls = try await store.pool.query(
                "SELECT relrowsecurity AND relforcerowsecurity AS forced FROM pg_class WHERE oid = 'user_data.tenant_users'::regclass")
            #expect(try rls.first?.decode("forced", as: Bool.self) == true)

            try await userDataApp(database: database, tokens: tokens).testWhenReady(.router) { client async throws in
                #expect(try await client.call(.get, "/api/v1/users").items.count == 1)
            }
            #expect(try await Self.migrationRecords(store) == records, "a second start must not touch the records")
            #expect(try await store.userCount() == 1)
        }
    }

    /// One applied migration as `schema_migrations` records it.
    struct MigrationRecord: Equatable {
        var version: Int
        var checksum: String
        var appliedAt: String
    }

    /// Every row of `public.schema_migrations`, by version.
    static func migrationRecords(_ store: UserDataStore) async throws -> [MigrationRecord] {
        let rows = try await store.pool.query("SELECT version, checksum, applied_at::text AS at FROM public.schema_migrations ORDER BY version")
        return try rows.map { row throws(DatabaseError) in
            MigrationRecord(version: try row.decode("version"), checksum: try row.decode("checksum"), appliedAt: try row.decode("at"))
        }
    }
}
