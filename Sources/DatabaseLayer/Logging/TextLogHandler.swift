import Foundation
public import Logging

/// Human-readable lines on stdout (`LOG_FORMAT=text`, the default): time, level, label, metadata, source, message.
///
/// It replaces swift-log's `StreamLogHandler`, which renders all of its metadata to a string again on every metadata
/// change. Every request sets its ids on the logger, so that rendering ran on every request even when nothing was
/// logged: 5 % of a GET's mallocs (docs/performance.md). Here metadata is rendered only when a line is written.
public struct TextLogHandler: StoredMetadataLogHandler {
    /// The logger label.
    public let label: String
    /// Minimum level.
    public var logLevel: Logger.Level = .info
    /// Handler-level metadata.
    public var metadata: Logger.Metadata = [:]

    /// Creates a handler.
    public init(label: String) { self.label = label }

    /// Writes one line.
    public func log(event: LogEvent) {
        FileHandle.standardOutput.write(Data(Self.line(event: event, label: self.label, metadata: self.metadata, at: Date()).utf8))
    }

    /// `2026-12-03T14:18:46.123Z warning task-repo-service: key=value … [DatabaseLayer] message`, keys sorted.
    static func line(event: LogEvent, label: String, metadata: Logger.Metadata, at date: Date) -> String {
        let merged = event.metadata.map { metadata.merging($0) { _, new in new } } ?? metadata
        var line = ISO8601.format(date) + " " + event.level.rawValue + " " + label + ":"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " " + key + "=" + value.description
        }
        return line + " [" + event.source + "] " + event.message.description + "\n"
    }
}
