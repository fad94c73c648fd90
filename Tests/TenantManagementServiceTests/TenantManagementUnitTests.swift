import DatabaseLayerTesting
import Foundation
import Hummingbird
import Testing

@testable import DatabaseLayer
@testable import TenantManagementService

/// Validation, masking, error mapping and id generation, without servers.
@Suite struct TenantManagementUnitTests {
    @Test(arguments: [
        (
            "mongodb://tenant_service:password@mongodb-tenant:27017/tenant_registry?replicaSet=rs0&authSource=admin",
            "mongodb://tenant_service:****@mongodb-tenant:27017/tenant_registry?replicaSet=rs0&authSource=admin"
        ),
        ("mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017"),
        ("mongodb://user@host/db", "mongodb://user@host/db"),
        ("mongodb://u:p@ss/w@rd@host:1/db", "mongodb://u:****@host:1/db"),
        ("postgresql://h/db?user=u&password=secret&sslmode=require", "postgresql://h/db?user=u&password=****&sslmode=require"),
        ("mongodb://h/?tlsCertificateKeyFilePassword=x", "mongodb://h/?tlsCertificateKeyFilePassword=****"),
        ("user:secret@host", "****"),
    ])
    func connectionStringsAreMasked(input: String, expected: String) {
        #expect(ConnectionStringMask.mask(input) == expected)
        #expect(!ConnectionStringMask.mask(input).contains("secret"))
        #expect(ConnectionStringMask.mask(ConnectionStringMask.mask(input)) == expected, "masking twice changes nothing")
    }

    /// The response and the database report never carry the stored password; the stored document does.
    @Test func responsesMaskTheStoredConnectionString() throws {
        let stored = "mongodb://svc:hunter2@db:27017/x?authSource=admin"
        let tenant = TenantRepositoryContract().tenant("c-mask", name: "Mask")
        var withSecret = tenant
        withSecret.databaseConfig.connectionString = stored
        let response = TenantResponse(tenant: withSecret, databases: [])
        let encoded = try JSONObject(encoding: response)
        let config = try #require(encoded["database_config"]?.objectValue)
        #expect(config["connection_string"]?.stringValue == "mongodb://svc:****@db:27017/x?authSource=admin")
        #expect(config["mongodb_databases"] == [] && config["postgresql_schemas"] == [])
        #expect(encoded["name_key"] == nil)
        #expect(!"\(withSecret.databaseConfig)".contains("hunter2"), "interpolating the configuration into a log masks it")
        let report = TenantDatabasesResponse(tenant: withSecret, databases: [], entries: [])
        #expect(!(try JSONObject(encoding: report)).jsonString.contains("hunter2"))
        #expect(try JSONObject(encoding: withSecret)["database_config"]?.objectValue?["connection_string"]?.stringValue == stored)
    }

    @Test func generatedIDsHaveTheDocumentedShape() throws {
        for _ in 0..<50 {
            let id = try TenantManager.generateID().rawValue
            #expect(id.count == 15 && id.hasPrefix("tenant-"))
            #expect(id.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
    }

    @Test(arguments: [
        #"x"; DROP SCHEMA public; --"#, "../etc", "$where", String(repeating: "a", count: 200), "tenänt", "Upper", "a.b", "", " a", "a_b",
    ])
    func badTenantIDsAreRejected(raw: String) {
        #expect(throws: APIError.self) { try TenantValidation.tenantID(raw) }
        #expect(throws: APIError.self) { try CreateTenantRequest(body: ["tenant_id": .string(raw), "name": "Valid"]) }
    }

    @Test(arguments: [
        #"x"; DROP SCHEMA public; --"#, "../etc", "$where", String(repeating: "a", count: 101), "Café", "", " lead", "trail ", "tab\there",
    ])
    func badNamesAreRejected(raw: String) {
        #expect(throws: APIError.self) { try TenantValidation.name(raw) }
    }

    /// The code a body is refused with.
    func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as APIError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    /// An explicit null for an optional member means the member was left out, as the OpenAPI document states (its
    /// optional members are nullable); so a PUT of nulls only changes nothing and is refused like `{}`.
    @Test func explicitNullMeansAbsent() throws {
        let create = try CreateTenantRequest(
            body: ["name": "Acme", "tenant_id": .null, "tier": .null, "region": .null, "settings": .null, "database_config": ["type": .null]])
        #expect(create.tenantID == nil && create.tier == "standard" && create.region == "default" && create.settings.isEmpty)
        #expect(create.databaseType == .shared)
        #expect(try CreateTenantRequest(body: ["name": "Acme", "database_config": .null]).databaseType == .shared)
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": .null]) } == "invalid_body")
        #expect(
            self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "database_config": ["type": "dedicated"]]) } == "unsupported_database_type"
        )
        let update = try UpdateTenantRequest(body: ["tier": "premium", "status": .null, "name": .null, "settings": .null])
        #expect(update.tier == "premium" && update.status == nil && update.name == nil && update.settings == nil)
        #expect(self.code { _ = try UpdateTenantRequest(body: ["status": .null]) } == "invalid_body")
        #expect(
            self.code { _ = try UpdateTenantRequest(body: ["name": .null, "tier": .null, "region": .null, "settings": .null, "status": .null]) }
                == "invalid_body")
    }

    /// Server-owned keys are `read_only_field` and unknown keys `unknown_field` (both were `invalid_body` before the
    /// shared ``JSONBodyRules``); operator keys and over-deep nesting in settings are refused at any depth.
    @Test func serverOwnedAndUnknownFieldsAreRejected() throws {
        for field in ["status", "created_at", "updated_at", "provisioning_error", "_id", "name_key"] {
            #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", .init(stringLiteral: field): "x"]) } == "read_only_field")
        }
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "surprise": 1]) } == "unknown_field")
        #expect(
            self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "database_config": ["connection_string": "mongodb://x"]]) }
                == "read_only_field")
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "database_config": ["size": "xl"]]) } == "unknown_field")
        #expect(
            self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "database_config": ["type": "dedicated"]]) } == "unsupported_database_type"
        )
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "settings": ["$where": "1"]]) } == "invalid_key")
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "settings": ["a.b": 1]]) } == "invalid_key")
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "settings": ["deep": ["list": [["$gt": 1]]]]]) } == "invalid_key")
        var deep: JSONValue = 1
        for _ in 0..<20 { deep = ["x": deep] }
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "settings": deep]) } == "too_deep")
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": "Acme", "settings": "not an object"]) } == "invalid_body")
        #expect(self.code { _ = try CreateTenantRequest(body: ["name": 5]) } == "invalid_body")
        #expect(self.code { _ = try CreateTenantRequest(body: [:]) } == "invalid_body")
        let ok = try CreateTenantRequest(body: ["name": "Acme Corp.", "settings": ["theme": ["dark": true]]])
        #expect(ok.tenantID == nil && ok.tier == "standard" && ok.databaseType == .shared)
        #expect(self.code { _ = try UpdateTenantRequest(body: [:]) } == "invalid_body")
        #expect(self.code { _ = try UpdateTenantRequest(body: ["status": "failed"]) } == "invalid_input")
        #expect(self.code { _ = try UpdateTenantRequest(body: ["tenant_id": "other"]) } == "read_only_field")
        #expect(self.code { _ = try UpdateTenantRequest(body: ["database_config": ["type": "shared"]]) } == "read_only_field")
        #expect(self.code { _ = try UpdateTenantRequest(body: ["colour": "red"]) } == "unknown_field")
        #expect(try UpdateTenantRequest(body: ["status": "suspended"]).status == .suspended)
        #expect(
            self.code { _ = try CreateTenantDatabaseRequest(body: ["tenant_id": "a", "type": "mongodb", "name": "x", "primary": true]) }
                == "read_only_field")
    }

    @Test func additionalDatabaseNamesAreDerivedAndCannotCollideAcrossTenants() throws {
        let a = try #require(TenantID("a"))
        #expect(try CreateTenantDatabaseRequest.fullName("analytics", tenant: a, type: .postgresql) == "tenant_a_analytics")
        // Only the part: the prefixed full name is refused like any other name with an `_` (one spelling per name).
        #expect(throws: APIError.self) { try CreateTenantDatabaseRequest.fullName("tenant_a_analytics", tenant: a, type: .mongodb) }
        #expect(
            self.code { _ = try CreateTenantDatabaseRequest(body: ["tenant_id": "a", "type": "mongodb", "name": "tenant_a_analytics"]) }
                == "invalid_database_name")
        // `a` + `b_db` would equal `a-b`'s primary database `tenant_a_b_db`: underscores in the part are refused.
        #expect(throws: APIError.self) { try CreateTenantDatabaseRequest.fullName("b_db", tenant: a, type: .mongodb) }
        for bad in [#"x"; DROP SCHEMA public; --"#, "../etc", "$where", "ünï", "Upper", "1abc", String(repeating: "a", count: 21)] {
            #expect(throws: APIError.self) { try CreateTenantDatabaseRequest.fullName(bad, tenant: a, type: .postgresql) }
        }
        let long = try #require(TenantID(String(repeating: "z", count: 40)))
        #expect(throws: APIError.self) {
            try CreateTenantDatabaseRequest.fullName(String(repeating: "a", count: 20), tenant: long, type: .postgresql)
        }
        // The limits the OpenAPI document states: 20 characters up to a 35-character id, then 55 minus the id's length.
        for length in 1...40 {
            let id = try #require(TenantID(String(repeating: "z", count: length)))
            let longest = length <= 35 ? 20 : 55 - length
            for type in [TenantStoreKind.mongodb, .postgresql] {
                #expect(try CreateTenantDatabaseRequest.fullName(String(repeating: "a", count: longest), tenant: id, type: type).utf8.count <= 63)
                if longest < 20 {
                    #expect(throws: APIError.self) {
                        try CreateTenantDatabaseRequest.fullName(String(repeating: "a", count: longest + 1), tenant: id, type: type)
                    }
                }
            }
        }
    }

    /// Domain errors read as the problems the API documents; a failed operation names the request that finishes it.
    @Test func tenantErrorsMapToProblems() throws {
        let id = try #require(TenantID("t-1"))
        let down = TenantOperationError(step: "postgresql_schemas", code: "unavailable", message: "PostgreSQL is unreachable.", occurredAt: Date())
        let cases: [(TenantError, Int, String, Int?)] = [
            (.notFound(id), 404, "not_found", nil),
            (.duplicate, 409, "conflict", nil),
            (.invalidState("busy"), 409, "invalid_state", nil),
            (.provisioningFailed(down, tenant: id), 503, "provisioning_failed", 5),
            (
                .deletionFailed(TenantOperationError(step: "drop_mongodb", code: "timeout", message: "", occurredAt: Date()), tenant: id), 504,
                "deletion_failed", nil
            ),
            (
                .provisioningFailed(TenantOperationError(step: "x", code: "conflict", message: "", occurredAt: Date()), tenant: id), 409,
                "provisioning_failed", nil
            ),
            (
                .deletionFailed(TenantOperationError(step: "x", code: "internal_error", message: "", occurredAt: Date()), tenant: id), 500,
                "deletion_failed", nil
            ),
        ]
        for (error, status, code, retryAfter) in cases {
            #expect(error.status.code == status && error.problemCode == code && error.retryAfterSeconds == retryAfter, "\(error)")
        }
        #expect(TenantError.provisioningFailed(down, tenant: id).problemDetail.contains("POST /api/v1/tenants/t-1/provision"))
        #expect(TenantError.deletionFailed(down, tenant: id).problemDetail.contains("DELETE /api/v1/tenants/t-1"))
    }

    @Test func missingPostgresURIStopsTheStart() async throws {
        do {
            _ = try await TenantManagementApp.makeApplication(
                environment: ServiceEnvironment(["API_KEY": testAPIKey, "TENANT_MONGODB_URI": "mongodb://127.0.0.1:1"]), logger: TestServers.logger)
            Issue.record("expected a configuration error")
        } catch let error as ConfigurationError {
            #expect(error.variable == "TENANT_POSTGRES_URI")
        }
    }
}
