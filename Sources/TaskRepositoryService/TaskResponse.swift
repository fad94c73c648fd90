import DatabaseLayer
import Hummingbird

/// A task as clients see it: the stored ``TaskItem`` without `attempts_remaining`, and with `claim_token` only
/// in the claimer's own answers (claim and heartbeat), so reading or listing tasks never hands out the right to
/// finish one.
///
/// It wraps the item rather than repeating its fields, and encodes it selectively, so a field added to
/// ``TaskItem`` reaches clients without a second edit.
struct TaskResponse: ResponseEncodable, Sendable {
    /// The task.
    var task: TaskItem
    /// Whether this answer goes to the task's holder.
    var includesClaimToken: Bool

    /// Wraps `task`; pass `includesClaimToken` only for claim and heartbeat.
    init(_ task: TaskItem, includesClaimToken: Bool = false) {
        self.task = task
        self.includesClaimToken = includesClaimToken
    }

    /// Fields stored for the server's own use, never shown.
    static let hiddenKeys: Set<String> = [TaskItem.CodingKeys.attemptsRemaining.rawValue]

    /// Encodes the item's members minus the hidden ones. Going through ``JSONObject`` keeps dates as dates, so
    /// the response encoder (ISO 8601) formats them exactly as it formats every other date.
    func encode(to encoder: any Encoder) throws {
        var object = try JSONObject(encoding: self.task)
        for key in Self.hiddenKeys { object[key] = nil }
        if !self.includesClaimToken { object[TaskItem.CodingKeys.claimToken.rawValue] = nil }
        try object.encode(to: encoder)
    }
}
