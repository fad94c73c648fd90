public import Hummingbird

/// A page request from `limit` and `offset` query parameters, with `limit` clamped to `MAX_PAGE_SIZE`.
public struct PageRequest: Sendable, Equatable {
    /// Items per page (1...maxPageSize).
    public var limit: Int
    /// Items to skip.
    public var offset: Int

    /// The largest offset accepted; deeper pages should use a cursor.
    public static let maximumOffset = 100_000

    /// Creates a page request directly.
    public init(limit: Int, offset: Int) {
        self.limit = limit
        self.offset = offset
    }

    /// Parses `limit` (default `defaultLimit`, clamped to `maxPageSize`) and `offset` (default 0).
    /// Non-numeric or negative values are a 400 problem rather than being silently ignored.
    public init(query: [String: String], maxPageSize: Int, defaultLimit: Int = 20) throws {
        var limit = min(defaultLimit, maxPageSize)
        if let raw = query["limit"] {
            guard let value = Int(raw), value >= 1 else { throw APIError.badRequest("limit must be a positive integer.", code: "invalid_query") }
            limit = min(value, maxPageSize)
        }
        var offset = 0
        if let raw = query["offset"] {
            guard let value = Int(raw), value >= 0, value <= Self.maximumOffset else {
                throw APIError.badRequest("offset must be an integer between 0 and \(Self.maximumOffset).", code: "invalid_query")
            }
            offset = value
        }
        self.init(limit: limit, offset: offset)
    }

    /// Parses the request's query string.
    public init(request: Request, maxPageSize: Int, defaultLimit: Int = 20) throws {
        try self.init(query: request.queryDictionary, maxPageSize: maxPageSize, defaultLimit: defaultLimit)
    }
}

/// One page of results in the shape every list endpoint returns.
public struct Page<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    /// The items.
    public var items: [Item]
    /// Total matching items.
    public var total: Int
    /// The limit applied.
    public var limit: Int
    /// The offset applied.
    public var offset: Int

    /// Creates a page.
    public init(items: [Item], total: Int, request: PageRequest) {
        self.items = items
        self.total = total
        self.limit = request.limit
        self.offset = request.offset
    }
}

extension Request {
    /// The query string as a dictionary; for a repeated key the last value wins.
    public var queryDictionary: [String: String] {
        var query: [String: String] = [:]
        for (key, value) in self.uri.queryParameters { query[String(key)] = String(value) }
        return query
    }
}
