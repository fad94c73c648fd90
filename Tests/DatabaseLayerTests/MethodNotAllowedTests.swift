@testable import DatabaseLayer
import DatabaseLayerTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite struct MethodNotAllowedTests {
    /// A runtime router as a service builds it, with a list route, an item route and one that throws the router's 404.
    func application() throws -> some ApplicationProtocol {
        let http = try HTTPServiceConfiguration(
            environment: testServiceEnvironment(["REDIS_URL": ""]), descriptor: ServiceDescriptor(name: "probe", defaultPort: 0))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let runtime = ServiceRuntime(configuration: http, logger: logger)
        let router = runtime.makeRouter()
        router.get("/api/v1/tasks") { _, _ -> HTTPResponse.Status in .ok }
        router.post("/api/v1/tasks") { _, _ -> HTTPResponse.Status in .created }
        router.get("/api/v1/tasks/{id}") { _, _ -> HTTPResponse.Status in throw HTTPError(.notFound) }
        router.delete("/api/v1/tasks/{id}") { _, _ -> HTTPResponse.Status in .noContent }
        return runtime.makeApplication(router: router)
    }

    @Test(arguments: [
        (HTTPRequest.Method.trace, "/api/v1/tasks", "GET, POST"), (.put, "/api/v1/tasks", "GET, POST"), (.options, "/api/v1/tasks", "GET, POST"),
        (.patch, "/api/v1/tasks/abc", "DELETE, GET"), (.post, "/health", "GET"), (.delete, "/health/ready", "GET"), (.post, "/metrics", "GET"),
    ])
    func undeclaredMethodIs405WithAllow(_ method: HTTPRequest.Method, _ path: String, _ allow: String) async throws {
        try await self.application().test(.router) { client in
            let reply = try await client.call(method, path)
            #expect(reply.status == 405)
            #expect(reply.headers[.allow] == allow)
            #expect(reply.headers[.contentType] == "application/problem+json")
            let problem = try reply.problem()
            #expect(problem.code == "method_not_allowed")
            #expect(problem.instance == path)
            #expect(problem.requestID == reply.headers[.init("X-Request-ID")!])
        }
    }

    @Test func unknownPathsAndMissingRecordsStay404() async throws {
        try await self.application().test(.router) { client in
            let unknown = try await client.call(.get, "/api/v1/nothing-here")
            #expect(unknown.status == 404)
            #expect(unknown.headers[.allow] == nil)
            let unknownTrace = try await client.call(.trace, "/api/v1/nothing-here")
            #expect(unknownTrace.status == 404)
            // The handler matched and said 404 itself: that is about the record, not the method.
            let missing = try await client.call(.get, "/api/v1/tasks/abc")
            #expect(missing.status == 404)
            #expect(missing.headers[.allow] == nil)
            let list = try await client.call(.get, "/api/v1/tasks")
            #expect(list.status == 200)
        }
    }

    @Test func credentialsAreCheckedBeforeTheMethod() async throws {
        try await self.application().test(.router) { client in
            let reply = try await client.call(.trace, "/api/v1/tasks", apiKey: nil)
            #expect(reply.status == 401)
        }
    }
}
