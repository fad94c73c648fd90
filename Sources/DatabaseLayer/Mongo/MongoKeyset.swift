/// A MongoDB sort order that lists can page through by keyset (``PageCursor``) instead of by offset.
///
/// The last key must be unique (an id), so the order is total and a page boundary is never ambiguous.
public struct MongoKeyset: Sendable {
    /// One sort key.
    public struct Key: Sendable {
        /// The document field.
        public var field: String
        /// Ascending (1) or descending (-1).
        public var ascending: Bool

        /// Creates a key.
        public init(_ field: String, ascending: Bool = true) {
            self.field = field
            self.ascending = ascending
        }
    }

    /// The keys, most significant first.
    public var keys: [Key]

    /// Creates a keyset order.
    public init(_ keys: [Key]) { self.keys = keys }

    /// The `sort` document.
    public var sort: JSONObject { JSONObject(self.keys.map { ($0.field, .int($0.ascending ? 1 : -1)) }) }

    /// The cursor of `document`: its values of the sort keys (absent fields as null).
    public func cursor(of document: JSONObject) -> PageCursor {
        PageCursor(values: self.keys.map { document[$0.field] ?? .null })
    }

    /// `filter`, narrowed to the documents that sort after `cursor`.
    ///
    /// The "after" condition is an `$or` of one branch per key (`k1 > v1`, `k1 = v1 and k2 > v2`, …). The
    /// equalities of `filter` are repeated inside every branch rather than placed beside the `$or`: nx-27017
    /// 0.8.1 drops the parentheses of a top-level `$or` that stands beside other fields (DESIGN §6), and the
    /// repeated form means the same on real MongoDB. A `filter` that has its own `$or` is combined with `$and`.
    /// - Throws: `400 invalid_cursor` when the cursor does not have one value per key.
    public func filter(_ filter: JSONObject, after cursor: PageCursor?) throws(APIError) -> JSONObject {
        guard let cursor else { return filter }
        guard cursor.values.count == self.keys.count else {
            throw APIError.badRequest("cursor must be the next value of a previous page of this list.", code: "invalid_cursor")
        }
        var branches: [JSONObject] = []
        for index in self.keys.indices {
            var branch = JSONObject()
            for earlier in 0..<index { branch[self.keys[earlier].field] = ["$eq": cursor.values[earlier]] }
            let key = self.keys[index]
            branch[key.field] = [key.ascending ? "$gt" : "$lt": cursor.values[index]]
            branches.append(branch)
        }
        if filter["$or"] != nil {
            return ["$and": [.object(filter), ["$or": .array(branches.map(JSONValue.object))]]]
        }
        return ["$or": .array(branches.map { branch in
            var combined = filter
            for (field, condition) in branch { combined[field] = Self.merge(combined[field], condition) }
            return .object(combined)
        })]
    }

    /// Combines two conditions on one field (`{$eq: a}` from the scope and `{$gt: b}` from the cursor).
    private static func merge(_ existing: JSONValue?, _ added: JSONValue) -> JSONValue {
        guard let existing else { return added }
        var object: JSONObject
        if case .object(let operators) = existing, operators.keys.allSatisfy({ $0.hasPrefix("$") }) {
            object = operators
        } else {
            object = ["$eq": existing]
        }
        if case .object(let extra) = added {
            for (key, value) in extra { object[key] = value }
        }
        return .object(object)
    }
}
