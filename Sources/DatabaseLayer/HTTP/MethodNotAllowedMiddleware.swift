import NIOConcurrencyHelpers
// SPI: the router's own trie type, so a path resolves here exactly as it does in the router (same precedence of
// constants over captures and wildcards). Pinned with Hummingbird 2.28; a rename breaks the build, not behaviour.
@_spi(Internal) import Hummingbird

/// Answers `405 method_not_allowed` with an `Allow` header when a route matches the path but not the method.
///
/// Hummingbird's router answers 404 for both an unknown path and a known path with an undeclared method; RFC 9110
/// asks for 405 and `Allow` in the second case. Only the router's own "not found" is rewritten: a handler that
/// throws 404 for a missing record keeps it.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    let routes: RouteMethodTable

    func handle(
        _ request: Request, context: ServiceRequestContext, next: (Request, ServiceRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == RouteMethodTable.notFoundEndpoint {
            guard let (template, allowed) = self.routes.methods(forPath: request.uri.path), !allowed.contains(request.method) else {
                throw error
            }
            // The metrics label is the route template rather than the catch-all "NotFound".
            context.coreContext.endpointPath.value = template
            let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            var problem = Problem(
                status: .methodNotAllowed, code: "method_not_allowed",
                detail: "\(request.method.rawValue) is not supported on this path; use \(allow).")
            problem.instance = request.uri.path
            problem.requestID = context.requestID
            var response = problem.response(retryAfter: nil)
            response.headers[.allow] = allow
            return response
        }
    }
}

/// The methods declared for each route template of one router, read from the router once all routes are in.
///
/// A service adds its routes after ``ServiceRuntime/makeRouter()`` has installed the middleware, so the table
/// cannot be built up front; it is built on the first lookup, after which the router reference is dropped (the
/// router holds the middleware that holds this table, so keeping it would be a reference cycle).
final class RouteMethodTable: @unchecked Sendable {
    /// The endpoint path Hummingbird's `NotFoundResponder` records when no route matched.
    static let notFoundEndpoint = "NotFound"

    // @unchecked: both properties are only touched under `lock`; the router is only read, once the server is
    // running and no more routes can be added.
    private let lock = NIOLock()
    private var router: Router<ServiceRequestContext>?
    private var trie: RouterTrie<Endpoint>?

    struct Endpoint: Sendable {
        var template: String
        var methods: [HTTPRequest.Method]
    }

    init(router: Router<ServiceRequestContext>) {
        self.router = router
    }

    /// The matching route template and its methods, or nil when no route matches the path.
    func methods(forPath path: String) -> (template: String, methods: [HTTPRequest.Method])? {
        let trie = self.lock.withLock {
            if let trie = self.trie { return trie }
            let builder = RouterPathTrieBuilder<Endpoint>()
            for (template, routes) in Dictionary(grouping: self.router?.routes ?? [], by: \.path.description) {
                builder.addEntry(routes[0].path, value: Endpoint(template: template, methods: routes.map(\.method)))
            }
            let trie = builder.build()
            self.trie = trie
            self.router = nil
            return trie
        }
        return trie.resolve(path).map { ($0.value.template, $0.value.methods) }
    }
}
