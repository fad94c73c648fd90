import DatabaseLayer
import Foundation
import Testing

@testable import TaskRepositoryService

/// List order and keyset paging.
extension TaskRepositoryContract {
    /// Lists come in queue order (priority desc, created_at, task_id), and paging through them by cursor yields
    /// every task exactly once, also when tasks are added between pages.
    func listOrderAndPaging(_ repository: some TaskRepository) async throws {
        let scope = try self.freshScope()
        var tasks: [TaskItem] = []
        // Ties on priority and on created_at, so every key of the order matters.
        for (index, priority) in [0, 5, 0, -3, 5, 0, 10, 0].enumerated() {
            tasks.append(
                try await repository.create(
                    try self.newTask(scope, type: index.isMultiple(of: 2) ? "EVEN" : "ODD", priority: priority, at: Double(index / 2))
                ).task
            )
        }
        let expected = tasks.sorted { ($0.priority, $1.createdAt, $1.taskID) > ($1.priority, $0.createdAt, $0.taskID) }.map(\.taskID)
        let now = self.start.addingTimeInterval(10)
        for status in [nil, TaskStatus.pending] {
            for limit in [1, 3, 8, 20] {
                var seen: [String] = []
                var cursor: PageCursor?
                var pages = 0
                repeat {
                    let page = try await repository.list(
                        scope: scope,
                        status: status,
                        filter: .init(),
                        page: .init(limit: limit, cursor: cursor),
                        now: now
                    )
                    #expect(page.limit == limit && page.items.count <= limit)
                    seen += page.items.map(\.taskID)
                    cursor = page.next.flatMap(PageCursor.init(token:))
                    #expect(page.next == nil || cursor != nil, "next is a valid cursor")
                    pages += 1
                } while cursor != nil && pages <= tasks.count + 1
                #expect(seen == expected, "\(self.backend): status \(status?.rawValue ?? "ready"), limit \(limit): queue order, each task once")
            }
        }
        let odd = try await repository.list(scope: scope, status: nil, filter: .init(taskType: "ODD"), page: .init(limit: 20), now: now)
        #expect(odd.items.map(\.taskID) == expected.filter { id in tasks.first { $0.taskID == id }?.taskType == "ODD" })
        let early = try await repository.list(
            scope: scope,
            status: nil,
            filter: .init(),
            page: .init(limit: 20),
            now: self.start.addingTimeInterval(0.5)
        )
        #expect(
            Set(early.items.map(\.taskID)) == Set(tasks.filter { $0.runAfter <= self.start.addingTimeInterval(0.5) }.map(\.taskID)),
            "future tasks are not ready"
        )

        // A task inserted after the first page, sorting after the cursor, still shows up; none repeats.
        let first = try await repository.list(scope: scope, status: .pending, filter: .init(), page: .init(limit: 4), now: now)
        let added = try await repository.create(try self.newTask(scope, priority: -100, at: 1)).task
        var rest: [String] = []
        var cursor = first.next.flatMap(PageCursor.init(token:))
        while let current = cursor {
            let page = try await repository.list(scope: scope, status: .pending, filter: .init(), page: .init(limit: 4, cursor: current), now: now)
            rest += page.items.map(\.taskID)
            cursor = page.next.flatMap(PageCursor.init(token:))
        }
        #expect(first.items.map(\.taskID) + rest == expected + [added.taskID], "\(self.backend): a concurrent insert neither skips nor repeats")
    }
}
