import Foundation
import HTTPTypes
import DatabaseLayer
import Hummingbird

/// Seed 000's auth rows: login, refresh and logout under `/api/v1/auth`.
struct AuthRoutes: Sendable {
    let manager: UserManager

    /// The routes, relative to `/api/v1/auth`.
    var collection: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post("/login", use: self.login)
        routes.post("/refresh", use: self.refresh)
        routes.post("/logout", use: self.logout)
        return routes
    }

    /// `POST /login`: a token pair, or the one 401 every failure gets.
    @Sendable func login(_ request: Request, context: ServiceRequestContext) async throws -> TokenPair {
        let body = try await request.decodeJSONBody(as: LoginRequest.self, context: context, rules: LoginRequest.rules)
        return try await self.manager.login(try body.validated(contextTenant: context.tenant), client: Self.clientAddress(request, context: context))
    }

    /// `POST /refresh`: the next pair of the same login.
    @Sendable func refresh(_ request: Request, context: ServiceRequestContext) async throws -> TokenPair {
        let body = try await request.decodeJSONBody(as: RefreshRequest.self, context: context, rules: RefreshRequest.rules)
        return try await self.manager.refresh(body.refreshToken)
    }

    /// `POST /logout`: 204.
    @Sendable func logout(_ request: Request, context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decodeJSONBody(as: LogoutRequest.self, context: context, rules: LogoutRequest.rules)
        try await self.manager.logout(refreshToken: body.refreshToken, caller: context.caller)
        return .noContent
    }

    /// The address failures are counted against: the first `X-Forwarded-For` hop when a service (the gateway)
    /// forwards the login, since the peer is then the gateway; otherwise the peer. Anything that is not a plain
    /// IP literal is counted as `unknown` rather than becoming part of a Redis key.
    static func clientAddress(_ request: Request, context: ServiceRequestContext) -> String {
        if context.caller == .service, let forwarded = request.headers[.xForwardedFor] {
            let first = forwarded.split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return Self.isAddress(first) ? first.lowercased() : "unknown"
        }
        return context.remoteAddress.flatMap { Self.isAddress($0) ? $0 : nil } ?? "unknown"
    }

    private static func isAddress(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 45
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte) || byte == 0x2E || byte == 0x3A
            }
    }
}

extension TokenPair: ResponseEncodable {}

extension HTTPField.Name {
    /// `X-Forwarded-For`.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
