import NIOCore
import NIOPosix
import Synchronization

/// A connection a ``ConnectionPool`` can hold. Implementations wrap a blocking C handle.
public protocol PooledConnection: AnyObject, Sendable {
    /// Cheap, non-blocking check run before an idle connection is handed out; false means "discard and replace".
    var isReusable: Bool { get }
    /// Releases the C handle; the pool calls it once, on its blocking threads. A second call must do nothing.
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
///
/// The decisions live in ``ConnectionPoolStateMachine``; this class only runs the actions it returns, outside the
/// lock. A lease takes the lock once, and its whole life (open or check, body, release) is one job on the thread
/// pool: a released connection goes straight to the next waiter's job on the same thread.
public final class ConnectionPool<Connection: PooledConnection>: Sendable {
    typealias StateMachine = ConnectionPoolStateMachine<Connection, LeaseRequest, ContinuousClock.Instant>
    typealias Action = StateMachine.Action

    /// How a job gets its connection.
    enum Handoff {
        /// Popped from the idle stack: probe it, replace it if dead.
        case idle(Connection)
        /// Just released or opened, so just probed.
        case ready(Connection)
        /// Dead: close it and open a fresh one in its slot.
        case replace(Connection)
        /// A reserved slot with no connection yet.
        case open
    }

    /// Blocking work for a thread of the pool.
    enum Job {
        case serve(LeaseRequest, Handoff)
        case close(Connection)
        case closeAll([Connection])
        /// Close these, then let ``shutdown()`` stop the threads: nothing holds a slot any more.
        case finishShutdown([Connection])
        case prewarm(count: Int)
    }

    let state: Mutex<StateMachine>
    /// ``shutdown()`` callers waiting for the last slot to be given up; nil once it has been.
    ///
    /// `NIOThreadPool` drops work still queued when it stops, so the threads stop only after this.
    let shutdownWaiters = Mutex<[CheckedContinuation<Void, Never>]?>([])
    let factory: @Sendable () throws -> Connection
    /// Runs the blocking C calls; one thread per connection so a holder never waits for a thread.
    let threadPool: NIOThreadPool
    let timerLoop: any EventLoop
    /// The configuration the pool was created with.
    public let configuration: ConnectionPoolConfiguration
    /// Backend label for errors and metrics (`postgres`, `redis`).
    public let backend: String
    let onWait: @Sendable (Duration) -> Void

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
        self.state = Mutex(
            StateMachine(
                minimumConnections: configuration.minimumConnections, maximumConnections: configuration.maximumConnections,
                acquisitionTimeout: configuration.acquisitionTimeout
            )
        )
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.maximumConnections)
        self.threadPool.start()
        self.timerLoop = MultiThreadedEventLoopGroup.singleton.any()
    }

    /// Current counts.
    public var statistics: ConnectionPoolStatistics {
        self.state.withLock { $0.statistics }
    }

    /// Leases a connection, runs `body` with it on the pool's threads, and returns the connection.
    public func withConnection<Result: Sendable>(_ body: @escaping @Sendable (Connection) throws -> Result) async throws -> Result {
        let request = TypedLeaseRequest(start: .now, body: body)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                request.continuation = continuation
                let action = self.state.withLock { $0.leaseRequested(request, now: request.start) }
                if let job = self.execute(action) {
                    self.submit(job)
                } else if Task.isCancelled {
                    // Cancelled before it was queued, so the cancellation handler found nothing to remove.
                    self.cancel(request)
                }
            }
        } onCancel: {
            self.cancel(request)
        }
    }

    /// Opens connections until `minimumConnections` are idle; failures are left for the first lease to report.
    public func prewarm() async {
        let action = self.state.withLock { $0.prewarm() }
        guard let job = self.execute(action) else { return }
        await self.runToCompletion(job)
    }

    /// Fails every waiter, closes idle connections and stops the thread pool once borrowed connections return.
    public func shutdown() async {
        let action = self.state.withLock { $0.shutdown() }
        if let job = self.execute(action) { await self.runToCompletion(job) }
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let isFinished = self.shutdownWaiters.withLock { waiters in
                waiters?.append(finished)
                return waiters == nil
            }
            if isFinished { finished.resume() }
        }
        try? await self.threadPool.shutdownGracefully()
    }
}
