import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// Refused bodies, paths and queries: the status and code of each, and that nothing was written.
@Suite(.enabled(if: userDataServersEnabled, TestServers.skipReason))
struct UserDataValidationIntegrationTests {
    /// One refused request: what is sent, and the status and code expected.
    struct Refusal: Sendable {
        var label: String
        var body: JSONValue?
        var raw: String?
        var status: Int = 400
        var code: String?
    }

    /// Every malformed or mass-assigning create is a 400 with its code, and the user count does not move.
    @Test func refusedCreatesWriteNothing() async throws {
        try await withUserDataService { client, store in
            let fresh = uniqueIdentity("valid")
            let good = createBody(fresh).objectValue ?? [:]
            /// `good` with `key` set to `value` (nil removes it).
            func with(_ key: String, _ value: JSONValue?) -> JSONValue {
                var body = good
                body[key] = value
                return .object(body)
            }
            let refusals: [Refusal] = [
                Refusal(label: "malformed JSON", raw: #"{"email": "a@b.example", "#),
                Refusal(label: "not an object", raw: #"["a@b.example"]"#),
                Refusal(label: "empty body", raw: ""),
                Refusal(label: "email of the wrong type", body: with("email", 5)),
                Refusal(label: "is_admin of the wrong type", body: with("is_admin", "yes")),
                Refusal(label: "profile not an object", body: with("profile", ["a", "b"])),
                Refusal(label: "id", body: with("id", .string(UUID().uuidString)), code: "read_only_field"),
                Refusal(label: "hashed_password", body: with("hashed_password", "$2b$04$abcdefghijklmnopqrstuu"), code: "read_only_field"),
                Refusal(label: "created_at", body: with("created_at", "2020-01-01T00:00:00Z"), code: "read_only_field"),
                Refusal(label: "updated_at", body: with("updated_at", "2020-01-01T00:00:00Z"), code: "read_only_field"),
                Refusal(label: "last_login_at", body: with("last_login_at", "2020-01-01T00:00:00Z"), code: "read_only_field"),
                Refusal(label: "unknown field", body: with("nickname", "al"), code: "unknown_field"),
                Refusal(label: "no email", body: with("email", nil)),
                Refusal(label: "email without @", body: with("email", "no-at.example"), code: "invalid_input"),
                Refusal(label: "email with two @", body: with("email", "two@@b.example"), code: "invalid_input"),
                Refusal(label: "email with a space", body: with("email", "sp ace@b.example"), code: "invalid_input"),
                Refusal(label: "email domain without dot", body: with("email", "a@localhost"), code: "invalid_input"),
                Refusal(
                    label: "email local part of 65", body: with("email", .string(String(repeating: "a", count: 65) + "@b.example")),
                    code: "invalid_input"),
                Refusal(label: "username of 2", body: with("username", "ab"), code: "invalid_input"),
                Refusal(label: "username starting with a dot", body: with("username", ".alice"), code: "invalid_input"),
                Refusal(label: "username with a space", body: with("username", "al ice"), code: "invalid_input"),
                Refusal(label: "username of 65", body: with("username", .string(String(repeating: "a", count: 65))), code: "invalid_input"),
                Refusal(label: "no password", body: with("password", nil), code: "invalid_password"),
                Refusal(label: "password of 7", body: with("password", "seven77"), code: "invalid_password"),
                Refusal(
                    label: "password of 73 bytes", body: with("password", .string(String(repeating: "é", count: 36) + "a")),
                    code: "invalid_password"),
                Refusal(label: "bad auth_provider", body: with("auth_provider", "Local Provider"), code: "invalid_input"),
                Refusal(label: "role (not a field of POST)", body: with("role", "editor"), code: "unknown_field"),
                Refusal(label: "profile too deep", body: with("profile", Self.nested(depth: 20))),
            ]
            let before = try await store.userCount()
            for refusal in refusals {
                let reply = try await client.call(.post, "/api/v1/users", body: refusal.body, rawBody: refusal.raw)
                #expect(reply.status == refusal.status, "\(refusal.label): \(reply.body)")
                if let code = refusal.code { #expect(reply.code == code, "\(refusal.label): \(reply.body)") }
                #expect(reply.code != nil, "\(refusal.label): a problem with a code")
                #expect(try await store.userCount() == before, "\(refusal.label) wrote a row")
            }
            // The same body with a 72-byte password is fine: the refusals above were for their one change.
            let ok = try await client.call(.post, "/api/v1/users", body: with("password", .string(String(repeating: "é", count: 36))))
            #expect(ok.status == 201, "\(ok.body)")
            #expect(try await store.userCount() == before + 1)
            // Keys inside `profile` follow the shared document rules (no `$`, no `.`: openapi.yaml, "Bodies"), which
            // preference names, a flat set of their own, do not (see refusedPathsQueriesUpdatesAndPreferences).
            let dotted = try await client.call(
                .post, "/api/v1/users", body: createBody(uniqueIdentity("dotted"), extra: ["profile": ["display.name": "Dot"]]))
            #expect(dotted.status == 400)
            #expect(dotted.code == "invalid_key")
            #expect(try await store.userCount() == before + 1)
            // Another provider's user has no password, and so cannot log in with one.
            let external = uniqueIdentity("sso")
            let sso = try await client.call(
                .post, "/api/v1/users", body: ["email": .string(external.email), "username": .string(external.username), "auth_provider": "google"])
            #expect(sso.status == 201, "\(sso.body)")
            #expect(sso["auth_provider"]?.stringValue == "google")
            let ssoID = try #require(sso["id"]?.stringValue)
            #expect(try await store.userColumn("hashed_password", of: ssoID) == nil)
            let ssoLogin = try await client.login(email: external.email, password: "any password 1", from: uniqueClientAddress())
            #expect(ssoLogin.status == 401, "no password, no password login")
            #expect(ssoLogin.code == "invalid_credentials")
        }
    }

    /// Duplicates are 409 whatever the case of the email; nothing is written.
    @Test func duplicatesAreConflicts() async throws {
        try await withUserDataService { client, store in
            let existing = try await client.createUser("dup")
            let count = try await store.userCount()
            let sameEmail = createBody((existing.email.uppercased(), uniqueIdentity("other").username))
            let email = try await client.call(.post, "/api/v1/users", body: sameEmail)
            #expect(email.status == 409)
            #expect(email.code == "email_taken")
            let sameName = createBody((uniqueIdentity("other").email, existing.username))
            let username = try await client.call(.post, "/api/v1/users", body: sameName)
            #expect(username.status == 409)
            #expect(username.code == "username_taken")
            #expect(try await store.userCount() == count)

            // A PUT onto another user's email or username is the same conflict, and changes nothing.
            let second = try await client.createUser("dup_b")
            let row = try await store.userRow(second.id)
            let put = try await client.call(.put, "/api/v1/users/\(second.id)", body: ["email": .string(existing.email.uppercased())])
            #expect(put.status == 409)
            #expect(put.code == "email_taken")
            let rename = try await client.call(.put, "/api/v1/users/\(second.id)", body: ["username": .string(existing.username)])
            #expect(rename.status == 409)
            #expect(rename.code == "username_taken")
            #expect(try await store.userRow(second.id) == row)
        }
    }

    /// Bad path ids, bad updates, bad queries and bad preferences are 400 with their codes; the rows stay.
    @Test func refusedPathsQueriesUpdatesAndPreferences() async throws {
        try await withUserDataService { client, store in
            let user = try await client.createUser("paths")
            for path in ["/api/v1/users/not-a-uuid", "/api/v1/users/1234", "/api/v1/users/not-a-uuid/preferences"] {
                let reply = try await client.call(.get, path)
                #expect(reply.status == 400, "\(path)")
                #expect(reply.code == "invalid_user_id", "\(path): \(reply.body)")
            }
            #expect(try await client.call(.put, "/api/v1/users/nope", body: ["profile": [:]]).code == "invalid_user_id")
            #expect(try await client.call(.delete, "/api/v1/users/nope").code == "invalid_user_id")
            let missing = try await client.call(.get, "/api/v1/users/\(UUID().uuidString.lowercased())")
            #expect(missing.status == 404)
            #expect(missing.code == "not_found")

            for (query, code) in [
                ("limit=0", "invalid_query"), ("limit=-1", "invalid_query"), ("limit=abc", "invalid_query"),
                ("cursor=!!!", "invalid_cursor"), ("cursor=bm90LWEtY3Vyc29y", "invalid_cursor"),
            ] {
                let reply = try await client.call(.get, "/api/v1/users?\(query)")
                #expect(reply.status == 400, "\(query)")
                #expect(reply.code == code, "\(query): \(reply.body)")
            }

            let row = try await store.userRow(user.id)
            let updates: [(String, JSONValue, String?)] = [
                ("empty update", [:], "invalid_body"),
                ("id", ["id": .string(UUID().uuidString)], "read_only_field"),
                ("hashed_password", ["hashed_password": "$2b$04$x"], "read_only_field"),
                ("created_at", ["created_at": "2020-01-01T00:00:00Z"], "read_only_field"),
                ("unknown", ["nickname": "x"], "unknown_field"),
                ("null email", ["email": nil], nil),
                ("bad email", ["email": "nope"], "invalid_input"),
                ("bad username", ["username": "a b"], "invalid_input"),
                ("short password", ["password": "seven77"], "invalid_password"),
                ("long password", ["password": .string(String(repeating: "a", count: 73))], "invalid_password"),
                ("is_admin of the wrong type", ["is_admin": "yes"], nil),
            ]
            for (label, body, code) in updates {
                let reply = try await client.call(.put, "/api/v1/users/\(user.id)", body: body)
                #expect(reply.status == 400, "\(label): \(reply.body)")
                if let code { #expect(reply.code == code, "\(label): \(reply.body)") }
                #expect(try await store.userRow(user.id) == row, "\(label) changed the row")
            }

            let manyKeys = JSONValue.object(JSONObject((0...100).map { ("k\($0)", JSONValue.bool(true)) }))
            let preferences: [(String, JSONValue)] = [
                ("operator key", ["preferences": ["$set": 1]]),
                ("key starting with a dash", ["preferences": ["-x": 1]]),
                ("101 keys", ["preferences": manyKeys]),
                ("not an object", ["preferences": ["a"]]),
                ("unknown member", ["preferences": [:], "extra": 1]),
            ]
            _ = try await client.call(.put, "/api/v1/users/\(user.id)/preferences", body: ["preferences": ["kept": true]])
            for (label, body) in preferences {
                let reply = try await client.call(.put, "/api/v1/users/\(user.id)/preferences", body: body)
                #expect(reply.status == 400, "\(label): \(reply.body)")
                let stored = try await store.count("SELECT count(*)::int AS n FROM user_preferences.preferences WHERE user_id = $1::uuid", [user.id])
                #expect(stored == 1, "\(label) changed the preferences")
            }
            for key in ["-x", String(repeating: "k", count: 65)] {
                let invalidKey = try await client.call(.put, "/api/v1/users/\(user.id)/preferences", body: ["preferences": [key: 1]])
                #expect(invalidKey.code == "invalid_input", "key \(key.prefix(8)): \(invalidKey.body)")
            }
            // `$` and `.` in keys are refused by the shared body rules of every service, before the service's own check.
            for key in ["$set", "ui.density"] {
                let invalidKey = try await client.call(.put, "/api/v1/users/\(user.id)/preferences", body: ["preferences": [key: 1]])
                #expect(invalidKey.code == "invalid_key", "key \(key): \(invalidKey.body)")
            }
            let tooMany = try await client.call(.put, "/api/v1/users/\(user.id)/preferences", body: ["preferences": manyKeys])
            #expect(tooMany.code == "invalid_input")
        }
    }

    /// An object nested `depth` levels.
    static func nested(depth: Int) -> JSONValue {
        (0..<depth).reduce(JSONValue.bool(true)) { inner, _ in ["a": inner] }
    }
}
