import Foundation
import Logging
import Testing

@testable import DatabaseLayer

@Suite struct TenantIDTests {
    @Test(arguments: ["acme", "tenant-1a2b3c4d", "0", "a-b-c", String(repeating: "a", count: 40)])
    func acceptsValidIDs(_ raw: String) throws {
        let tenant = try #require(TenantID(raw))
        #expect(tenant.rawValue == raw)
    }

    @Test(arguments: [
        "", "-leading", "UPPER", "x\"; DROP SCHEMA public; --", "../etc", "$where", "a.b", "a_b", "a b", "tënant",
        String(repeating: "a", count: 41), String(repeating: "a", count: 200), "a\u{0}b",
    ])
    func rejectsInvalidIDs(_ raw: String) {
        #expect(TenantID(raw) == nil)
    }

    @Test func derivesSafeNames() throws {
        let tenant = try #require(TenantID("tenant-1a2b"))
        #expect(tenant.mongoDatabaseName == "tenant_tenant_1a2b_db")
        #expect(try tenant.postgresSchemaName(plugin: "crm").quoted == "\"tenant_tenant_1a2b_crm\"")
        #expect(throws: DatabaseError.self) { try tenant.postgresSchemaName(plugin: "crm; drop") }
    }

    @Test func decodingValidates() throws {
        struct Body: Decodable { var tenant: TenantID }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Body.self, from: Data(#"{"tenant":"../x"}"#.utf8)) }
        #expect(try JSONDecoder().decode(Body.self, from: Data(#"{"tenant":"ok-1"}"#.utf8)).tenant.rawValue == "ok-1")
    }
}

@Suite struct IdentifierTests {
    @Test(arguments: ["public", "tenant_a_crm", "_x", String(repeating: "a", count: 63)])
    func acceptsIdentifiers(_ name: String) throws {
        #expect(try SQLIdentifier(name).quoted == "\"\(name)\"")
    }

    @Test(arguments: ["", "Public", "1abc", "a-b", "a\"b", "a;b", String(repeating: "a", count: 64), "ä"])
    func rejectsIdentifiers(_ name: String) {
        #expect(throws: DatabaseError.self) { try SQLIdentifier(name) }
    }

    @Test(arguments: [("tenant_registry", true), ("tenant_a-1_db", true), ("../etc", false), ("a.b", false), ("$where", false), ("", false)])
    func mongoDatabaseNames(_ name: String, _ valid: Bool) {
        #expect(MongoName.isValidDatabaseName(name) == valid)
    }

    @Test(arguments: [("tasks", true), ("batch_as_objects", true), ("system.users", false), ("a$b", false), ("9x", false)])
    func mongoCollectionNames(_ name: String, _ valid: Bool) {
        #expect(MongoName.isValidCollectionName(name) == valid)
    }
}

@Suite struct ErrorMappingTests {
    @Test(arguments: [
        ("23505", DatabaseError.Code.conflict), ("23503", .conflict), ("23502", .invalidInput), ("23514", .invalidInput),
        ("22P02", .invalidInput), ("08006", .unavailable), ("53300", .unavailable), ("57P01", .unavailable), ("57014", .timeout),
        ("42P01", .internalError),
    ])
    func sqlStates(_ state: String, _ code: DatabaseError.Code) {
        #expect(DatabaseError.code(forSQLState: state) == code)
    }

    @Test(arguments: [(11000, DatabaseError.Code.conflict), (50, .timeout), (2, .invalidInput), (6, .unavailable), (8000, .internalError)])
    func mongoCodes(_ serverCode: Int, _ code: DatabaseError.Code) {
        #expect(DatabaseError.code(forMongoServerCode: serverCode) == code)
    }

    @Test(arguments: [
        (DatabaseError.Code.notFound, 404), (.conflict, 409), (.invalidInput, 400), (.unavailable, 503), (.timeout, 504), (.internalError, 500),
    ])
    func httpStatuses(_ code: DatabaseError.Code, _ status: Int) {
        let (problem, retryAfter, isInternal) = Problem.from(DatabaseError(code, "m", debugDetails: "secret server text"))
        #expect(problem.status == status)
        #expect(problem.code == code.rawValue)
        #expect(problem.detail == "m")
        #expect(!problem.detail.contains("secret"))
        #expect((retryAfter != nil) == (status == 503))
        #expect(isInternal == (status == 500))
    }

    @Test func serverTextStaysOutOfDescription() {
        let error = DatabaseError.postgres(sqlState: "23505", serverMessage: "duplicate key value violates unique constraint \"users_email_key\"")
        #expect(error.code == .conflict)
        #expect(!error.description.contains("users_email_key"))
        #expect(error.debugDetails?.contains("users_email_key") == true)
    }

    @Test func decodingErrorsNameTheField() throws {
        struct Body: Decodable { var count: Int }
        do {
            _ = try JSONDecoder().decode(Body.self, from: Data(#"{"count":"many"}"#.utf8))
            Issue.record("expected a decoding error")
        } catch let error as DecodingError {
            let (problem, _, _) = Problem.from(error)
            #expect(problem.status == 400)
            #expect(problem.detail == "count: expected an integer.")
        }
    }
}

@Suite struct ConfigurationTests {
    let base = ["API_KEY": "0123456789abcdef"]

    @Test func missingAPIKeyNamesTheVariable() {
        do {
            _ = try HTTPServiceConfiguration(environment: ServiceEnvironment([:]), descriptor: ServiceDescriptor(name: "s", defaultPort: 1))
            Issue.record("expected an error")
        } catch {
            #expect(error.variable == "API_KEY")
            #expect(error.description == "configuration error: API_KEY is required but not set")
        }
    }

    @Test func malformedPortNamesTheVariableNotTheValue() {
        do {
            _ = try HTTPServiceConfiguration(
                environment: ServiceEnvironment(base.merging(["TENANT_SERVICE_PORT": "99999x"]) { $1 }),
                descriptor: ServiceDescriptor(name: "s", hostVariable: "TENANT_SERVICE_HOST", portVariable: "TENANT_SERVICE_PORT", defaultPort: 8501))
            Issue.record("expected an error")
        } catch {
            #expect(error.variable == "TENANT_SERVICE_PORT")
            #expect(!error.description.contains("99999x"))
        }
    }

    @Test func readsTheServiceSpecificNames() throws {
        let configuration = try HTTPServiceConfiguration(
            environment: ServiceEnvironment(
                base.merging(["TENANT_SERVICE_PORT": "9001", "TENANT_SERVICE_HOST": "127.0.0.1", "TENANT_SERVICE_LOG_LEVEL": "WARNING"]) { $1 }),
            descriptor: ServiceDescriptor(
                name: "tenant-mgmt-service", hostVariable: "TENANT_SERVICE_HOST", portVariable: "TENANT_SERVICE_PORT", defaultPort: 8501,
                logLevelVariable: "TENANT_SERVICE_LOG_LEVEL"))
        #expect(configuration.port == 9001)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.logLevel == .warning)
        #expect(configuration.maxPageSize == 100)
        #expect(configuration.redis == nil)
    }

    @Test func parsesPostgresURL() throws {
        let configuration = try PostgresConfiguration(
            url: "postgresql://extension_service:p%40ss@db.example:6432/user_extensions", variable: "POSTGRES_URI", applicationName: "a",
            pool: .init())
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6432)
        #expect(configuration.user == "extension_service")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == "user_extensions")
        #expect(throws: ConfigurationError.self) {
            try PostgresConfiguration(url: "mysql://x@y/z", variable: "POSTGRES_URI", applicationName: "a", pool: .init())
        }
    }

    @Test func parsesRedisURL() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cret@cache:6380/2")
        #expect(configuration.host == "cache")
        #expect(configuration.port == 6380)
        #expect(configuration.password == "s3cret")
        #expect(configuration.database == 2)
        #expect(throws: ConfigurationError.self) { try RedisConfiguration(url: "http://cache") }
    }

    @Test func mongoDatabaseFromURI() {
        #expect(MongoConfiguration.databaseName(inURI: "mongodb://u:p@h:27017/user_insights?authSource=admin") == "user_insights")
        #expect(MongoConfiguration.databaseName(inURI: "mongodb://h:27017") == nil)
        #expect(MongoConfiguration.databaseName(inURI: "mongodb://h:27017/?x=1") == nil)
    }
}

@Suite struct PaginationTests {
    @Test func clampsToMaxPageSize() throws {
        #expect(try PageRequest(query: ["limit": "1000"], maxPageSize: 100) == PageRequest(limit: 100))
        #expect(try PageRequest(query: [:], maxPageSize: 100) == PageRequest(limit: 20))
        #expect(try PageRequest(query: ["limit": "5"], maxPageSize: 100) == PageRequest(limit: 5))
    }

    @Test(arguments: [
        ["limit": "0"], ["limit": "x"], ["limit": "-5"], ["cursor": ""], ["cursor": "!!"], ["cursor": "e30"],
        ["cursor": String(repeating: "a", count: 2000)],
    ])
    func rejectsBadValues(_ query: [String: String]) {
        #expect(throws: APIError.self) { try PageRequest(query: query, maxPageSize: 100) }
    }

    @Test func cursorRoundTripsItsValuesAndDates() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123)
        let cursor = PageCursor(values: [.int(-3), .date(date), .string("a/b+c")])
        let parsed = try #require(try PageRequest(query: ["cursor": cursor.token], maxPageSize: 10).cursor)
        #expect(parsed == cursor)
        #expect(cursor.token.utf8.allSatisfy { $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") })
    }

    @Test func pageReadsOneExtraRowToKnowThereIsMore() {
        let request = PageRequest(limit: 2)
        let more = Page(rows: [1, 2, 3], request: request) { PageCursor(values: [.int(Int64($0))]) }
        #expect(more.items == [1, 2])
        #expect(more.next == PageCursor(values: [2]).token)
        let last = Page(rows: [1, 2], request: request) { PageCursor(values: [.int(Int64($0))]) }
        #expect(last.next == nil)
    }

    @Test func keysetFilterRepeatsTheScopeInEveryBranch() throws {
        let keyset = MongoKeyset([.init("priority", ascending: false), .init("task_id")])
        let filter = try keyset.filter(["tenant_id": ["$eq": "a"]], after: PageCursor(values: [5, "t1"]))
        let expected: JSONObject = [
            "$or": [
                ["tenant_id": ["$eq": "a"], "priority": ["$lt": 5]],
                ["tenant_id": ["$eq": "a"], "priority": ["$eq": 5], "task_id": ["$gt": "t1"]],
            ]
        ]
        #expect(filter == expected)
        #expect(throws: APIError.self) { try keyset.filter([:], after: PageCursor(values: [1])) }
    }
}

@Suite struct JSONBodyRulesTests {
    let rules = JSONBodyRules(allowed: ["name", "settings"], serverOwned: ["id", "created_at"], maximumDepth: 4)

    @Test func refusesServerOwnedThenUnknownKeys() {
        #expect(throws: APIError.badRequest("These fields are set by the server and cannot be sent: created_at, id.", code: "read_only_field")) {
            try rules.check(["name": "x", "id": "1", "created_at": "now"])
        }
        #expect(throws: APIError.badRequest("Unknown fields: colour.", code: "unknown_field")) { try rules.check(["colour": "red"]) }
    }

    @Test(arguments: [["$where": 1], ["a.b": 1], ["": 1], ["ok": ["$gt": 1]], [["$x": 1]]] as [JSONValue])
    func refusesOperatorKeysAtAnyDepth(_ settings: JSONValue) {
        #expect(throws: APIError.self) { try rules.check(["settings": settings]) }
    }

    @Test func limitsDepth() throws {
        try rules.check(["settings": ["a": ["b": ["c": 1]]]])
        #expect(throws: APIError.self) { try rules.check(["settings": ["a": ["b": ["c": ["d": 1]]]]]) }
    }
}

@Suite struct JSONValueTests {
    @Test func roundTripsThroughText() throws {
        let value: JSONValue = ["b": 1, "a": [true, nil, 1.5, "x\"y\n"], "nested": ["k": "v"]]
        #expect(try JSONValue(jsonText: value.jsonString) == value)
        #expect(value.jsonString == #"{"b":1,"a":[true,null,1.5,"x\"y\n"],"nested":{"k":"v"}}"#)
    }

    @Test func bridgesCodableKeepingDates() throws {
        struct Item: Codable, Equatable {
            var name: String
            var at: Date
        }
        let item = Item(name: "n", at: Date(timeIntervalSince1970: 1_700_000_000.123))
        let object = try JSONObject(encoding: item)
        #expect(object["at"]?.dateValue != nil)
        let back = try object.decode(Item.self)
        #expect(back.name == "n")
        #expect(abs(back.at.timeIntervalSince1970 - item.at.timeIntervalSince1970) < 0.001)
    }

    @Test func parsesPostgresTimestamps() throws {
        let date = try #require(Date(postgresText: "2024-01-02 03:04:05.678901+00"))
        #expect(abs(date.timeIntervalSince1970 - 1_704_164_645.678) < 0.001)
        let offset = try #require(Date(postgresText: "2024-01-02 05:04:05+02"))
        #expect(offset.timeIntervalSince1970 == 1_704_164_645)
    }

    @Test func readsNxStringDates() throws {
        let date = try #require(ISO8601.parse("2026-11-21 20:58:51.795000"))
        #expect(ISO8601.format(date) == "2026-11-21T20:58:51.795Z")
        #expect(ISO8601.parse("not a date") == nil)
    }

    @Test func constantTimeComparison() {
        #expect(AuthenticationMiddleware.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AuthenticationMiddleware.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AuthenticationMiddleware.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!AuthenticationMiddleware.constantTimeEquals([], Array("a".utf8)))
    }
}
