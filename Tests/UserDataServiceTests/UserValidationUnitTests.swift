import Foundation
import DatabaseLayer
import Testing
@testable import UserDataService

/// The value rules and the pure helpers of the user endpoints; no server.
@Suite struct UserValidationUnitTests {
    @Test(arguments: ["a@b.c", "Alice.Smith+tag@example.com", "x@.a.b"])
    func acceptsEmails(_ email: String) throws {
        #expect(try UserValidation.email(email) == email)
    }

    @Test(arguments: [
        "", "ab", "no-at.example", "a@b", "a@b.", "a@.b", "two@@b.c", "sp ace@b.c", "é@b.c", String(repeating: "a", count: 65) + "@b.c",
    ])
    func refusesEmails(_ email: String) {
        #expect(throws: UserError.self) { try UserValidation.email(email) }
    }

    @Test func usernames() throws {
        #expect(try UserValidation.username("al.ice_2-x") == "al.ice_2-x")
        for bad in ["ab", ".alice", "al ice", "alïce", String(repeating: "a", count: 65)] {
            #expect(throws: UserError.self) { try UserValidation.username(bad) }
        }
    }

    /// bcrypt reads 72 bytes: 72 multi-byte bytes pass, 73 fail, whatever the character count.
    @Test func passwordLengthIsCountedInBytes() throws {
        #expect(throws: UserError.self) { try UserValidation.password("seven77") }
        _ = try UserValidation.password(String(repeating: "a", count: 72))
        #expect(throws: UserError.self) { try UserValidation.password(String(repeating: "a", count: 73)) }
        _ = try UserValidation.password(String(repeating: "é", count: 36))
        #expect(throws: UserError.self) { try UserValidation.password(String(repeating: "é", count: 36) + "a") }
        #expect(throws: UserError.self) { try UserValidation.password("password\u{0}x") }
    }

    @Test func preferences() throws {
        _ = try UserValidation.preferences(["theme": "dark", "ui_density": ["compact": true]])
        #expect(throws: UserError.self) { try UserValidation.preferences(["$set": 1]) }
        #expect(throws: UserError.self) { try UserValidation.preferences(["-x": 1]) }
        #expect(throws: UserError.self) { try UserValidation.preferences(["ui.density": 1]) }
        #expect(throws: UserError.self) { try UserValidation.preferences(["theme": ["a", "nul\u{0}"]]) }
        #expect(throws: UserError.self) { try UserValidation.profile(["bio": ["text": "nul\u{0}"]]) }
        let many = JSONObject((0...UserValidation.maximumPreferences).map { ("k\($0)", JSONValue.bool(true)) })
        #expect(throws: UserError.self) { try UserValidation.preferences(many) }
    }

    @Test func userIDs() throws {
        #expect(try UserValidation.userID("DBCABB8E-A772-41E0-8522-41539F135A54").uuidString == "DBCABB8E-A772-41E0-8522-41539F135A54")
        for bad in [nil, "", "1", "dbcabb8ea77241e0852241539f135a54", "{dbcabb8e-a772-41e0-8522-41539f135a54}",
            "-bcabb8e-a772-41e0-8522-41539f135a54", " bcabb8e-a772-41e0-8522-41539f135a54"] {
            #expect(throws: UserError.invalidUserID) { try UserValidation.userID(bad) }
        }
    }

    @Test func refreshTokensAreOpaqueAndHashed() {
        let token = RefreshToken.generate()
        #expect(token.value.hasPrefix("rt_") && token.value.utf8.count == 46)
        #expect(RefreshToken.presentedHash(token.value) == token.hash)
        #expect(token.hash.utf8.count == 64 && token.hash.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(RefreshToken.generate().value != token.value)
        #expect(RefreshToken.presentedHash("rt_short") == nil)
        #expect(RefreshToken.presentedHash(String(token.value.dropLast()) + "!") == nil)
    }

    /// A tenant role called "admin" must not read as the global admin role.
    @Test func tenantRolesAreNamespaced() {
        #expect(UserManager.roles(isAdmin: false, tenantRole: "admin") == ["tenant:admin"])
        #expect(UserManager.roles(isAdmin: true, tenantRole: nil) == ["admin"])
    }

    @Test func createNeedsAPasswordOnlyForLocalAccounts() throws {
        let local = CreateUserRequest(email: "a@b.co", username: "abc", password: nil)
        #expect(throws: UserError.self) { try local.validated(tenant: nil) }
        var external = CreateUserRequest(email: "a@b.co", username: "abc", password: nil)
        external.authProvider = "google"
        #expect(try external.validated(tenant: nil).password == nil)
        external.password = "password123"
        #expect(throws: UserError.self) { try external.validated(tenant: nil) }
    }

    @Test func plainUsersActOnlyOnThemselves() throws {
        let me = AuthenticatedUser(id: UUID(), roles: [], tenant: nil, tokenID: "t", expiresAt: .distantFuture)
        try UserManager.requireSelfOrPrivileged(.user(me), target: me.id)
        #expect(throws: UserError.self) { try UserManager.requireSelfOrPrivileged(.user(me), target: UUID()) }
        #expect(throws: UserError.adminRequired) { try UserManager.requireServiceOrAdmin(.user(me)) }
        try UserManager.requireServiceOrAdmin(.service)
        var admin = me
        admin.roles = ["admin"]
        try UserManager.requireServiceOrAdmin(.user(admin))
    }
}
