@testable import DatabaseLayer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite struct DatabaseErrorLoggingTests {
    let error = DatabaseError.postgres(sqlState: "42P01", serverMessage: "relation \"secret_table\" does not exist")

    @Test func descriptionIsClientSafeAndDebugDescriptionIsComplete() {
        #expect(!self.error.description.contains("secret_table"))
        #expect(!"\(self.error)".contains("secret_table"))
        #expect(String(reflecting: self.error).contains("SQLSTATE 42P01: relation \"secret_table\" does not exist"))
        #expect(String(reflecting: self.error).hasPrefix("DatabaseError(internal_error)"))
    }

    @Test func debugDescriptionNamesCodesWithoutDetails() {
        let mongo = DatabaseError(.conflict, "Duplicate.", serverCode: 11000)
        #expect(String(reflecting: mongo) == "DatabaseError(conflict): Duplicate. [server code 11000]")
        let postgres = DatabaseError(.conflict, "Duplicate.", sqlState: "23505")
        #expect(String(reflecting: postgres) == "DatabaseError(conflict): Duplicate. [SQLSTATE 23505]")
    }

    /// The server text reaches the log line of a failed request, and only the log line.
    @Test func problemMiddlewareLogsTheDebugDescription() async throws {
        let logs = CapturedLogs()
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        let error = self.error
        router.get("/api/v1/broken") { _, _ -> HTTPResponse.Status in throw error }
        try await Application(router: router, logger: logs.logger()).test(.router) { client in
            try await client.execute(uri: "/api/v1/broken", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(!String(buffer: response.body).contains("secret_table"))
            }
        }
        let line = try #require(logs.all.first { $0.message == "request failed" })
        #expect(line.level == .error)
        #expect(line.metadata["error"]?.description.contains("secret_table") == true)
    }
}
