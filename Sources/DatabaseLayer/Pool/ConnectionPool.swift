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
    private typealias StateMachine = ConnectionPoolStateMachine<Connection, LeaseRequest, ContinuousClock.Instant>
    private typealias Action = StateMachine.Action

    /// How a job gets its connection.
    private enum Handoff {
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
    private enum Job {
        case serve(LeaseRequest, Handoff)
        case close(Connection)
        case closeAll([Connection])
        /// Close these, then let ``shutdown()`` stop the threads: nothing holds a slot any more.
        case finishShutdown([Connection])
        case prewarm(count: Int)
    }

    private let state: Mutex<StateMachine>
    /// ``shutdown()`` callers waiting for the last slot to be given up; nil once it has been.
    ///
    /// `NIOThreadPool` drops work still queued when it stops, so the threads stop only after this.
    private let shutdownWaiters = Mutex<[CheckedContinuation<Void, Never>]?>([])
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

    // MARK: Actions

    /// Carries out the parts of `action` that never block; returns the blocking part as a job for the pool.
    private func execute(_ action: Action) -> Job? {
        switch action {
        case .none:
            return nil
        case .reuse(let connection, let request):
            return .serve(request, .idle(connection))
        case .handOff(let connection, let request):
            return .serve(request, .ready(connection))
        case .open(let request):
            return .serve(request, .open)
        case .close(let connection):
            return .close(connection)
        case .finishShutdown(let connection):
            return .finishShutdown(connection.map { [$0] } ?? [])
        case .closeAndOpen(let connection, let request):
            return .serve(request, .replace(connection))
        case .scheduleTimer(let deadline):
            self.armTimer(deadline: deadline)
            return nil
        case .fail(let request, let failure):
            request.fail(self.error(for: failure))
            return nil
        case .failTimedOut(let requests, let nextDeadline):
            let error = self.timeoutError
            for request in requests { request.fail(error) }
            if let nextDeadline { self.armTimer(deadline: nextDeadline) }
            return nil
        case .prewarm(let count):
            return .prewarm(count: count)
        case .shutdown(let failing, let closing, let isFinished):
            let error = self.shutDownError
            for request in failing { request.fail(error) }
            if isFinished { return .finishShutdown(closing) }
            return closing.isEmpty ? nil : .closeAll(closing)
        }
    }

    private func submit(_ job: Job) {
        self.threadPool.submit { state in
            switch state {
            case .active: self.run(job)
            case .cancelled: self.abandon(job)
            }
        }
    }

    /// Runs `job` on the pool and waits for it; for the cold paths (prewarm, shutdown).
    private func runToCompletion(_ job: Job) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            self.threadPool.submit { state in
                switch state {
                case .active: self.run(job)
                case .cancelled: self.abandon(job)
                }
                done.resume()
            }
        }
    }

    /// Runs `job` and every job it leads to on the calling thread, which must be one of the pool's.
    private func run(_ job: Job) {
        var next: Job? = job
        while let job = next {
            switch job {
            case .serve(let request, let handoff):
                next = self.serve(request, handoff)
            case .close(let connection):
                connection.close()
                next = nil
            case .closeAll(let connections):
                for connection in connections { connection.close() }
                next = nil
            case .finishShutdown(let connections):
                for connection in connections { connection.close() }
                self.resumeShutdownWaiters()
                next = nil
            case .prewarm(let count):
                self.openUnowned(count: count)
                next = nil
            }
        }
    }

    /// Gets `request` its connection, runs its body, releases the connection and resumes the caller.
    private func serve(_ request: LeaseRequest, _ handoff: Handoff) -> Job? {
        let connection: Connection
        do {
            connection = try self.connection(for: handoff)
        } catch {
            let action = self.state.withLock { $0.connectionOpenFailed() }
            request.fail(error)
            return self.execute(action)
        }
        self.onWait(ContinuousClock.now - request.start)
        let action = request.run(connection) { connection in
            let isReusable = connection.isReusable
            return self.state.withLock { $0.connectionReleased(connection, isReusable: isReusable) }
        }
        return self.execute(action)
    }

    private func connection(for handoff: Handoff) throws -> Connection {
        switch handoff {
        case .ready(let connection):
            return connection
        case .idle(let connection):
            if connection.isReusable { return connection }
            // Dead while idle (server restart, pg_terminate_backend): this lease keeps the slot and refills it.
            connection.close()
        case .replace(let connection):
            connection.close()
        case .open:
            break
        }
        return try self.factory()
    }

    /// Opens the connections reserved by ``prewarm()``, one after the other; the first failure frees the rest.
    private func openUnowned(count: Int) {
        for opened in 0..<count {
            do {
                guard !self.state.withLock({ $0.isShutDown }) else { throw self.shutDownError }
                let connection = try self.factory()
                let action = self.state.withLock { $0.connectionOpened(connection) }
                if let job = self.execute(action) { self.run(job) }
            } catch {
                for _ in opened..<count {
                    let action = self.state.withLock { $0.connectionOpenFailed() }
                    if let job = self.execute(action) { self.run(job) }
                }
                return
            }
        }
    }

    /// Gives back what `job` held if the thread pool refused it; a safety net, since ``shutdown()`` stops the
    /// threads only after every slot is given up, so no job of ours should be queued then.
    ///
    /// There is no pool thread left, so a connection is closed on the calling thread (NIO's shutdown queue).
    private func abandon(_ job: Job) {
        switch job {
        case .serve(let request, let handoff):
            let action: Action
            switch handoff {
            case .idle(let connection), .ready(let connection), .replace(let connection):
                action = self.state.withLock { $0.connectionReleased(connection, isReusable: false) }
            case .open:
                action = self.state.withLock { $0.connectionOpenFailed() }
            }
            request.fail(self.shutDownError)
            if let next = self.execute(action) { self.abandon(next) }
        case .close(let connection):
            connection.close()
        case .closeAll(let connections):
            for connection in connections { connection.close() }
        case .finishShutdown(let connections):
            for connection in connections { connection.close() }
            self.resumeShutdownWaiters()
        case .prewarm(let count):
            for _ in 0..<count {
                let action = self.state.withLock { $0.connectionOpenFailed() }
                if let next = self.execute(action) { self.abandon(next) }
            }
        }
    }

    private func resumeShutdownWaiters() {
        let waiters = self.shutdownWaiters.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    private func armTimer(deadline: ContinuousClock.Instant) {
        let delay = ContinuousClock.now.duration(to: deadline)
        self.timerLoop.scheduleTask(in: .nanoseconds(max(0, delay.nanoseconds))) { [weak self] in
            self?.timerFired()
        }
    }

    /// Runs on the timer's event loop: it only resumes continuations, it never blocks.
    private func timerFired() {
        let action = self.state.withLock { $0.timerFired(now: .now) }
        if let job = self.execute(action) { self.submit(job) }
    }

    private func cancel(_ request: LeaseRequest) {
        let action = self.state.withLock { $0.leaseCancelled(request.id) }
        if let job = self.execute(action) { self.submit(job) }
    }

    // MARK: Requests

    /// One `withConnection` call, type-erased so the state machine can queue calls with different result types.
    ///
    /// `@unchecked Sendable`: `continuation` is written once, before the request is published under the lock, and
    /// read only by whoever then takes the request out of the state machine, which resumes it exactly once.
    private class LeaseRequest: Identifiable, @unchecked Sendable {
        /// When the caller asked; the acquisition timeout and `onWait` count from here.
        let start: ContinuousClock.Instant

        init(start: ContinuousClock.Instant) { self.start = start }

        /// Runs the body with `connection`, then `release`s it, then resumes the caller; returns what `release` returned.
        func run(_ connection: Connection, release: (Connection) -> Action) -> Action { fatalError("abstract") }

        /// Resumes the caller with `error`.
        func fail(_ error: any Error) { fatalError("abstract") }
    }

    private final class TypedLeaseRequest<Value: Sendable>: LeaseRequest, @unchecked Sendable {
        let body: @Sendable (Connection) throws -> Value
        var continuation: UnsafeContinuation<Value, any Error>?

        init(start: ContinuousClock.Instant, body: @escaping @Sendable (Connection) throws -> Value) {
            self.body = body
            super.init(start: start)
        }

        override func run(_ connection: Connection, release: (Connection) -> Action) -> Action {
            let result = Swift.Result { try self.body(connection) }
            // Released before the caller resumes, so a caller that reads `statistics` next sees its connection back.
            let action = release(connection)
            self.continuation!.resume(with: result)
            return action
        }

        override func fail(_ error: any Error) {
            self.continuation!.resume(throwing: error)
        }
    }

    // MARK: Errors

    private func error(for failure: StateMachine.Failure) -> any Error {
        switch failure {
        case .timedOut: self.timeoutError
        case .cancelled: CancellationError()
        case .shutDown: self.shutDownError
        }
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
