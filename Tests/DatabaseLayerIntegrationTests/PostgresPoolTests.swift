import DatabaseLayerTesting
import Foundation
import Testing

@testable import DatabaseLayer

@Suite(.enabled(if: TestServers.postgresEnabled, TestServers.skipReason), .serialized)
struct PostgresPoolTests {
    /// A superuser pool for setup and for watching `pg_stat_activity`.
    func adminPool() throws -> PostgresPool {
        PostgresPool(configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 2)), logger: TestServers.logger)
    }

    @Test func twoHundredConcurrentOperationsStayWithinFiveConnections() async throws {
        let admin = try adminPool()
        let configuration = try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 5, acquisitionTimeout: .seconds(30)))
        let pool = PostgresPool(configuration: configuration, logger: TestServers.logger)
        let name = configuration.applicationName
        let finished = ManagedFlag()
        let monitor = Task { () -> Int in
            var peak = 0
            while !finished.isSet {
                let count = try await admin.query(
                    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [name]
                ).first!.decode("n", as: Int.self)
                peak = max(peak, count)
                try await Task.sleep(for: .milliseconds(5))
            }
            return peak
        }
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await pool.query("SELECT $1::int + 0 AS v, pg_sleep(0.005)", [index]).first!.decode("v", as: Int.self)
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        finished.set()
        let peak = try await monitor.value
        #expect(results.sorted() == Array(0..<200))
        #expect(peak <= 5)
        #expect(peak >= 2, "the operations should really have run concurrently")
        #expect(pool.statistics.inUse == 0)
        await pool.connections.shutdown()
        await admin.connections.shutdown()
    }

    @Test func waitingPastTheAcquisitionTimeoutFailsWith503() async throws {
        let pool = PostgresPool(
            configuration: try TestServers.postgres(
                pool: .init(minimumConnections: 0, maximumConnections: 1, acquisitionTimeout: .milliseconds(200))),
            logger: TestServers.logger)
        let holder = Task { try await pool.query("SELECT pg_sleep(1.5)") }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        do {
            try await pool.query("SELECT 1")
            Issue.record("expected the lease to time out")
        } catch let error as DatabaseError {
            #expect(error.code == .unavailable)
            let (problem, retryAfter, _) = Problem.from(error)
            #expect(problem.status == 503)
            #expect(retryAfter != nil)
        }
        #expect(ContinuousClock.now - start < .seconds(1), "the caller must not hang until the holder finishes")
        _ = try await holder.value
        await pool.connections.shutdown()
    }

    @Test func terminatedConnectionIsReplaced() async throws {
        let admin = try adminPool()
        let pool = PostgresPool(
            configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 1)), logger: TestServers.logger)
        let first = try await pool.query("SELECT pg_backend_pid() AS pid").first!.decode("pid", as: Int.self)
        try await admin.query("SELECT pg_terminate_backend($1)", [first])
        // pg_terminate_backend only signals; wait until the backend has really gone.
        for _ in 0..<200 {
            let alive = try await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1", [first]).first!.decode(
                "n", as: Int.self)
            if alive == 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let second = try await pool.query("SELECT pg_backend_pid() AS pid").first!.decode("pid", as: Int.self)
        #expect(second != first)
        await pool.connections.shutdown()
        await admin.connections.shutdown()
    }

    @Test func tenantDoesNotLeakIntoTheNextTransaction() async throws {
        let pool = PostgresPool(
            configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 1)), logger: TestServers.logger)
        let tenant = try #require(TenantID("tenant-leak"))
        let inside = try await pool.withTransaction(tenant: tenant) { connection in
            (
                try connection.query("SELECT current_setting('app.current_tenant_id', true) AS t").first!.decodeIfPresent("t", as: String.self),
                Int(connection.backendPID)
            )
        }
        #expect(inside.0 == "tenant-leak")
        let after = try await pool.withTransaction { connection in
            (
                try connection.query("SELECT current_setting('app.current_tenant_id', true) AS t").first!.decodeIfPresent("t", as: String.self),
                Int(connection.backendPID)
            )
        }
        #expect(after.1 == inside.1, "the same pooled connection must be reused for this test to mean anything")
        #expect(after.0 == nil || after.0 == "")
        await pool.connections.shutdown()
    }

    @Test func rowLevelSecurityIsolatesTenants() async throws {
        let admin = try adminPool()
        let schema = TestServers.uniqueName("rls")
        let role = TestServers.uniqueName("app_role")
        let table = try SQLIdentifier(schema).quoted + ".notes"
        try await admin.withTransaction { connection in
            try connection.query("CREATE ROLE \(try SQLIdentifier(role).quoted) LOGIN NOSUPERUSER NOBYPASSRLS")
            try connection.query("CREATE SCHEMA \(try SQLIdentifier(schema).quoted)")
            try connection.query("CREATE TABLE \(table) (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id text NOT NULL, body text NOT NULL)")
            try connection.query("ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY")
            try connection.query("ALTER TABLE \(table) FORCE ROW LEVEL SECURITY")
            try connection.query(
                "CREATE POLICY tenant_isolation ON \(table) USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')) "
                    + "WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), ''))")
            try connection.query("GRANT USAGE ON SCHEMA \(try SQLIdentifier(schema).quoted) TO \(try SQLIdentifier(role).quoted)")
            try connection.query("GRANT SELECT, INSERT ON \(table) TO \(try SQLIdentifier(role).quoted)")
        }
        let appPool = PostgresPool(
            configuration: try TestServers.postgres(pool: .init(minimumConnections: 0, maximumConnections: 2), user: role), logger: TestServers.logger
        )
        let alpha = try #require(TenantID("alpha"))
        let beta = try #require(TenantID("beta"))
        for (tenant, body) in [(alpha, "a1"), (alpha, "a2"), (beta, "b1")] {
            _ = try await appPool.withTransaction(tenant: tenant) { connection in
                try connection.query("INSERT INTO \(table) (tenant_id, body) VALUES ($1, $2)", [tenant.rawValue, body])
            }
        }
        func bodies(_ tenant: TenantID?) async throws -> [String] {
            let sql = "SELECT body FROM \(table) ORDER BY body"
            if let tenant {
                return try await appPool.withTransaction(tenant: tenant) { try $0.query(sql).rows.map { try $0.decode("body", as: String.self) } }
            }
            return try await appPool.withTransaction { try $0.query(sql).rows.map { try $0.decode("body", as: String.self) } }
        }
        #expect(try await bodies(alpha) == ["a1", "a2"])
        #expect(try await bodies(beta) == ["b1"])
        #expect(try await bodies(nil) == [])
        // Writing another tenant's row is refused by the policy's WITH CHECK.
        await #expect(throws: DatabaseError.self) {
            _ = try await appPool.withTransaction(tenant: alpha) { connection in
                try connection.query("INSERT INTO \(table) (tenant_id, body) VALUES ($1, $2)", ["beta", "sneaky"])
            }
        }
        #expect(try await bodies(beta) == ["b1"])
        await appPool.connections.shutdown()
        try await admin.query("DROP SCHEMA \(try SQLIdentifier(schema).quoted) CASCADE")
        try await admin.query("DROP ROLE \(try SQLIdentifier(role).quoted)")
        await admin.connections.shutdown()
    }

    @Test func errorsKeepTheirSQLState() async throws {
        let pool = try adminPool()
        do {
            try await pool.query("SELECT 'not-a-number'::int")
            Issue.record("expected an error")
        } catch let error as DatabaseError {
            #expect(error.sqlState == "22P02")
            #expect(error.code == .invalidInput)
            #expect(!error.message.contains("not-a-number"))
        }
        // Parameters are bound by the server: a hostile string stays a value.
        let hostile = "x'); DROP TABLE pg_class; --"
        #expect(try await pool.query("SELECT $1::text AS v", [hostile]).first!.decode("v", as: String.self) == hostile)
        await pool.connections.shutdown()
    }
}

/// A flag set once, read from another task.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { self.lock.withLock { self.value } }
    func set() { self.lock.withLock { self.value = true } }
}
