public import Logging

/// A log handler that keeps its metadata in a plain dictionary and renders it only when it writes a line.
public protocol StoredMetadataLogHandler: LogHandler {
    /// Handler-level metadata.
    var metadata: Logger.Metadata { get set }
}

extension StoredMetadataLogHandler {
    /// Reads or writes one metadata key.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }
}
