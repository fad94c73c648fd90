public import DatabaseLayer
import Foundation
public import Hummingbird
import HummingbirdTesting
import Testing

/// Boot checks every service's test target runs: it starts against the test servers and reports its stores.
public enum ServiceBoot {
    /// The readiness body of `app` once it has started (startup work done): asserts 200 and decodes the checks.
    public static func readiness(_ app: some ApplicationProtocol) async throws -> ReadinessReport {
        try await app.testWhenReady { client in
            try await client.execute(uri: "/health/ready", method: .get) { (response: TestResponse) async throws in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(ReadinessReport.self, from: Data(response.body.readableBytesView))
            }
        }
    }

    /// The MongoDB URI of `server` with `database` as its path.
    public static func uri(_ server: MongoTestServer, database: String) -> String {
        let uri = server.uri
        if let query = uri.range(of: "/?") { return uri.replacingCharacters(in: query, with: "/\(database)?") }
        return uri.hasSuffix("/") ? uri + database : uri + "/" + database
    }

    /// The test PostgreSQL as `postgresql://user@host:port/database`.
    public static func postgresURI(database: String) throws -> String {
        let postgres = try TestServers.postgres()
        return "postgresql://\(postgres.user)@\(postgres.host):\(postgres.port)/\(database)"
    }
}
