import Foundation
import DatabaseLayer
import Hummingbird

/// Seed 000's user rows: `/api/v1/users` and the preferences of one user. Handlers decode, call
/// ``UserManager`` and encode; the rules are in the manager.
struct UserRoutes: Sendable {
    let manager: UserManager
    /// `MAX_PAGE_SIZE`.
    let maxPageSize: Int

    /// The routes, relative to `/api/v1/users`.
    var collection: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post(use: self.create)
        routes.get(use: self.list)
        routes.get("/:user_id", use: self.get)
        routes.put("/:user_id", use: self.update)
        routes.delete("/:user_id", use: self.delete)
        routes.get("/:user_id/preferences", use: self.preferences)
        routes.put("/:user_id/preferences", use: self.replacePreferences)
        return routes
    }

    /// `POST /`: 201 with the user (never its hash).
    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> EditedResponse<User> {
        let body = try await request.decodeJSONBody(as: CreateUserRequest.self, context: context, rules: CreateUserRequest.rules)
        return EditedResponse(status: .created, response: try await self.manager.create(body, caller: context.caller, tenant: context.tenant))
    }

    /// `GET /`: one page, ordered by creation.
    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> Page<User> {
        let page = try PageRequest(request: request, maxPageSize: self.maxPageSize)
        return try await self.manager.list(caller: context.caller, tenant: context.tenant, page: page)
    }

    /// `GET /{user_id}`.
    @Sendable func get(_ request: Request, context: ServiceRequestContext) async throws -> User {
        try await self.manager.get(try Self.userID(context), caller: context.caller, tenant: context.tenant)
    }

    /// `PUT /{user_id}`.
    @Sendable func update(_ request: Request, context: ServiceRequestContext) async throws -> User {
        let id = try Self.userID(context)
        let body = try await request.decodeJSONBody(as: UpdateUserRequest.self, context: context, rules: UpdateUserRequest.rules)
        return try await self.manager.update(id, body, caller: context.caller, tenant: context.tenant)
    }

    /// `DELETE /{user_id}`: 204.
    @Sendable func delete(_ request: Request, context: ServiceRequestContext) async throws -> HTTPResponse.Status {
        try await self.manager.delete(try Self.userID(context), caller: context.caller, tenant: context.tenant)
        return .noContent
    }

    /// `GET /{user_id}/preferences`.
    @Sendable func preferences(_ request: Request, context: ServiceRequestContext) async throws -> PreferencesResponse {
        let id = try Self.userID(context)
        return PreferencesResponse(userID: id, preferences: try await self.manager.preferences(id, caller: context.caller, tenant: context.tenant))
    }

    /// `PUT /{user_id}/preferences`: replaces the whole set.
    @Sendable func replacePreferences(_ request: Request, context: ServiceRequestContext) async throws -> PreferencesResponse {
        let id = try Self.userID(context)
        let body = try await request.decodeJSONBody(as: PreferencesRequest.self, context: context, rules: PreferencesRequest.rules)
        let stored = try await self.manager.replacePreferences(id, body.preferences, caller: context.caller, tenant: context.tenant)
        return PreferencesResponse(userID: id, preferences: stored)
    }

    private static func userID(_ context: ServiceRequestContext) throws(UserError) -> UUID {
        try UserValidation.userID(context.parameters.get("user_id"))
    }
}

/// `{"user_id": …, "preferences": {…}}`.
struct PreferencesResponse: ResponseEncodable, Sendable {
    var userID: UUID
    var preferences: JSONObject

    /// The wire names.
    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case preferences
    }

    /// The id in lowercase, as every id this service prints.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.userID.lowercasedText, forKey: .userID)
        try container.encode(self.preferences, forKey: .preferences)
    }
}

extension User: ResponseEncodable {}
