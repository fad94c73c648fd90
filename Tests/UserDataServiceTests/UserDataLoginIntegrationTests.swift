import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DatabaseLayer
@testable import UserDataService

/// `POST /auth/login`: the token pair, the one indistinguishable refusal, and the failed-login lockout.
@Suite(.enabled(if: userDataServersEnabled, TestServers.skipReason))
struct UserDataLoginIntegrationTests {
    /// The right password gets a pair whose access token works here; every kind of wrong login gets the same 401.
    @Test func loginIssuesTokensAndRefusesAlike() async throws {
        try await withUserDataService { client, store in
            let tenant = userTenantID()
            let alice = try await client.createUser("login_a", tenant: tenant)
            let inactive = try await client.createUser("login_off", extra: ["is_active": false])
            let address = uniqueClientAddress()

            let reply = try await client.login(email: alice.email, password: alice.password, from: address)
            #expect(reply.status == 200, "\(reply.body)")
            let pair = try reply.decode(TestTokenPair.self)
            #expect(pair.tokenType == "Bearer")
            #expect(pair.expiresIn == 900 && pair.refreshExpiresIn == 2_592_000)
            #expect(pair.refreshToken.hasPrefix("rt_"))
            let claims = try #require(unverifiedClaims(pair.accessToken))
            #expect(claims["sub"]?.stringValue == alice.id)
            #expect(claims["iss"]?.stringValue == "user-data-service")
            let audience = claims["aud"]
            #expect(audience?.stringValue == "prismicx-data-services" || audience?.arrayValue == ["prismicx-data-services"])
            #expect(claims["jti"]?.stringValue?.isEmpty == false)
            #expect(claims["tenant_id"] == nil || claims["tenant_id"] == .null, "no tenant asked for")
            #expect(claims["roles"]?.arrayValue?.contains("admin") != true)
            let own = try await client.callAsUser(pair.accessToken, .get, "/api/v1/users/\(alice.id)")
            #expect(own.status == 200, "\(own.body)")
            #expect(own["last_login_at"]?.stringValue != nil, "the login is stamped (and the cached user refreshed)")
            #expect(try await store.userColumn("last_login_at", of: alice.id) != nil)

            // By username, in any case; and into a tenant the user belongs to, with the role in the token.
            let byName = try await client.login(username: alice.username.uppercased(), password: alice.password, tenant: tenant, from: address)
            #expect(byName.status == 200, "\(byName.body)")
            let scoped = try #require(unverifiedClaims(try byName.decode(TestTokenPair.self).accessToken))
            #expect(scoped["tenant_id"]?.stringValue == tenant)
            #expect(scoped["roles"]?.arrayValue?.contains("tenant:member") == true)

            let refusals: [(String, TestReply)] = [
                ("wrong password", try await client.login(email: alice.email, password: "not the password", from: address)),
                ("unknown user", try await client.login(email: uniqueIdentity("ghost").email, password: alice.password, from: address)),
                ("unknown username", try await client.login(username: uniqueIdentity("ghost").username, password: "whatever1", from: address)),
                ("inactive user", try await client.login(email: inactive.email, password: inactive.password, from: address)),
                ("foreign tenant", try await client.login(email: alice.email, password: alice.password, tenant: userTenantID(), from: address)),
            ]
            var details: Set<String> = []
            for (label, refused) in refusals {
                #expect(refused.status == 401, "\(label): \(refused.body)")
                #expect(refused.code == "invalid_credentials", "\(label): \(refused.body)")
                #expect(refused["access_token"] == nil)
                details.insert(refused["detail"]?.stringValue ?? "<none>")
            }
            #expect(details.count == 1, "one detail for every refusal: \(details)")
            #expect(
                try await store.count("SELECT count(*)::int AS n FROM user_data.refresh_tokens WHERE user_id = $1::uuid", [inactive.id]) == 0)

            // Shapes no user could have are 400, not a failed login.
            for body: JSONValue in [
                ["password": "x"], ["email": .string(alice.email), "username": .string(alice.username), "password": "x"],
                ["email": .string(alice.email)], ["email": .string(alice.email), "password": "x", "remember": true],
            ] {
                let bad = try await client.call(.post, "/api/v1/auth/login", body: body, headers: [forwardedFor: address])
                #expect(bad.status == 400, "\(body.jsonString): \(bad.body)")
            }
        }
    }

    /// Without `JWT_PRIVATE_KEY` the service cannot issue tokens: 503 `signing_unavailable`.
    @Test func loginWithoutSigningKeyIsUnavailable() async throws {
        try await withUserDataService(extra: ["JWT_PRIVATE_KEY": ""]) { client, _ in
            let alice = try await client.createUser("nokey")
            let reply = try await client.login(email: alice.email, password: alice.password, from: uniqueClientAddress())
            #expect(reply.status == 503)
            #expect(reply.code == "signing_unavailable")
        }
    }

    /// An unknown user costs a bcrypt verification too (against a dummy hash), so timing does not tell which
    /// emails exist. Loose on purpose: the unknown-user median is at least a third of the wrong-password one.
    @Test func unknownUsersCostABcryptVerification() async throws {
        try await withUserDataService(extra: ["BCRYPT_COST": "10"]) { client, _ in
            let alice = try await client.createUser("timing")
            let address = uniqueClientAddress()
            let clock = ContinuousClock()
            var unknown: [Duration] = []
            var wrong: [Duration] = []
            // One of each first, so connection setup is not measured.
            _ = try await client.login(email: uniqueIdentity("ghost").email, password: "wrong password", from: address)
            _ = try await client.login(email: alice.email, password: "wrong password", from: address)
            for _ in 0..<5 {
                let ghost = uniqueIdentity("ghost").email
                var reply: TestReply?
                unknown.append(try await clock.measure { reply = try await client.login(email: ghost, password: "wrong password", from: address) })
                #expect(reply?.status == 401)
                wrong.append(
                    try await clock.measure { reply = try await client.login(email: alice.email, password: "wrong password", from: address) })
                #expect(reply?.status == 401)
            }
            #expect(median(unknown) * 3 >= median(wrong), "unknown \(unknown), wrong password \(wrong)")
        }
    }

    /// `LOGIN_MAX_FAILURES_PER_ACCOUNT` failures lock the account, from any address and even with the right password.
    @Test func anAccountIsLockedAfterTooManyFailures() async throws {
        try await withUserDataService(extra: ["LOGIN_MAX_FAILURES_PER_ACCOUNT": "3", "LOGIN_FAILURE_WINDOW_SECONDS": "600"]) { client, _ in
            let alice = try await client.createUser("lock_a")
            let bob = try await client.createUser("lock_b")
            let address = uniqueClientAddress()
            for attempt in 1...3 {
                let reply = try await client.login(email: alice.email, password: "wrong password \(attempt)", from: address)
                #expect(reply.status == 401, "attempt \(attempt): \(reply.body)")
            }
            for (label, from) in [("same address", address), ("another address", uniqueClientAddress())] {
                let locked = try await client.login(email: alice.email, password: alice.password, from: from)
                #expect(locked.status == 429, "\(label): \(locked.body)")
                #expect(locked.code == "too_many_attempts")
                #expect(locked["access_token"] == nil)
                let retry = locked.headers[.retryAfter].flatMap { Int($0) }
                #expect(retry.map { 1...600 ~= $0 } == true, "Retry-After: \(locked.headers[.retryAfter] ?? "none")")
            }
            let upper = try await client.login(email: alice.email.uppercased(), password: alice.password, from: address)
            #expect(upper.status == 429, "the same account in another case: \(upper.body)")
            let byName = try await client.login(username: alice.username, password: alice.password, from: uniqueClientAddress())
            #expect(byName.status == 429, "the same account by its username: \(byName.body)")
            // Another account is not affected, from the same address.
            #expect(try await client.login(email: bob.email, password: bob.password, from: address).status == 200)
        }
    }

    /// `LOGIN_MAX_FAILURES_PER_CLIENT` failures from one client address, on different accounts, lock that address
    /// (its first `X-Forwarded-For` hop) and no other.
    @Test func aClientIsLockedAfterTooManyFailures() async throws {
        try await withUserDataService(extra: ["LOGIN_MAX_FAILURES_PER_CLIENT": "3", "LOGIN_MAX_FAILURES_PER_ACCOUNT": "100"]) { client, _ in
            let alice = try await client.createUser("client_a")
            let victims = [try await client.createUser("client_b"), try await client.createUser("client_c")]
            let address = uniqueClientAddress()
            let attempts = [victims[0].email, victims[1].email, uniqueIdentity("ghost").email]
            for (index, email) in attempts.enumerated() {
                let reply = try await client.login(email: email, password: "wrong password", from: address)
                #expect(reply.status == 401, "attempt \(index + 1): \(reply.body)")
            }
            let locked = try await client.login(email: alice.email, password: alice.password, from: address)
            #expect(locked.status == 429, "\(locked.body)")
            #expect(locked.code == "too_many_attempts")
            #expect(locked.headers[.retryAfter].flatMap { Int($0) }.map { $0 > 0 } == true)
            let forwarded = try await client.call(
                .post, "/api/v1/auth/login", body: ["email": .string(alice.email), "password": .string(alice.password)],
                headers: [forwardedFor: "\(address), 192.0.2.10"])
            #expect(forwarded.status == 429, "the first hop is the client: \(forwarded.body)")
            let elsewhere = try await client.login(email: alice.email, password: alice.password, from: uniqueClientAddress())
            #expect(elsewhere.status == 200, "another address is not locked: \(elsewhere.body)")
            #expect(try await client.login(email: victims[0].email, password: victims[0].password, from: uniqueClientAddress()).status == 200)
        }
    }
}
