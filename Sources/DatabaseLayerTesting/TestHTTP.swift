public import DatabaseLayer
import Foundation
public import Hummingbird
public import HummingbirdTesting
import NIOCore
import Testing

/// The API key every service under test is started with.
public let testAPIKey = "integration-test-key"

/// Environment for a service under test: the test key, quiet logs, loopback on a free port, the test Redis.
public func testServiceEnvironment(_ extra: [String: String]) -> ServiceEnvironment {
    var values = ["API_KEY": testAPIKey, "LOG_LEVEL": "warning", "HOST": "127.0.0.1", "PORT": "0"]
    if let redis = ProcessInfo.processInfo.environment["TEST_REDIS_URL"] { values["REDIS_URL"] = redis }
    return ServiceEnvironment(values.merging(extra) { $1 })
}

/// One HTTP answer, with its body parsed as JSON (an empty object when there is no body).
public struct TestReply: Sendable {
    /// The status code.
    public var status: Int
    /// Response headers.
    public var headers: HTTPFields
    /// The body as an ordered JSON object.
    public var json: JSONObject
    /// The raw body.
    public var body: String

    /// A member of the body.
    public subscript(key: String) -> JSONValue? { self.json[key] }
    /// The problem `code`, for error answers.
    public var code: String? { self.json["code"]?.stringValue }
    /// The `items` of a list page.
    public var items: [JSONObject] { self.json["items"]?.arrayValue?.compactMap(\.objectValue) ?? [] }
    /// The `next` cursor of a list page.
    public var next: String? { self.json["next"]?.stringValue }

    /// Decodes the body as `T` (ISO 8601 dates).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = ISO8601.decodingStrategy
        return try decoder.decode(T.self, from: Data(self.body.utf8))
    }

    /// The body as a problem; records an issue when the content type is not `application/problem+json`.
    public func problem() throws -> Problem {
        try JSONDecoder().decode(Problem.self, from: Data(self.body.utf8))
    }
}

extension TestClientProtocol {
    /// Sends one request with the test API key (unless `apiKey` is nil), an optional tenant and a JSON body.
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - path: path and query.
    ///   - tenant: sent as `X-Tenant-ID`.
    ///   - body: a JSON value to send.
    ///   - rawBody: text to send as it is (malformed JSON tests).
    ///   - apiKey: the key to send; nil sends none.
    ///   - headers: extra headers.
    public func call(
        _ method: HTTPRequest.Method, _ path: String, tenant: String? = nil, body: JSONValue? = nil, rawBody: String? = nil,
        apiKey: String? = testAPIKey, headers extra: HTTPFields = [:]
    ) async throws -> TestReply {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let apiKey { headers[.init("X-API-Key")!] = apiKey }
        if let tenant { headers[.init("X-Tenant-ID")!] = tenant }
        for field in extra { headers[field.name] = field.value }
        let text = rawBody ?? body?.jsonString
        return try await self.execute(uri: path, method: method, headers: headers, body: text.map { ByteBuffer(string: $0) }) { response in
            let body = String(buffer: response.body)
            let object = body.isEmpty ? JSONObject() : ((try? JSONValue(jsonText: body))?.objectValue ?? JSONObject())
            return TestReply(status: Int(response.status.code), headers: response.headers, json: object, body: body)
        }
    }

    /// Waits until `/health/ready` answers 200 (startup work such as index creation has finished), up to `timeout`.
    public func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await self.execute(uri: "/health/ready", method: .get) { $0.status }
            if status == .ok { return }
            guard ContinuousClock.now < deadline else { throw TestServiceNotReady(timeout: timeout) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A service under test did not become ready in time.
public struct TestServiceNotReady: Error, CustomStringConvertible {
    /// How long the test waited.
    public var timeout: Duration
    /// Explains the failure.
    public var description: String { "/health/ready did not answer 200 within \(self.timeout)" }
}

/// The body of an error response as a problem, after checking its content type.
public func decodeProblem(_ response: TestResponse) throws -> Problem {
    #expect(response.headers[.contentType] == "application/problem+json")
    return try JSONDecoder().decode(Problem.self, from: Data(response.body.readableBytesView))
}

extension ApplicationProtocol {
    /// Runs `body` against the application once it is ready (startup work done).
    public func testWhenReady<Value: Sendable>(
        _ setup: TestingSetup = .router, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        try await self.test(setup) { client in
            try await client.waitUntilReady()
            return try await body(client)
        }
    }
}
