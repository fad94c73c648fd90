import Foundation
import Synchronization
import Testing

@testable import DatabaseLayer

/// A connection that counts how many are open at once and can be marked dead.
final class MockConnection: PooledConnection, @unchecked Sendable {
    let id: Int
    let alive = Mutex(true)
    init(id: Int) { self.id = id }
    var isReusable: Bool { self.alive.withLock { $0 } }
    func close() {}
}

final class MockFactory: Sendable {
    let state = Mutex((created: 0, failNext: false))
    func make() throws -> MockConnection {
        try self.state.withLock { state in
            if state.failNext {
                state.failNext = false
                throw DatabaseError(.unavailable, "down")
            }
            state.created += 1
            return MockConnection(id: state.created)
        }
    }
    var created: Int { self.state.withLock { $0.created } }
}

/// Tracks how many holders run at once.
final class PeakCounter: Sendable {
    private let state = Mutex((current: 0, peak: 0))
    func enter() {
        self.state.withLock {
            $0.current += 1; $0.peak = max($0.peak, $0.current)
        }
    }
    func leave() { self.state.withLock { $0.current -= 1 } }
    var peak: Int { self.state.withLock { $0.peak } }
}

@Suite struct ConnectionPoolTests {
    @Test func neverExceedsMaximumUnderConcurrency() async throws {
        let factory = MockFactory()
        let pool = ConnectionPool(
            backend: "mock", configuration: .init(minimumConnections: 0, maximumConnections: 3, acquisitionTimeout: .seconds(10))
        ) {
            try factory.make()
        }
        let inUse = PeakCounter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try await pool.withConnection { _ in
                        inUse.enter()
                        usleep(500)
                        inUse.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(inUse.peak <= 3)
        #expect(factory.created <= 3)
        #expect(pool.statistics == ConnectionPoolStatistics(idle: factory.created, inUse: 0, waiting: 0))
        await pool.shutdown()
    }

    @Test func waiterTimesOutWithUnavailable() async throws {
        let factory = MockFactory()
        let pool = ConnectionPool(
            backend: "mock", configuration: .init(minimumConnections: 0, maximumConnections: 1, acquisitionTimeout: .milliseconds(100))
        ) {
            try factory.make()
        }
        let holder = Task { try await pool.withConnection { _ in _ = usleep(600_000) } }
        try await Task.sleep(for: .milliseconds(50))
        let start = ContinuousClock.now
        await #expect(throws: DatabaseError.self) { try await pool.withConnection { _ in } }
        #expect(ContinuousClock.now - start < .milliseconds(500))
        do {
            try await pool.withConnection { _ in }
        } catch let error as DatabaseError {
            #expect(error.code == .unavailable)
        }
        try await holder.value
        #expect(pool.statistics.waiting == 0)
        await pool.shutdown()
    }

    @Test func deadIdleConnectionIsReplaced() async throws {
        let factory = MockFactory()
        let pool = ConnectionPool(backend: "mock", configuration: .init(minimumConnections: 0, maximumConnections: 1)) { try factory.make() }
        let first = try await pool.withConnection { $0 }
        first.alive.withLock { $0 = false }
        let second = try await pool.withConnection { $0.id }
        #expect(second != first.id)
        #expect(factory.created == 2)
        await pool.shutdown()
    }

    @Test func failedOpenFreesTheSlot() async throws {
        let factory = MockFactory()
        let pool = ConnectionPool(backend: "mock", configuration: .init(minimumConnections: 0, maximumConnections: 1)) { try factory.make() }
        factory.state.withLock { $0.failNext = true }
        await #expect(throws: DatabaseError.self) { try await pool.withConnection { _ in } }
        #expect(try await pool.withConnection { $0.id } == 1)
        await pool.shutdown()
    }

    @Test func cancelledWaiterLeavesTheQueue() async throws {
        let pool = ConnectionPool(
            backend: "mock", configuration: .init(minimumConnections: 0, maximumConnections: 1, acquisitionTimeout: .seconds(30))
        ) {
            MockConnection(id: 1)
        }
        // The holder blocks on a gate the test opens, not on a timer, so a slow machine cannot reorder the steps.
        let gate = DispatchSemaphore(value: 0)
        let holder = Task { try await pool.withConnection { _ in gate.wait() } }
        try await Self.waitUntil { pool.statistics.inUse == 1 }
        let waiter = Task { try await pool.withConnection { _ in } }
        try await Self.waitUntil { pool.statistics.waiting == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(pool.statistics.waiting == 0)
        gate.signal()
        try await holder.value
        await pool.shutdown()
    }

    /// Polls `condition` until it holds; fails the test after 10 s instead of hanging.
    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not reached within 10 s")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
