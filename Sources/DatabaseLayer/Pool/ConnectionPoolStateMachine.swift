import DequeModule

/// The bookkeeping of ``ConnectionPool``: every event is a mutating method that returns what the pool must do next.
///
/// It holds no lock, starts no thread and never reads a clock (the caller passes `now`), so one `Mutex` in the
/// pool guards it and tests can drive it step by step with a manual clock. Invariants kept by every event:
/// a waiter exists only while no connection is idle and all `maximumConnections` slots are taken, so a new
/// lease never overtakes the queue; and while waiters exist, one timer is armed for a deadline no later than the
/// oldest waiter's. Because every waiter gets the same timeout, the queue is ordered by deadline and that single
/// timer serves all of them.
struct ConnectionPoolStateMachine<Connection, Request: Identifiable, Instant: InstantProtocol> where Instant.Duration == Duration {
    /// Why a request ends without a connection.
    enum Failure: Sendable, Hashable {
        /// No connection became free within the acquisition timeout.
        case timedOut
        /// The waiting task was cancelled.
        case cancelled
        /// The pool was shut down.
        case shutDown
    }

    /// What the pool must do after an event; every case is carried out outside the lock.
    enum Action {
        /// Nothing to do (a connection was parked, or a request queued while a timer is already armed).
        case none
        /// `request` takes this idle connection; check that it is still reusable first and replace it if not.
        case reuse(Connection, by: Request)
        /// The oldest waiter takes a connection that was just released or opened (and so just checked).
        case handOff(Connection, to: Request)
        /// `request` owns a newly reserved slot and opens its own connection in it.
        case open(for: Request)
        /// Close this connection; its slot is already given up.
        case close(Connection)
        /// The pool is shut down and its last slot was just given up: close `closing`, if any, then stop the threads.
        case finishShutdown(closing: Connection?)
        /// Close this unusable connection; its slot passes to the oldest waiter, which opens a fresh one.
        case closeAndOpen(Connection, for: Request)
        /// A request was queued and no timer is armed: arm one for `deadline` and report ``timerFired(now:)``.
        case scheduleTimer(deadline: Instant)
        /// End `request` with `failure`.
        case fail(Request, Failure)
        /// End these waiters with ``Failure/timedOut``, then arm the next timer if `nextDeadline` is set.
        case failTimedOut([Request], nextDeadline: Instant?)
        /// Open `count` connections with no owner, reporting each as ``connectionOpened(_:)`` or ``connectionOpenFailed()``.
        case prewarm(count: Int)
        /// End every waiter with ``Failure/shutDown`` and close the idle connections; when `isFinished`, no slot is
        /// left in use and the threads can stop, otherwise a later ``finishShutdown(closing:)`` says when.
        case shutdown(failing: [Request], closing: [Connection], isFinished: Bool)
    }

    fileprivate struct Waiter {
        var request: Request
        var deadline: Instant
    }

    let minimumConnections: Int
    let maximumConnections: Int
    let acquisitionTimeout: Duration

    /// A stack: the connection used last is handed out first, while its server-side caches are warm.
    private var idle: [Connection] = []
    /// Slots taken: idle connections, leased ones, and those being opened.
    private(set) var openCount = 0
    private var waiters: Deque<Waiter> = []
    /// The deadline of the one armed timer, if any.
    private(set) var armedDeadline: Instant?
    private(set) var isShutDown = false

    /// Creates an empty pool; `maximumConnections` is at least 1 and `minimumConnections` at most that.
    init(minimumConnections: Int, maximumConnections: Int, acquisitionTimeout: Duration) {
        self.maximumConnections = max(1, maximumConnections)
        self.minimumConnections = min(max(0, minimumConnections), self.maximumConnections)
        self.acquisitionTimeout = acquisitionTimeout
        self.idle.reserveCapacity(self.maximumConnections)
    }

    /// Current counts.
    var statistics: ConnectionPoolStatistics {
        ConnectionPoolStatistics(idle: self.idle.count, inUse: self.openCount - self.idle.count, waiting: self.waiters.count)
    }

    /// A caller wants a connection; `now` starts its acquisition timeout if it has to wait.
    mutating func leaseRequested(_ request: Request, now: Instant) -> Action {
        if self.isShutDown { return .fail(request, .shutDown) }
        if let connection = self.idle.popLast() { return .reuse(connection, by: request) }
        if self.openCount < self.maximumConnections {
            self.openCount += 1
            return .open(for: request)
        }
        guard self.acquisitionTimeout > .zero else { return .fail(request, .timedOut) }
        let deadline = now.advanced(by: self.acquisitionTimeout)
        self.waiters.append(Waiter(request: request, deadline: deadline))
        guard self.armedDeadline == nil else { return .none }
        self.armedDeadline = deadline
        return .scheduleTimer(deadline: deadline)
    }

    /// A leased connection came back; `isReusable` is the caller's fresh ``PooledConnection/isReusable`` probe.
    mutating func connectionReleased(_ connection: Connection, isReusable: Bool) -> Action {
        assert(self.openCount > 0, "released a connection the pool did not count")
        if self.isShutDown {
            self.openCount -= 1
            return self.openCount == 0 ? .finishShutdown(closing: connection) : .close(connection)
        }
        if let waiter = self.waiters.popFirst() {
            return isReusable ? .handOff(connection, to: waiter.request) : .closeAndOpen(connection, for: waiter.request)
        }
        if isReusable {
            self.idle.append(connection)
            return .none
        }
        self.openCount -= 1
        return .close(connection)
    }

    /// A connection opened for ``prewarm()`` (one with no owner yet) is ready.
    mutating func connectionOpened(_ connection: Connection) -> Action {
        self.connectionReleased(connection, isReusable: true)
    }

    /// Opening a connection failed; its slot goes to the oldest waiter, which tries again, or is freed.
    mutating func connectionOpenFailed() -> Action {
        assert(self.openCount > 0, "a slot failed to open that the pool did not reserve")
        if let waiter = self.waiters.popFirst() { return .open(for: waiter.request) }
        self.openCount -= 1
        return self.isShutDown && self.openCount == 0 ? .finishShutdown(closing: nil) : .none
    }

    /// The armed timer went off at `now`: waiters whose deadline has passed fail, and the next timer is armed.
    mutating func timerFired(now: Instant) -> Action {
        self.armedDeadline = nil
        var expired: [Request] = []
        while let first = self.waiters.first, first.deadline <= now {
            expired.append(first.request)
            self.waiters.removeFirst()
        }
        self.armedDeadline = self.waiters.first?.deadline
        if !expired.isEmpty { return .failTimedOut(expired, nextDeadline: self.armedDeadline) }
        return self.armedDeadline.map { .scheduleTimer(deadline: $0) } ?? .none
    }

    /// The task behind request `id` was cancelled; it leaves the queue if it is still waiting.
    mutating func leaseCancelled(_ id: Request.ID) -> Action {
        guard let index = self.waiters.firstIndex(where: { $0.request.id == id }) else { return .none }
        return .fail(self.waiters.remove(at: index).request, .cancelled)
    }

    /// Reserves the slots needed to reach `minimumConnections`.
    mutating func prewarm() -> Action {
        guard !self.isShutDown, self.openCount < self.minimumConnections else { return .none }
        let count = self.minimumConnections - self.openCount
        self.openCount += count
        return .prewarm(count: count)
    }

    /// Stops the pool: waiters fail, idle connections close now, and leased ones (or those being opened) when they
    /// come back; the pool's threads may stop only once the last of those is given up.
    mutating func shutdown() -> Action {
        guard !self.isShutDown else { return .none }
        self.isShutDown = true
        let failing = self.waiters.map(\.request)
        let closing = self.idle
        self.waiters.removeAll()
        self.idle.removeAll()
        self.openCount -= closing.count
        return .shutdown(failing: failing, closing: closing, isFinished: self.openCount == 0)
    }
}

extension ConnectionPoolStateMachine: Sendable where Connection: Sendable, Request: Sendable {}

extension ConnectionPoolStateMachine.Waiter: Sendable where Connection: Sendable, Request: Sendable {}

extension ConnectionPoolStateMachine.Action: Sendable where Connection: Sendable, Request: Sendable {}

extension ConnectionPoolStateMachine.Action: Equatable where Connection: Equatable, Request: Equatable {}
