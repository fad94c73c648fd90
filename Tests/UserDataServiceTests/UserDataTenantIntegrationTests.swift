import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// Tenants are kept apart: through the API for every kind of caller, and by row-level security in PostgreSQL.
@Suite(.enabled(if: userDataServersEnabled, TestServers.skipReason))
struct UserDataTenantIntegrationTests {
    /// A service scoped to tenant A neither sees nor changes B's member: 404 everywhere, B's rows untouched.
    @Test func aServiceInOneTenantCannotReachAnother() async throws {
        try await withUserDataService { client, store in
            let (tenantA, tenantB) = (userTenantID(), userTenantID())
            let alice = try await client.createUser("ten_a", tenant: tenantA)
            let bob = try await client.createUser("ten_b", tenant: tenantB)
            _ = try await client.call(.put, "/api/v1/users/\(bob.id)/preferences", body: ["preferences": ["theme": "dark"]])
            let bobRow = try await store.userRow(bob.id)

            #expect(try await client.call(.get, "/api/v1/users/\(alice.id)", tenant: tenantA).status == 200)
            let requests: [(HTTPRequest.Method, String, JSONValue?)] = [
                (.get, "/api/v1/users/\(bob.id)", nil),
                (.put, "/api/v1/users/\(bob.id)", ["profile": ["hacked": true]]),
                (.get, "/api/v1/users/\(bob.id)/preferences", nil),
                (.put, "/api/v1/users/\(bob.id)/preferences", ["preferences": ["theme": "light"]]),
                (.delete, "/api/v1/users/\(bob.id)", nil),
            ]
            for (method, path, body) in requests {
                let reply = try await client.call(method, path, tenant: tenantA, body: body)
                #expect(reply.status == 404, "\(method) \(path) in A: \(reply.body)")
                #expect(reply.code == "not_found")
                #expect(!reply.body.contains(bob.email))
            }
            let listed = try await client.call(.get, "/api/v1/users?limit=100", tenant: tenantA)
            #expect(listed.status == 200)
            #expect(listed.items.compactMap { $0["id"]?.stringValue } == [alice.id])
            #expect(try await store.userRow(bob.id) == bobRow, "B's user is unchanged")
            let preference = try await store.pool.query(
                "SELECT value::text AS v FROM user_preferences.preferences WHERE user_id = $1::uuid AND key = 'theme'", [bob.id])
            #expect(try preference.first?.decode("v", as: String.self) == "\"dark\"")
            #expect(try await store.rowsReferring(to: bob.id)["user_data.tenant_users"] == 1)
            // Without a tenant, the service sees both.
            #expect(try await client.call(.get, "/api/v1/users/\(bob.id)").status == 200)
            #expect(try await client.call(.get, "/api/v1/users/\(bob.id)", tenant: tenantB).status == 200)
        }
    }

    /// User tokens of tenant A: a plain user cannot see B's user; an admin of A reaches only A's members.
    @Test func userTokensOfOneTenantCannotReachAnother() async throws {
        try await withUserDataService { client, _ in
            let (tenantA, tenantB) = (userTenantID(), userTenantID())
            let alice = try await client.createUser("tok_a", tenant: tenantA)
            let admin = try await client.createUser("tok_admin", tenant: tenantA, extra: ["is_admin": true])
            let bob = try await client.createUser("tok_b", tenant: tenantB)

            let plain = try await client.tokens(for: alice, tenant: tenantA).accessToken
            #expect(try await client.callAsUser(plain, .get, "/api/v1/users/\(alice.id)").status == 200)
            let peek = try await client.callAsUser(plain, .get, "/api/v1/users/\(bob.id)")
            #expect([403, 404].contains(peek.status), "\(peek.body)")
            #expect(!peek.body.contains(bob.email))

            let adminToken = try await client.tokens(for: admin, tenant: tenantA).accessToken
            let foreign = try await client.callAsUser(adminToken, .get, "/api/v1/users/\(bob.id)")
            #expect(foreign.status == 404, "an admin of A does not see B's member: \(foreign.body)")
            #expect(foreign.code == "not_found")
            let put = try await client.callAsUser(adminToken, .put, "/api/v1/users/\(bob.id)", body: ["profile": ["x": 1]])
            #expect(put.status == 404)
            let delete = try await client.callAsUser(adminToken, .delete, "/api/v1/users/\(bob.id)")
            #expect(delete.status == 404)
            let listed = try await client.callAsUser(adminToken, .get, "/api/v1/users?limit=100")
            #expect(listed.status == 200)
            #expect(Set(listed.items.compactMap { $0["id"]?.stringValue }) == [alice.id, admin.id])
            // The token's tenant is the request's: naming B in the header is a mismatch, not a way in.
            let mismatch = try await client.callAsUser(adminToken, .get, "/api/v1/users/\(bob.id)", tenant: tenantB)
            #expect(mismatch.status == 403)
            #expect(mismatch.code == "tenant_mismatch")
            #expect(try await client.call(.get, "/api/v1/users/\(bob.id)").status == 200, "B's user still exists")
        }
    }

    /// Connected as the serving role itself, `tenant_users` shows only the transaction's tenant, nothing without
    /// one, and refuses another tenant's row.
    @Test func rowLevelSecurityGuardsTenantUsers() async throws {
        try await withUserDataService { client, store in
            let (rawA, rawB) = (userTenantID(), userTenantID())
            let alice = try await client.createUser("rls_a", tenant: rawA)
            let bob = try await client.createUser("rls_b", tenant: rawB)
            #expect(try await store.count("SELECT count(*)::int AS n FROM user_data.tenant_users") == 2, "the superuser sees both")
            let tenantA = try #require(TenantID(rawA))
            let configuration = try TestServers.pgbouncer(
                user: UserDataRoles.serving, password: UserDataRoles.servingPassword, database: store.database)
            let connection = try PostgresConnection(configuration: configuration)
            defer { connection.close() }

            let visible = try connection.transaction(tenant: tenantA) { connection in
                try connection.query("SELECT tenant_id, user_id::text AS user_id FROM user_data.tenant_users").map { row throws(DatabaseError) in
                    "\(try row.decode("tenant_id", as: String.self))/\(try row.decode("user_id", as: String.self))"
                }
            }
            #expect(visible == ["\(rawA)/\(alice.id)"])
            let outside = try connection.query("SELECT count(*)::int AS n FROM user_data.tenant_users").first?.decode("n", as: Int.self)
            #expect(outside == 0, "no tenant set: no row visible")
            let untenanted = try connection.transaction { connection in
                try connection.query("SELECT count(*)::int AS n FROM user_data.tenant_users").first?.decode("n", as: Int.self)
            }
            #expect(untenanted == 0)
            // The users table itself has no policy: the role sees both users (membership is what RLS guards).
            #expect(try connection.query("SELECT count(*)::int AS n FROM user_data.users").first?.decode("n", as: Int.self) == 2)

            do {
                _ = try connection.transaction(tenant: tenantA) { connection in
                    try connection.query(
                        "INSERT INTO user_data.tenant_users (tenant_id, user_id, role) VALUES ($1, $2::uuid, 'member')", [rawB, bob.id])
                }
                Issue.record("inserting tenant B's row inside tenant A's transaction succeeded")
            } catch let error as DatabaseError {
                #expect(error.sqlState == "42501", "row-level security refuses it: \(error.sqlState ?? "-") \(error.message)")
            }
            do {
                _ = try connection.transaction(tenant: tenantA) { connection in
                    try connection.query("UPDATE user_data.tenant_users SET tenant_id = $1 WHERE user_id = $2::uuid", [rawB, alice.id])
                }
                Issue.record("moving A's row to tenant B inside A's transaction succeeded")
            } catch let error as DatabaseError {
                #expect(error.sqlState == "42501", "\(error.sqlState ?? "-") \(error.message)")
            }
            let deleted = try connection.transaction(tenant: tenantA) { connection in
                try connection.query("DELETE FROM user_data.tenant_users WHERE user_id = $1::uuid", [bob.id]).affectedRows
            }
            #expect(deleted == 0, "B's row cannot even be seen to be deleted")
            #expect(try await store.count("SELECT count(*)::int AS n FROM user_data.tenant_users") == 2)
            let owns = try connection.query(
                "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname IN ('user_data', 'user_preferences') AND tableowner = current_user")
            #expect(try owns.first?.decode("n", as: Int.self) == 0, "the serving role owns no table")
        }
    }
}
