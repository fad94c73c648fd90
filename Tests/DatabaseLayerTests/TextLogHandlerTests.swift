import Foundation
import Logging
import Testing

@testable import DatabaseLayer

/// The text log line: what it holds and in which order, since the metadata is now rendered only when a line is written.
@Suite struct TextLogHandlerTests {
    static let noon = Date(timeIntervalSince1970: 1_796_299_200.25)

    static func event(_ message: Logger.Message, metadata: Logger.Metadata? = nil) -> LogEvent {
        LogEvent(level: .warning, message: message, metadata: metadata, source: "DatabaseLayer", file: #fileID, function: #function, line: 1)
    }

    @Test func lineHoldsTimeLevelLabelSortedMetadataSourceAndMessage() {
        let line = TextLogHandler.line(
            event: Self.event("pool exhausted", metadata: ["b": "2", "a": "event"]), label: "task-repo-service",
            metadata: ["request_id": "r-1", "a": "handler"], at: Self.noon)
        #expect(line == "2026-12-03T12:00:00.250Z warning task-repo-service: a=event b=2 request_id=r-1 [DatabaseLayer] pool exhausted\n")
    }

    @Test func lineWithoutMetadata() {
        let line = TextLogHandler.line(event: Self.event("ready"), label: "svc", metadata: [:], at: Self.noon)
        #expect(line == "2026-12-03T12:00:00.250Z warning svc: [DatabaseLayer] ready\n")
    }

    @Test func metadataIsKeptPerCopy() {
        var handler = TextLogHandler(label: "svc")
        handler[metadataKey: "request_id"] = "r-1"
        var copy = handler
        copy[metadataKey: "request_id"] = "r-2"
        #expect(handler[metadataKey: "request_id"] == "r-1")
        #expect(copy.metadata == ["request_id": "r-2"])
    }
}
