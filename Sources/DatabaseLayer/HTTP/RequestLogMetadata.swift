public import Logging
import Synchronization

/// Metadata for the one request line that ``RequestLoggingMiddleware`` writes, filled in further along the chain.
///
/// Middleware hands each inner layer a modified copy of the context, so a logger change made inside (the tenant)
/// never reaches the outer layer that logs the request. Every copy of a ``ServiceRequestContext`` shares this one
/// reference instead, and the request line reads it when the response is back.
public final class RequestLogMetadata: Sendable {
    private let values = Mutex<Logger.Metadata>([:])

    /// Creates an empty set.
    public init() {}

    /// One value by key; setting nil removes it.
    public subscript(key: String) -> Logger.MetadataValue? {
        get { self.values.withLock { $0[key] } }
        set { self.values.withLock { $0[key] = newValue } }
    }

    /// Everything added so far.
    public var metadata: Logger.Metadata { self.values.withLock { $0 } }
}
