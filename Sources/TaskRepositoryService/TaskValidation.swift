import DatabaseLayer
import Foundation

/// Limits on what a client can store in one task.
enum TaskLimits {
    static let priority = -1_000...1_000
    static let maxAttempts = 1...100
    static let leaseSeconds = 1...3_600
    static let maxTags = 32
    /// In Unicode code points, as JSON Schema's `maxLength` counts (the API description states the limit so).
    static let maxTagLength = 256
    static let maxTextLength = 128
    /// The `error` text of fail, in Unicode code points.
    static let errorLength = 1...4_096
}

/// Value checks shared by the request types; each failure is a ``TaskError`` naming the field.
///
/// Body shape (unknown and server-owned keys, `$`/`.` keys, depth) is checked earlier by ``JSONBodyRules``;
/// these are the task-specific ranges and formats.
enum TaskValidation {
    /// `task_type`, `worker_id`, `idempotency_key`, tag filters: 1-128 printable ASCII without spaces.
    static func identifier(_ value: String, field: String) throws(TaskError) -> String {
        let bytes = value.utf8
        guard (1...TaskLimits.maxTextLength).contains(bytes.count), bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidInput("\(field) must be 1-\(TaskLimits.maxTextLength) printable ASCII characters without spaces.")
        }
        return value
    }

    /// A lease length in range.
    static func leaseSeconds(_ value: Int) throws(TaskError) -> Int { try self.value(value, in: TaskLimits.leaseSeconds, field: "lease_seconds") }
    /// A priority in range.
    static func priority(_ value: Int) throws(TaskError) -> Int { try self.value(value, in: TaskLimits.priority, field: "priority") }
    /// An attempt limit in range.
    static func maxAttempts(_ value: Int) throws(TaskError) -> Int { try self.value(value, in: TaskLimits.maxAttempts, field: "max_attempts") }

    /// `value` when it lies in `range`, else an error naming the field and the range.
    private static func value(_ value: Int, in range: ClosedRange<Int>, field: String) throws(TaskError) -> Int {
        guard range.contains(value) else { throw .invalidInput("\(field) must be between \(range.lowerBound) and \(range.upperBound).") }
        return value
    }

    /// Tags: at most 32, names usable as MongoDB field names (they are queried as `tags.<name>`), short values.
    static func tags(_ tags: [String: String]) throws(TaskError) -> [String: String] {
        guard tags.count <= TaskLimits.maxTags else { throw .invalidInput("tags may hold at most \(TaskLimits.maxTags) entries.") }
        for (key, value) in tags {
            guard MongoName.isValidCollectionName(key), key.utf8.count <= 64 else {
                throw .invalidInput("tag names must be 1-64 letters, digits or underscores, not starting with a digit.")
            }
            guard value.unicodeScalars.count <= TaskLimits.maxTagLength else {
                throw .invalidInput("tag values may be at most \(TaskLimits.maxTagLength) characters.")
            }
        }
        return tags
    }

    /// The `{task_id}` path segment as a lowercase UUID.
    static func taskID(_ raw: String) throws(TaskError) -> String {
        guard let uuid = UUID(text: raw) else { throw .invalidTaskID }
        return uuid.lowercasedText
    }

    /// A claim token as claim hands it out (a lowercase UUID).
    static func claimToken(_ raw: String) throws(TaskError) -> String {
        guard UUID(text: raw) != nil else { throw .invalidClaimToken }
        return raw.lowercased()
    }
}
