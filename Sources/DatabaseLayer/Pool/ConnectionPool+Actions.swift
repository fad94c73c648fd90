import NIOCore
import NIOPosix
import Synchronization

/// Carrying out the state machine's actions: jobs on the thread pool, the timer, shutdown.
extension ConnectionPool {
    /// Carries out the parts of `action` that never block; returns the blocking part as a job for the pool.
    func execute(_ action: Action) -> Job? {
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

    func submit(_ job: Job) {
        self.threadPool.submit { state in
            switch state {
            case .active: self.run(job)
            case .cancelled: self.abandon(job)
            }
        }
    }

    /// Runs `job` on the pool and waits for it; for the cold paths (prewarm, shutdown).
    func runToCompletion(_ job: Job) async {
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
    func run(_ job: Job) {
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
    func serve(_ request: LeaseRequest, _ handoff: Handoff) -> Job? {
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

    func connection(for handoff: Handoff) throws -> Connection {
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
    func openUnowned(count: Int) {
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
    func abandon(_ job: Job) {
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

    func resumeShutdownWaiters() {
        let waiters = self.shutdownWaiters.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    func armTimer(deadline: ContinuousClock.Instant) {
        let delay = ContinuousClock.now.duration(to: deadline)
        self.timerLoop.scheduleTask(in: .nanoseconds(max(0, delay.nanoseconds))) { [weak self] in
            self?.timerFired()
        }
    }

    /// Runs on the timer's event loop: it only resumes continuations, it never blocks.
    func timerFired() {
        let action = self.state.withLock { $0.timerFired(now: .now) }
        if let job = self.execute(action) { self.submit(job) }
    }

    func cancel(_ request: LeaseRequest) {
        let action = self.state.withLock { $0.leaseCancelled(request.id) }
        if let job = self.execute(action) { self.submit(job) }
    }
}
