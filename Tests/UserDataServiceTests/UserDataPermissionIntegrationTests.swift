import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// What a plain user may do with their own token, what they may not, and what an admin user may.
@Suite(.enabled(if: userDataServersEnabled, TestServers.skipReason))
struct UserDataPermissionIntegrationTests {
    /// A plain user reads and edits their own profile and preferences, and nothing of anyone else's.
    @Test func aPlainUserActsOnlyOnThemselves() async throws {
        try await withUserDataService { client, store in
            let alice = try await client.createUser("plain_a")
            let bob = try await client.createUser("plain_b")
            let token = try await client.tokens(for: alice).accessToken

            let own = try await client.callAsUser(token, .get, "/api/v1/users/\(alice.id)")
            #expect(own.status == 200)
            #expect(own["email"]?.stringValue == alice.email)
            let edited = try await client.callAsUser(token, .put, "/api/v1/users/\(alice.id)", body: ["profile": ["bio": "mine"]])
            #expect(edited.status == 200, "\(edited.body)")
            #expect(edited["profile"] == ["bio": "mine"])
            let preferences = try await client.callAsUser(
                token, .put, "/api/v1/users/\(alice.id)/preferences", body: ["preferences": ["theme": "dark"]])
            #expect(preferences.status == 200)
            #expect(try await client.callAsUser(token, .get, "/api/v1/users/\(alice.id)/preferences")["preferences"] == ["theme": "dark"])

            // Their own privilege flags: 403 forbidden, and the row does not change.
            let row = try await store.userRow(alice.id)
            for body: JSONValue in [["is_admin": true], ["is_active": false], ["is_active": true], ["profile": ["x": 1], "is_admin": true]] {
                let reply = try await client.callAsUser(token, .put, "/api/v1/users/\(alice.id)", body: body)
                #expect(reply.status == 403, "\(body.jsonString): \(reply.body)")
                #expect(reply.code == "forbidden", "\(body.jsonString)")
                #expect(try await store.userRow(alice.id) == row, "\(body.jsonString) changed the row")
            }

            // Someone else: 403 for everything; bob's row and preferences stay as they were.
            let bobRow = try await store.userRow(bob.id)
            let others: [(HTTPRequest.Method, String, JSONValue?)] = [
                (.get, "/api/v1/users/\(bob.id)", nil),
                (.put, "/api/v1/users/\(bob.id)", ["profile": ["x": 1]]),
                (.get, "/api/v1/users/\(bob.id)/preferences", nil),
                (.put, "/api/v1/users/\(bob.id)/preferences", ["preferences": ["theme": "evil"]]),
            ]
            for (method, path, body) in others {
                let reply = try await client.callAsUser(token, method, path, body: body)
                #expect(reply.status == 403, "\(method) \(path): \(reply.body)")
                #expect(reply.code == "forbidden", "\(method) \(path)")
                #expect(!reply.body.contains(bob.email))
            }
            #expect(try await store.userRow(bob.id) == bobRow)
            #expect(try await store.count("SELECT count(*)::int AS n FROM user_preferences.preferences WHERE user_id = $1::uuid", [bob.id]) == 0)

            // Service-or-admin endpoints: 403 admin_required, nothing written or removed.
            let count = try await store.userCount()
            let adminOnly: [(HTTPRequest.Method, String, JSONValue?)] = [
                (.post, "/api/v1/users", createBody(uniqueIdentity("sneaky"))),
                (.get, "/api/v1/users", nil),
                (.delete, "/api/v1/users/\(bob.id)", nil),
                (.delete, "/api/v1/users/\(alice.id)", nil),
            ]
            for (method, path, body) in adminOnly {
                let reply = try await client.callAsUser(token, method, path, body: body)
                #expect(reply.status == 403, "\(method) \(path): \(reply.body)")
                #expect(reply.code == "admin_required", "\(method) \(path): \(reply.body)")
            }
            #expect(try await store.userCount() == count)
        }
    }

    /// A plain user changes their own password only with the right `current_password`; then every refresh token of
    /// theirs is revoked and only the new password logs in.
    @Test func changingOwnPasswordNeedsTheCurrentOneAndRevokesRefreshTokens() async throws {
        try await withUserDataService { client, store in
            let alice = try await client.createUser("pw_a")
            let address = uniqueClientAddress()
            let first = try await client.tokens(for: alice, from: address)
            let second = try await client.tokens(for: alice, from: address)
            let hash = try await store.userColumn("hashed_password", of: alice.id)
            let path = "/api/v1/users/\(alice.id)"

            for body: JSONValue in [
                ["password": "a brand new one"],
                ["password": "a brand new one", "current_password": "not my password"],
                ["password": "a brand new one", "current_password": ""],
            ] {
                let reply = try await client.callAsUser(first.accessToken, .put, path, body: body)
                #expect(reply.status == 403, "\(reply.body)")
                #expect(reply.code == "current_password_invalid")
                #expect(try await store.userColumn("hashed_password", of: alice.id) == hash, "the hash did not change")
            }
            let live = try await store.count(
                "SELECT count(*)::int AS n FROM user_data.refresh_tokens WHERE user_id = $1::uuid AND revoked_at IS NULL", [alice.id])
            #expect(live == 2, "refused changes revoke nothing")

            let changed = try await client.callAsUser(
                first.accessToken, .put, path, body: ["password": "a brand new one", "current_password": .string(alice.password)])
            #expect(changed.status == 200, "\(changed.body)")
            #expect(!changed.body.contains("hashed_password"))
            let newHash = try #require(try await store.userColumn("hashed_password", of: alice.id))
            #expect(newHash != hash && newHash.hasPrefix("$2"))
            let revoked = try await store.count(
                "SELECT count(*)::int AS n FROM user_data.refresh_tokens WHERE user_id = $1::uuid AND revoked_at IS NULL", [alice.id])
            #expect(revoked == 0, "every refresh token of the user is revoked")
            for token in [first.refreshToken, second.refreshToken] {
                let refused = try await client.refresh(token)
                #expect(refused.status == 401, "\(refused.body)")
                #expect(refused.code == "invalid_refresh_token")
            }
            let old = try await client.login(email: alice.email, password: alice.password, from: address)
            #expect(old.status == 401)
            #expect(old.code == "invalid_credentials")
            let new = try await client.login(email: alice.email, password: "a brand new one", from: address)
            #expect(new.status == 200, "\(new.body)")

            // A service (or an admin) sets a password without current_password, and that also revokes the tokens.
            let fresh = try await client.tokens(
                for: TestUser(id: alice.id, email: alice.email, username: alice.username, password: "a brand new one"))
            let reset = try await client.call(.put, path, body: ["password": "set by support"])
            #expect(reset.status == 200, "\(reset.body)")
            #expect(try await client.refresh(fresh.refreshToken).status == 401)
        }
    }

    /// A token issued to a user with `is_admin` may create, list and delete, like a service.
    @Test func anAdminUserMayDoWhatAServiceMay() async throws {
        try await withUserDataService { client, store in
            let admin = try await client.createUser("admin", extra: ["is_admin": true])
            let token = try await client.tokens(for: admin).accessToken
            let identity = uniqueIdentity("by_admin")
            let created = try await client.callAsUser(token, .post, "/api/v1/users", body: createBody(identity))
            #expect(created.status == 201, "\(created.body)")
            let id = try #require(created["id"]?.stringValue)
            let listed = try await client.callAsUser(token, .get, "/api/v1/users?limit=100")
            #expect(listed.status == 200)
            #expect(Set(listed.items.compactMap { $0["id"]?.stringValue }) == [admin.id, id])
            let promoted = try await client.callAsUser(token, .put, "/api/v1/users/\(id)", body: ["is_active": false])
            #expect(promoted.status == 200, "\(promoted.body)")
            #expect(try await store.userColumn("is_active", of: id) == "false")
            #expect(try await client.callAsUser(token, .get, "/api/v1/users/\(id)")["is_active"]?.boolValue == false)
            #expect(try await client.callAsUser(token, .delete, "/api/v1/users/\(id)").status == 204)
            #expect(try await store.rowsReferring(to: id)["user_data.users"] == 0)

            // Demoted, the user's next login no longer carries the admin role.
            _ = try await client.call(.put, "/api/v1/users/\(admin.id)", body: ["is_admin": false])
            let plain = try await client.tokens(for: admin).accessToken
            #expect(try await client.callAsUser(plain, .get, "/api/v1/users").code == "admin_required")
        }
    }
}
