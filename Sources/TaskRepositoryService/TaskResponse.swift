import DatabaseLayer
import Hummingbird

/// A task as clients see it: the stored ``TaskItem`` without `attempts_remaining`, and with `claim_token` only
/// in the claimer's own answers (claim and heartbeat), so reading or listing tasks never hands out the right to
/// finish one.
///
/// It wraps the item rather than repeating its fields, and encodes it selectively (``OmittingKeys``), so a field
/// added to ``TaskItem`` reaches clients without a second edit.
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
    /// What answers to anyone but the holder also hide.
    static let hiddenForOthers: Set<String> = hiddenKeys.union([TaskItem.CodingKeys.claimToken.rawValue])

    /// Encodes the item's own members minus the hidden ones, straight into the response encoder.
    func encode(to encoder: any Encoder) throws {
        try OmittingKeys(self.task, omitting: self.includesClaimToken ? Self.hiddenKeys : Self.hiddenForOthers).encode(to: encoder)
    }
}
