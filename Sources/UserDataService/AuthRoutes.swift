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
        return try await self.manager.login(try body.validated(contextTenant: context.tenant), client: request.clientAddress(context: context))
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
}

extension TokenPair: ResponseEncodable {}
