import Foundation
public import Logging

/// One JSON object per line on stdout (`LOG_FORMAT=json`), for log shippers.
public struct JSONLogHandler: StoredMetadataLogHandler {
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
        var object: JSONObject = [
            "timestamp": .string(ISO8601.format(Date())), "level": .string(event.level.rawValue), "logger": .string(self.label),
            "message": .string(event.message.description),
        ]
        let merged = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { object[key] = .string(value.description) }
        FileHandle.standardOutput.write(Data((object.jsonString + "\n").utf8))
    }
}
