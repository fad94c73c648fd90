@testable import DatabaseLayer
import Foundation
import Synchronization
import Testing

/// The name of the calling thread; `NIOThreadPool` names its threads `TP-#<n>`.
private func currentThreadName() -> String {
    #if os(Linux)
    // Glibc's module map hides pthread_getname_np (it needs _GNU_SOURCE); the kernel has the same name here.
    let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
    return name.trimmingCharacters(in: .newlines)
    #else
    var buffer = [CChar](repeating: 0, count: 64)
    _ = pthread_getname_np(pthread_self(), &buffer, buffer.count)
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    #endif
}

/// A connection that records every `close()` and the thread it ran on.
final class RecordingConnection: PooledConnection, Sendable {
    let id: Int
    let alive = Mutex(true)
    let closes = Mutex<[String]>([])
    init(id: Int) { self.id = id }
    var isReusable: Bool { self.alive.withLock { $0 } }
    func close() { self.closes.withLock { $0.append(currentThreadName()) } }
    var closeThreads: [String] { self.closes.withLock { $0 } }
}

final class RecordingFactory: Sendable {
    private let made = Mutex<[RecordingConnection]>([])
    func make() -> RecordingConnection {
        self.made.withLock { made in
            let connection = RecordingConnection(id: made.count + 1)
            made.append(connection)
            return connection
        }
    }
    var connections: [RecordingConnection] { self.made.withLock { $0 } }
}

@Suite struct ConnectionPoolClosingTests {
    @Test func everyDiscardedConnectionIsClosedOnceOnAPoolThread() async throws {
        let factory = RecordingFactory()
        let pool = ConnectionPool(backend: "mock", configuration: .init(minimumConnections: 0, maximumConnections: 1)) { factory.make() }
        // Left unusable by its operation: closed when it comes back.
        try await pool.withConnection { $0.alive.withLock { $0 = false } }
        // Died while idle: closed and replaced by the next lease.
        let idle = try await pool.withConnection { $0 }
        idle.alive.withLock { $0 = false }
        #expect(try await pool.withConnection { $0.id } == 3)
        // Still idle at shutdown.
        await pool.shutdown()

        let connections = factory.connections
        #expect(connections.count == 3)
        for connection in connections {
            #expect(connection.closeThreads.count == 1, "connection \(connection.id) closed exactly once")
            #expect(connection.closeThreads.allSatisfy { $0.hasPrefix("TP-#") }, "closed on \(connection.closeThreads)")
        }
    }

    @Test func connectionReturnedAfterShutdownIsClosedOnAPoolThread() async throws {
        let factory = RecordingFactory()
        let pool = ConnectionPool(
            backend: "mock", configuration: .init(minimumConnections: 0, maximumConnections: 1, acquisitionTimeout: .seconds(30))
        ) { factory.make() }
        let gate = DispatchSemaphore(value: 0)
        let holder = Task { try await pool.withConnection { _ in gate.wait() } }
        while factory.connections.isEmpty { await Task.yield() }
        let waiter = Task { try await pool.withConnection { _ in } }
        while pool.statistics.waiting == 0 { await Task.yield() }

        let shutdown = Task { await pool.shutdown() }
        do {
            try await waiter.value
            Issue.record("the waiter should fail when the pool shuts down")
        } catch let error as DatabaseError {
            #expect(error.code == .unavailable)
        }
        #expect(factory.connections.first?.closeThreads == [], "a leased connection stays open until it comes back")
        gate.signal()
        try await holder.value
        await shutdown.value

        #expect(factory.connections.count == 1)
        #expect(factory.connections.first?.closeThreads.count == 1)
        #expect(factory.connections.first?.closeThreads.allSatisfy { $0.hasPrefix("TP-#") } == true)
        await #expect(throws: DatabaseError.self) { try await pool.withConnection { _ in } }
    }

    @Test func prewarmOpensTheMinimumOnce() async throws {
        let factory = RecordingFactory()
        let pool = ConnectionPool(backend: "mock", configuration: .init(minimumConnections: 2, maximumConnections: 3)) { factory.make() }
        await pool.prewarm()
        await pool.prewarm()
        #expect(factory.connections.count == 2)
        #expect(pool.statistics == ConnectionPoolStatistics(idle: 2, inUse: 0, waiting: 0))
        await pool.shutdown()
        #expect(factory.connections.allSatisfy { $0.closeThreads.count == 1 })
    }
}
