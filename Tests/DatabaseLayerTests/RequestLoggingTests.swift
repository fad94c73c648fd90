@testable import DatabaseLayer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Keeps every log line so a test can read the metadata that was logged.
final class CapturedLogs: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lines = Mutex<[Line]>([])

    var all: [Line] { self.lines.withLock { $0 } }

    func append(_ line: Line) { self.lines.withLock { $0.append(line) } }

    /// A logger that writes into this store.
    func logger() -> Logger {
        var logger = Logger(label: "captured") { _ in CapturingLogHandler(store: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let store: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.store.append(.init(level: event.level, message: "\(event.message)", metadata: self.metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}

@Suite struct RequestLoggingTests {
    func router() -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestLoggingMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: TenantMiddleware())
        router.get("/api/v1/things") { _, _ -> HTTPResponse.Status in .ok }
        return router
    }

    @Test func requestLineCarriesTheTenant() async throws {
        let logs = CapturedLogs()
        try await Application(router: self.router(), logger: logs.logger()).test(.router) { client in
            try await client.execute(uri: "/api/v1/things", method: .get, headers: [.init("X-Tenant-ID")!: "acme-1"]) { response in
                #expect(response.status == .ok)
            }
        }
        let line = try #require(logs.all.first { $0.message == "request" })
        #expect(line.metadata["tenant_id"] == "acme-1")
        #expect(line.metadata["status"]?.description == "200")
        #expect(line.metadata["request_id"] != nil)
    }

    @Test func requestLineWithoutTenantHasNone() async throws {
        let logs = CapturedLogs()
        try await Application(router: self.router(), logger: logs.logger()).test(.router) { client in
            try await client.execute(uri: "/api/v1/things", method: .get) { response in #expect(response.status == .ok) }
        }
        let line = try #require(logs.all.first { $0.message == "request" })
        #expect(line.metadata["tenant_id"] == nil)
        #expect(line.metadata["duration_ms"]?.description.contains(".") == true)
    }

    @Test func quietLoggerStillGetsTheRequestID() async throws {
        let logs = CapturedLogs()
        var logger = logs.logger()
        logger.logLevel = .warning
        try await Application(router: self.router(), logger: logger).test(.router) { client in
            try await client.execute(uri: "/api/v1/things", method: .get) { response in
                #expect(response.headers[.init("X-Request-ID")!] != nil)
            }
        }
        #expect(!logs.all.contains { $0.message == "request" })
    }

    /// The duration is written by hand now; it must read as `String(format: "%.2f")` wrote it (on values already at
    /// hundredths: a binary tie such as 1.005 may round the other way, which a log line does not care about).
    @Test func durationReadsAsBefore() {
        var generator = SplitMix64(state: 7)
        for _ in 0..<10_000 {
            let value = Double.random(in: 0..<100_000, using: &generator) * (Bool.random(using: &generator) ? 1 : 0.001)
            let rounded = (value * 100).rounded() / 100
            #expect(RequestLoggingMiddleware.twoDecimals(rounded) == String(format: "%.2f", rounded), "\(rounded)")
        }
        #expect(RequestLoggingMiddleware.twoDecimals(0) == "0.00")
        #expect(RequestLoggingMiddleware.twoDecimals(1.005 + 0.0001) == "1.01")
    }
}
