import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// A connection a ``ConnectionPool`` can hold. Implementations wrap a blocking C handle.
public protocol PooledConnection: AnyObject, Sendable {
    /// Cheap, non-blocking check run before an idle connection is handed out; false means "discard and replace".
    var isReusable: Bool { get }
    /// Releases the connection; may block briefly.
    func close()
}

/// What a pool looks like right now (for `/metrics` gauges).
public struct ConnectionPoolStatistics: Sendable, Equatable {
    /// Open connections sitting in the pool.
    public var idle: Int
    /// Connections handed to callers (or being opened for one).
    public var inUse: Int
    /// Callers waiting for a connection.
    public var waiting: Int
}

/// A bounded pool of blocking connections, whose work runs on a dedicated thread pool, never on a NIO event loop.
///
/// At most `maximumConnections` connections exist at once; callers beyond that wait in FIFO order until a
/// connection is returned or `acquisitionTimeout` passes, which fails with ``DatabaseError/Code/unavailable``.
/// Idle connections are checked with ``PooledConnection/isReusable`` before reuse, and a connection left
/// unusable by a failed operation is closed, so dropped connections are replaced transparently.
public final class ConnectionPool<Connection: PooledConnection>: Sendable {
    /// How a waiter is released.
    private enum Handoff {
        case connection(Connection)
        /// A slot was freed and reserved for this waiter: it opens a new connection.
        case openNew
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Handoff, any Error>
    }

    private struct State {
        var idle: [Connection] = []
        /// Connections open or being opened, idle ones included.
        var open = 0
        var waiters: Deque<Waiter> = []
        var nextWaiterID: UInt64 = 0
        var isShutDown = false
    }

    private enum LeaseAction {
        case reuse(Connection)
        case openNew
        case wait
        case fail
    }

    private let state = Mutex(State())
    private let factory: @Sendable () throws -> Connection
    /// Runs the blocking C calls; one thread per connection so a holder never waits for a thread.
    private let threadPool: NIOThreadPool
    private let timerLoop: any EventLoop
    /// The configuration the pool was created with.
    public let configuration: ConnectionPoolConfiguration
    /// Backend label for errors and metrics (`postgres`, `redis`).
    public let backend: String
    private let onWait: @Sendable (Duration) -> Void

    /// Creates a pool; `factory` opens one connection (it blocks and runs on the pool's threads).
    /// - Parameters:
    ///   - backend: label used in error messages and metrics.
    ///   - configuration: sizing and acquisition timeout.
    ///   - onWait: called with how long each lease waited (for `db_pool_wait_seconds`).
    ///   - factory: opens a connection or throws a ``DatabaseError``.
    public init(
        backend: String, configuration: ConnectionPoolConfiguration, onWait: @escaping @Sendable (Duration) -> Void = { _ in },
        factory: @escaping @Sendable () throws -> Connection
    ) {
        self.backend = backend
        self.configuration = configuration
        self.factory = factory
        self.onWait = onWait
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.maximumConnections)
        self.threadPool.start()
        self.timerLoop = MultiThreadedEventLoopGroup.singleton.any()
    }

    /// Current counts.
    public var statistics: ConnectionPoolStatistics {
        self.state.withLock { state in
            ConnectionPoolStatistics(idle: state.idle.count, inUse: state.open - state.idle.count, waiting: state.waiters.count)
        }
    }

    /// Leases a connection, runs `body` with it on the pool's threads, and returns the connection.
    public func withConnection<Result: Sendable>(_ body: @escaping @Sendable (Connection) throws -> Result) async throws -> Result {
        let connection = try await self.lease()
        do {
            let result = try await self.threadPool.runIfActive { try body(connection) }
            self.release(connection)
            return result
        } catch {
            self.release(connection)
            throw error
        }
    }

    /// Opens connections until `minimumConnections` are idle; failures are left for the first lease to report.
    public func prewarm() async {
        for _ in 0..<self.configuration.minimumConnections {
            let shouldOpen = self.state.withLock { state -> Bool in
                guard !state.isShutDown, state.open < self.configuration.minimumConnections else { return false }
                state.open += 1
                return true
            }
            guard shouldOpen else { return }
            do {
                let connection = try await self.threadPool.runIfActive { try self.factory() }
                self.release(connection)
            } catch {
                self.discardSlot()
                return
            }
        }
    }

    /// Fails every waiter, closes idle connections and stops the thread pool once borrowed connections return.
    public func shutdown() async {
        let (idle, waiters) = self.state.withLock { state in
            state.isShutDown = true
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
            }
            state.open -= state.idle.count
            return (state.idle, Array(state.waiters))
        }
        for waiter in waiters { waiter.continuation.resume(throwing: self.shutDownError) }
        for connection in idle { connection.close() }
        try? await self.threadPool.shutdownGracefully()
    }

    // MARK: Leasing

    private func lease() async throws -> Connection {
        let start = ContinuousClock.now
        let deadline = NIODeadline.now() + .nanoseconds(Int64(self.configuration.acquisitionTimeout.nanoseconds))
        while true {
            let action = self.state.withLock { state -> LeaseAction in
                if state.isShutDown { return .fail }
                if let connection = state.idle.popLast() { return .reuse(connection) }
                if state.open < self.configuration.maximumConnections {
                    state.open += 1
                    return .openNew
                }
                return .wait
            }
            let handoff: Handoff
            switch action {
            case .fail: throw self.shutDownError
            case .reuse(let connection): handoff = .connection(connection)
            case .openNew: handoff = .openNew
            case .wait: handoff = try await self.waitForHandoff(deadline: deadline)
            }
            switch handoff {
            case .connection(let connection):
                if connection.isReusable {
                    self.onWait(ContinuousClock.now - start)
                    return connection
                }
                // Dead while idle (server restart, pg_terminate_backend): drop it and go round again.
                self.discard(connection)
            case .openNew:
                let connection = try await self.openReserved()
                self.onWait(ContinuousClock.now - start)
                return connection
            }
        }
    }

    /// Opens a connection for a slot already counted in `open`; gives the slot back on failure.
    private func openReserved() async throws -> Connection {
        do {
            return try await self.threadPool.runIfActive { try self.factory() }
        } catch {
            self.discardSlot()
            throw error
        }
    }

    private func waitForHandoff(deadline: NIODeadline) async throws -> Handoff {
        guard deadline > .now() else { throw self.timeoutError }
        let id = self.state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timer = NIOLockedValueBox<Scheduled<Void>?>(nil)
        defer { timer.withLockedValue { $0?.cancel() } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Handoff, any Error>) in
                let enqueued = self.state.withLock { state -> Bool in
                    guard !state.isShutDown else { return false }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return true
                }
                guard enqueued else {
                    continuation.resume(throwing: self.shutDownError)
                    return
                }
                // Armed only once the waiter is queued, so the timeout can never miss it.
                let scheduled = self.timerLoop.scheduleTask(deadline: deadline) { self.failWaiter(id: id, with: self.timeoutError) }
                timer.withLockedValue { $0 = scheduled }
                // The cancellation handler may have run before the waiter was queued.
                if Task.isCancelled { self.failWaiter(id: id, with: CancellationError()) }
            }
        } onCancel: {
            self.failWaiter(id: id, with: CancellationError())
        }
    }

    /// Resumes waiter `id` with `error` if it is still waiting; whoever removes a waiter resumes it, exactly once.
    private func failWaiter(id: UInt64, with error: any Error) {
        let waiter = self.state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    // MARK: Returning

    private func release(_ connection: Connection) {
        guard connection.isReusable else {
            self.discard(connection)
            return
        }
        let waiter = self.state.withLock { state -> Waiter? in
            if state.isShutDown {
                state.open -= 1
                return nil
            }
            if let waiter = state.waiters.popFirst() { return waiter }
            state.idle.append(connection)
            return nil
        }
        if let waiter {
            waiter.continuation.resume(returning: .connection(connection))
        } else if self.state.withLock({ $0.isShutDown }) {
            connection.close()
        }
    }

    /// Closes `connection` and frees (or hands over) its slot.
    private func discard(_ connection: Connection) {
        connection.close()
        self.discardSlot()
    }

    /// Frees one slot; a waiter, if any, inherits it and opens its own connection.
    private func discardSlot() {
        let waiter = self.state.withLock { state -> Waiter? in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .openNew)
    }

    private var timeoutError: DatabaseError {
        DatabaseError(
            .unavailable, "No \(self.backend) connection became available in time.",
            debugDetails: "pool acquisition timeout after \(self.configuration.acquisitionTimeout)"
        )
    }

    private var shutDownError: DatabaseError {
        DatabaseError(.unavailable, "The \(self.backend) pool is shut down.")
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? Int64.max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
