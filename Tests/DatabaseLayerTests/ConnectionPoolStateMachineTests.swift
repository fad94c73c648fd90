@testable import DatabaseLayer
import Testing

/// A clock that moves only when a test says so, so timeouts are tested without sleeping.
struct ManualClock {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Self { Instant(offset: self.offset + duration) }
        func duration(to other: Self) -> Duration { other.offset - self.offset }
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.offset < rhs.offset }
    }

    private(set) var now = Instant(offset: .zero)
    mutating func advance(by duration: Duration) { self.now = self.now.advanced(by: duration) }
}

struct TestConnection: Hashable { let id: Int }
struct TestRequest: Identifiable, Hashable { let id: Int }

private typealias Machine = ConnectionPoolStateMachine<TestConnection, TestRequest, ManualClock.Instant>

private func request(_ id: Int) -> TestRequest { TestRequest(id: id) }
private func connection(_ id: Int) -> TestConnection { TestConnection(id: id) }
private func machine(minimum: Int = 0, maximum: Int, timeout: Duration = .seconds(5)) -> Machine {
    Machine(minimumConnections: minimum, maximumConnections: maximum, acquisitionTimeout: timeout)
}
private func stats(idle: Int, inUse: Int, waiting: Int) -> ConnectionPoolStatistics {
    ConnectionPoolStatistics(idle: idle, inUse: inUse, waiting: waiting)
}

@Suite struct ConnectionPoolStateMachineTests {
    @Test func leaseOnEmptyPoolOpens() {
        var pool = machine(maximum: 2)
        let clock = ManualClock()
        #expect(pool.leaseRequested(request(1), now: clock.now) == .open(for: request(1)))
        #expect(pool.leaseRequested(request(2), now: clock.now) == .open(for: request(2)))
        #expect(pool.statistics == stats(idle: 0, inUse: 2, waiting: 0))
        #expect(pool.armedDeadline == nil)
    }

    @Test func leaseAtMaximumWaitsAndArmsOneTimer() {
        var pool = machine(maximum: 1)
        var clock = ManualClock()
        #expect(pool.leaseRequested(request(1), now: clock.now) == .open(for: request(1)))
        #expect(pool.leaseRequested(request(2), now: clock.now) == .scheduleTimer(deadline: clock.now.advanced(by: .seconds(5))))
        clock.advance(by: .seconds(1))
        #expect(pool.leaseRequested(request(3), now: clock.now) == .none, "one armed timer covers every waiter")
        #expect(pool.statistics == stats(idle: 0, inUse: 1, waiting: 2))
    }

    @Test func zeroTimeoutFailsInsteadOfWaiting() {
        var pool = machine(maximum: 1, timeout: .zero)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        #expect(pool.leaseRequested(request(2), now: clock.now) == .fail(request(2), .timedOut))
        #expect(pool.statistics.waiting == 0)
    }

    @Test func releaseHandsToTheOldestWaiter() {
        var pool = machine(maximum: 1)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        _ = pool.leaseRequested(request(3), now: clock.now)
        #expect(pool.connectionReleased(connection(1), isReusable: true) == .handOff(connection(1), to: request(2)))
        #expect(pool.connectionReleased(connection(1), isReusable: true) == .handOff(connection(1), to: request(3)))
        #expect(pool.connectionReleased(connection(1), isReusable: true) == .none)
        #expect(pool.statistics == stats(idle: 1, inUse: 0, waiting: 0))
        #expect(pool.leaseRequested(request(4), now: clock.now) == .reuse(connection(1), by: request(4)))
    }

    @Test func idleConnectionsAreReusedLastInFirstOut() {
        var pool = machine(maximum: 2)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        _ = pool.connectionReleased(connection(1), isReusable: true)
        _ = pool.connectionReleased(connection(2), isReusable: true)
        #expect(pool.leaseRequested(request(3), now: clock.now) == .reuse(connection(2), by: request(3)))
    }

    @Test func timeoutFailsExactlyThatWaiter() {
        var pool = machine(maximum: 1)
        var clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        #expect(pool.leaseRequested(request(2), now: clock.now) == .scheduleTimer(deadline: ManualClock.Instant(offset: .seconds(5))))
        clock.advance(by: .seconds(2))
        #expect(pool.leaseRequested(request(3), now: clock.now) == .none)

        // A timer that fires early (another clock's idea of time) fails nobody and re-arms.
        clock.advance(by: .seconds(2))
        #expect(pool.timerFired(now: clock.now) == .scheduleTimer(deadline: ManualClock.Instant(offset: .seconds(5))))

        clock.advance(by: .seconds(1))
        #expect(pool.timerFired(now: clock.now) == .failTimedOut([request(2)], nextDeadline: ManualClock.Instant(offset: .seconds(7))))
        #expect(pool.statistics == stats(idle: 0, inUse: 1, waiting: 1))
        #expect(pool.connectionReleased(connection(1), isReusable: true) == .handOff(connection(1), to: request(3)))

        // The timer armed for request 3 goes off after it was served: nothing left to do, nothing re-armed.
        clock.advance(by: .seconds(2))
        #expect(pool.timerFired(now: clock.now) == .none)
        #expect(pool.armedDeadline == nil)
        #expect(pool.leaseRequested(request(4), now: clock.now) == .scheduleTimer(deadline: clock.now.advanced(by: .seconds(5))))
    }

    @Test func timerFailsEveryExpiredWaiterAtOnce() {
        var pool = machine(maximum: 1)
        var clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        _ = pool.leaseRequested(request(3), now: clock.now)
        clock.advance(by: .seconds(9))
        #expect(pool.timerFired(now: clock.now) == .failTimedOut([request(2), request(3)], nextDeadline: nil))
        #expect(pool.statistics == stats(idle: 0, inUse: 1, waiting: 0))
    }

    @Test func cancelledWaiterLeavesTheQueue() {
        var pool = machine(maximum: 1)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        _ = pool.leaseRequested(request(3), now: clock.now)
        #expect(pool.leaseCancelled(request(2).id) == .fail(request(2), .cancelled))
        #expect(pool.leaseCancelled(request(2).id) == .none, "a request ends exactly once")
        #expect(pool.leaseCancelled(request(1).id) == .none, "a running lease is not cancelled")
        #expect(pool.connectionReleased(connection(1), isReusable: true) == .handOff(connection(1), to: request(3)))
    }

    @Test func unusableReleasedConnectionIsClosedAndItsSlotReopenedForAWaiter() {
        var pool = machine(maximum: 1)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        #expect(pool.connectionReleased(connection(1), isReusable: false) == .closeAndOpen(connection(1), for: request(2)))
        #expect(pool.statistics == stats(idle: 0, inUse: 1, waiting: 0))
        #expect(pool.connectionReleased(connection(2), isReusable: false) == .close(connection(2)))
        #expect(pool.statistics == stats(idle: 0, inUse: 0, waiting: 0))
        #expect(pool.leaseRequested(request(3), now: clock.now) == .open(for: request(3)))
    }

    @Test func openFailureFreesTheSlotAndTheNextWaiterOpens() {
        var pool = machine(maximum: 1)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        _ = pool.leaseRequested(request(3), now: clock.now)
        #expect(pool.connectionOpenFailed() == .open(for: request(2)))
        #expect(pool.statistics == stats(idle: 0, inUse: 1, waiting: 1))
        #expect(pool.connectionOpenFailed() == .open(for: request(3)))
        #expect(pool.connectionOpenFailed() == .none)
        #expect(pool.statistics == stats(idle: 0, inUse: 0, waiting: 0))
        #expect(pool.leaseRequested(request(4), now: clock.now) == .open(for: request(4)))
    }

    @Test func prewarmReservesTheMinimumAndParksWhatOpens() {
        var pool = machine(minimum: 2, maximum: 3)
        let clock = ManualClock()
        #expect(pool.prewarm() == .prewarm(count: 2))
        #expect(pool.statistics == stats(idle: 0, inUse: 2, waiting: 0))
        #expect(pool.prewarm() == .none, "slots being opened count towards the minimum")
        #expect(pool.connectionOpened(connection(1)) == .none)
        #expect(pool.connectionOpenFailed() == .none)
        #expect(pool.statistics == stats(idle: 1, inUse: 0, waiting: 0))
        #expect(pool.prewarm() == .prewarm(count: 1))
        #expect(pool.connectionOpened(connection(2)) == .none)
        #expect(pool.leaseRequested(request(1), now: clock.now) == .reuse(connection(2), by: request(1)))
    }

    @Test func prewarmedConnectionGoesToAWaiter() {
        var pool = machine(minimum: 1, maximum: 1)
        let clock = ManualClock()
        #expect(pool.prewarm() == .prewarm(count: 1))
        #expect(pool.leaseRequested(request(1), now: clock.now) == .scheduleTimer(deadline: clock.now.advanced(by: .seconds(5))))
        #expect(pool.connectionOpened(connection(1)) == .handOff(connection(1), to: request(1)))
    }

    @Test func shutdownFailsAllWaitersAndFinishesWhenTheLastSlotIsGivenUp() {
        var pool = machine(maximum: 2)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        _ = pool.leaseRequested(request(3), now: clock.now)
        _ = pool.leaseRequested(request(4), now: clock.now)
        #expect(pool.shutdown() == .shutdown(failing: [request(3), request(4)], closing: [], isFinished: false))
        #expect(pool.statistics == stats(idle: 0, inUse: 2, waiting: 0))
        #expect(pool.connectionReleased(connection(1), isReusable: true) == .close(connection(1)), "leased connections close on return")
        #expect(pool.leaseRequested(request(5), now: clock.now) == .fail(request(5), .shutDown))
        #expect(pool.connectionOpenFailed() == .finishShutdown(closing: nil), "the open for request 2 was the last slot")
        #expect(pool.statistics == stats(idle: 0, inUse: 0, waiting: 0))
        #expect(pool.timerFired(now: clock.now.advanced(by: .seconds(10))) == .none)
        #expect(pool.shutdown() == .none)
    }

    @Test func shutdownClosesIdleConnections() {
        var pool = machine(maximum: 2)
        let clock = ManualClock()
        _ = pool.leaseRequested(request(1), now: clock.now)
        _ = pool.leaseRequested(request(2), now: clock.now)
        _ = pool.connectionReleased(connection(1), isReusable: true)
        _ = pool.connectionReleased(connection(2), isReusable: true)
        #expect(pool.shutdown() == .shutdown(failing: [], closing: [connection(1), connection(2)], isFinished: true))
        #expect(pool.statistics == stats(idle: 0, inUse: 0, waiting: 0))
        #expect(pool.prewarm() == .none)
    }

    @Test func shutdownDuringPrewarmClosesWhatOpensLate() {
        var pool = machine(minimum: 2, maximum: 2)
        #expect(pool.prewarm() == .prewarm(count: 2))
        #expect(pool.connectionOpened(connection(1)) == .none)
        #expect(pool.shutdown() == .shutdown(failing: [], closing: [connection(1)], isFinished: false))
        #expect(pool.connectionOpened(connection(2)) == .finishShutdown(closing: connection(2)))
        #expect(pool.openCount == 0)
    }

    /// Random event sequences against a model of the pool: every request ends exactly once, slots never exceed the
    /// maximum, waiters exist only when nothing is free, one timer is armed while anyone waits, and nobody waits
    /// past their deadline once that timer has fired.
    @Test(arguments: 0..<25 as Range<UInt64>)
    func randomEventsKeepTheInvariants(seed: UInt64) {
        var model = PoolModel(seed: seed)
        for _ in 0..<400 { model.step() }
        model.finish()
    }
}

/// Drives a state machine with seeded random events and checks its actions against what a pool could do.
private struct PoolModel {
    let timeout = Duration.seconds(5)
    var pool: Machine
    var clock = ManualClock()
    var random: SplitMix64
    var leased: [TestConnection] = []
    /// Slots being opened: for a request, or unowned (prewarm).
    var opening: [TestRequest?] = []
    /// Requests in the state machine's queue, with when they joined it.
    var queuedAt: [Int: ManualClock.Instant] = [:]
    var ended: Set<Int> = []
    var timer: ManualClock.Instant?
    /// How often the machine said the shutdown is finished (exactly once by the end).
    var shutdownsFinished = 0
    var nextRequest = 0
    var nextConnection = 0

    init(seed: UInt64) {
        self.random = SplitMix64(state: seed)
        let maximum = Int.random(in: 1...4, using: &self.random)
        self.pool = machine(minimum: Int.random(in: 0...maximum, using: &self.random), maximum: maximum, timeout: self.timeout)
    }

    mutating func step() {
        switch Int.random(in: 0..<12, using: &self.random) {
        case 0..<4:
            self.nextRequest += 1
            let request = TestRequest(id: self.nextRequest)
            let action = self.pool.leaseRequested(request, now: self.clock.now)
            if action == .none || action == .scheduleTimer(deadline: self.clock.now.advanced(by: self.timeout)) {
                self.queuedAt[request.id] = self.clock.now
            }
            self.apply(action)
        case 4..<7 where !self.leased.isEmpty:
            let connection = self.leased.remove(at: Int.random(in: 0..<self.leased.count, using: &self.random))
            self.apply(self.pool.connectionReleased(connection, isReusable: Int.random(in: 0..<5, using: &self.random) > 0))
        case 7..<9 where !self.opening.isEmpty:
            let owner = self.opening.remove(at: Int.random(in: 0..<self.opening.count, using: &self.random))
            if Int.random(in: 0..<4, using: &self.random) == 0 {
                if let owner { self.end(owner) }
                self.apply(self.pool.connectionOpenFailed())
            } else {
                self.nextConnection += 1
                let connection = TestConnection(id: self.nextConnection)
                if let owner {
                    self.end(owner)
                    self.leased.append(connection)
                } else {
                    self.apply(self.pool.connectionOpened(connection))
                }
            }
        case 9:
            self.clock.advance(by: .milliseconds(Int64.random(in: 0...3000, using: &self.random)))
            if let timer = self.timer, timer <= self.clock.now {
                self.timer = nil
                self.apply(self.pool.timerFired(now: self.clock.now))
                for (id, queued) in self.queuedAt {
                    #expect(self.clock.now < queued.advanced(by: self.timeout), "request \(id) outlived its deadline")
                }
            }
        case 10:
            if let id = self.queuedAt.keys.sorted().randomElement(using: &self.random) { self.apply(self.pool.leaseCancelled(id)) }
        default:
            self.apply(self.pool.prewarm())
        }
        self.checkInvariants()
    }

    /// Shuts down, returns everything still out, and checks that nothing is left behind.
    mutating func finish() {
        self.apply(self.pool.shutdown())
        for connection in self.leased { self.apply(self.pool.connectionReleased(connection, isReusable: Bool.random(using: &self.random))) }
        for owner in self.opening {
            if let owner { self.end(owner) }
            self.apply(self.pool.connectionOpenFailed())
        }
        #expect(self.shutdownsFinished == 1, "the shutdown finishes exactly once, when the last slot is given up")
        #expect(self.pool.statistics == ConnectionPoolStatistics(idle: 0, inUse: 0, waiting: 0))
        #expect(self.pool.openCount == 0)
        #expect(self.ended.count == self.nextRequest, "every request ends")
    }

    private mutating func apply(_ action: Machine.Action) {
        switch action {
        case .none:
            break
        case .reuse(let connection, let request), .handOff(let connection, let request):
            self.end(request)
            self.leased.append(connection)
        case .open(let request), .closeAndOpen(_, let request):
            self.queuedAt[request.id] = nil
            self.opening.append(request)
        case .close:
            break
        case .finishShutdown:
            self.shutdownsFinished += 1
        case .scheduleTimer(let deadline):
            #expect(self.timer == nil, "at most one timer is armed")
            self.timer = deadline
        case .fail(let request, _):
            self.end(request)
        case .failTimedOut(let requests, let nextDeadline):
            requests.forEach { self.end($0) }
            self.timer = nextDeadline
        case .prewarm(let count):
            self.opening += Array(repeating: nil, count: count)
        case .shutdown(let failing, _, let isFinished):
            failing.forEach { self.end($0) }
            if isFinished { self.shutdownsFinished += 1 }
        }
    }

    private mutating func end(_ request: TestRequest) {
        self.queuedAt[request.id] = nil
        #expect(self.ended.insert(request.id).inserted, "request \(request.id) ended twice")
    }

    private func checkInvariants() {
        let statistics = self.pool.statistics
        #expect(self.pool.openCount <= self.pool.maximumConnections)
        #expect(self.pool.openCount == self.leased.count + self.opening.count + statistics.idle)
        #expect(statistics.waiting == self.queuedAt.count)
        if statistics.waiting > 0 {
            #expect(statistics.idle == 0 && self.pool.openCount == self.pool.maximumConnections, "a waiter only waits when nothing is free")
            #expect(self.timer != nil, "a timer is armed while anyone waits")
        }
    }
}

/// A tiny seeded generator, so a failing seed replays exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = self.state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
