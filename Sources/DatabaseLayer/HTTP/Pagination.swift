import Foundation
public import Hummingbird

/// A page request from the `limit` and `cursor` query parameters, with `limit` clamped to `MAX_PAGE_SIZE`.
///
/// Lists are keyset-paginated: `cursor` is the opaque `next` of the previous page. Keyset pages cost the same at
/// any depth and do not skip or repeat items when rows are inserted between two pages, which offsets would.
public struct PageRequest: Sendable, Equatable {
    /// Items per page (1...maxPageSize).
    public var limit: Int
    /// Where the previous page ended; nil for the first page.
    public var cursor: PageCursor?

    /// Creates a page request directly.
    public init(limit: Int, cursor: PageCursor? = nil) {
        self.limit = limit
        self.cursor = cursor
    }

    /// Parses `limit` (default `defaultLimit`; values above `maxPageSize` are clamped to it) and `cursor`.
    /// A non-numeric or non-positive limit, or a cursor this service did not issue, is a 400 problem.
    public init(query: [String: String], maxPageSize: Int, defaultLimit: Int = 20) throws(APIError) {
        var limit = min(defaultLimit, maxPageSize)
        if let raw = query["limit"] {
            guard let value = Int(raw), value >= 1 else { throw APIError.badRequest("limit must be a positive integer.", code: "invalid_query") }
            limit = min(value, maxPageSize)
        }
        var cursor: PageCursor?
        if let raw = query["cursor"] {
            guard let parsed = PageCursor(token: raw) else {
                throw APIError.badRequest("cursor must be the next value of a previous page.", code: "invalid_cursor")
            }
            cursor = parsed
        }
        self.init(limit: limit, cursor: cursor)
    }

    /// Parses the request's query string.
    public init(request: Request, maxPageSize: Int, defaultLimit: Int = 20) throws(APIError) {
        try self.init(query: request.queryDictionary, maxPageSize: maxPageSize, defaultLimit: defaultLimit)
    }
}

/// The sort-key values of the last item of a page, as an opaque URL-safe token.
///
/// The token is base64url of a JSON array; dates travel as `{"$date": ms}` so they compare as dates again.
/// It carries no authority: the repository still applies the caller's tenant scope to every page.
public struct PageCursor: Sendable, Equatable {
    /// Longest token accepted, so a client cannot make the service parse megabytes.
    public static let maximumTokenLength = 1024

    /// One value per sort key, in sort-key order.
    public var values: [JSONValue]

    /// Creates a cursor from sort-key values (strings, numbers, booleans, dates or null).
    public init(values: [JSONValue]) { self.values = values }

    /// Parses a token; nil when it is not one this type produced.
    public init?(token: String) {
        guard !token.isEmpty, token.utf8.count <= Self.maximumTokenLength,
            token.utf8.allSatisfy({ Self.isBase64URL($0) })
        else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let value = try? JSONValue(jsonText: text), case .array(let values) = value, !values.isEmpty,
            values.allSatisfy(Self.isScalar)
        else { return nil }
        self.values = values
    }

    /// The token clients send back as `cursor`.
    public var token: String {
        let wire = JSONValue.array(self.values.map { value in
            if case .date(let date) = value { return ["$date": .int(Int64((date.timeIntervalSince1970 * 1000).rounded()))] }
            return value
        })
        return Data(wire.jsonString.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
    }

    private static func isScalar(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .array: false
        default: true
        }
    }
}

/// One page of results: the shape every list endpoint of every service returns.
///
/// `{"items": [...], "limit": 20, "next": "<cursor>"}`; `next` is null on the last page.
public struct Page<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    /// The items, in the list's order.
    public var items: [Item]
    /// The limit applied (after clamping).
    public var limit: Int
    /// The cursor of the next page, or nil when this is the last one.
    public var next: String?

    /// Creates a page from the rows a repository read.
    ///
    /// Repositories read `limit + 1` rows: the extra row only proves that another page exists, so `next` is never
    /// an empty page's cursor.
    /// - Parameters:
    ///   - rows: up to `request.limit + 1` items, in order.
    ///   - request: the page request.
    ///   - cursor: the sort-key values of an item.
    public init(rows: [Item], request: PageRequest, cursor: (Item) -> PageCursor) {
        let hasMore = rows.count > request.limit
        self.items = hasMore ? Array(rows.prefix(request.limit)) : rows
        self.limit = request.limit
        self.next = hasMore ? self.items.last.map { cursor($0).token } : nil
    }

    /// Creates a page directly.
    public init(items: [Item], limit: Int, next: String?) {
        self.items = items
        self.limit = limit
        self.next = next
    }

    enum CodingKeys: String, CodingKey {
        case items, limit, next
    }

    /// Encodes `next` as an explicit null on the last page, so clients can test it without a key check.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.items, forKey: .items)
        try container.encode(self.limit, forKey: .limit)
        try container.encode(self.next, forKey: .next)
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
