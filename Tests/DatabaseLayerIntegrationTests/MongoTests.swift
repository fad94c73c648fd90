import DatabaseLayerTesting
import Foundation
import Testing

@testable import DatabaseLayer

@Suite(.enabled(if: TestServers.mongoEnabled, TestServers.skipReason))
struct MongoTests {
    func withCollection(_ server: MongoTestServer, _ body: (MongoCollection) async throws -> Void) async throws {
        let pool = try MongoClientPool(configuration: server.configuration(database: TestServers.uniqueName("it")), logger: TestServers.logger)
        let collection = try pool.collection("items")
        do {
            try await body(collection)
        } catch {
            try? await pool.dropDatabase(collection.database)
            await pool.clients.shutdown()
            throw error
        }
        try await pool.dropDatabase(collection.database)
        await pool.clients.shutdown()
    }

    @Test(arguments: TestServers.mongoServers)
    func crudRoundTrip(server: MongoTestServer) async throws {
        try await withCollection(server) { items in
            let created = Date(timeIntervalSince1970: 1_700_000_000)
            try await items.insertOne([
                "item_id": "a", "tenant_id": "t1", "n": 1, "created_at": .date(created), "tags": ["x", "y"], "meta": ["k": "v"],
            ])
            try await items.insertMany([["item_id": "b", "tenant_id": "t1", "n": 2], ["item_id": "c", "tenant_id": "t2", "n": 3]])
            let found = try #require(try await items.findOne(["item_id": ["$eq": "a"]]))
            #expect(found["n"] == .int(1))
            #expect(found["created_at"]?.dateValue == created, "dates are stored as BSON dates")
            #expect(found["tags"] == ["x", "y"])
            #expect(found["meta"]?.objectValue?["k"] == "v")
            let page = try await items.find(
                ["tenant_id": ["$eq": "t1"]], options: .init(sort: ["n": -1], limit: 1, projection: ["_id": 0, "item_id": 1]))
            #expect(page.map { $0["item_id"] } == ["b"])
            #expect(page.first?["_id"] == nil)
            #expect(try await items.find([:], options: .init(sort: ["n": 1], skip: 1)).map { $0["item_id"] } == ["b", "c"])
            #expect(try await items.count(["tenant_id": ["$eq": "t1"]]) == 2)
            let update = try await items.updateOne(["item_id": ["$eq": "b"]], ["$set": ["n": 20]])
            #expect(update.matchedCount == 1 && update.modifiedCount == 1)
            #expect(try await items.findOne(["item_id": ["$eq": "b"]])?["n"] == .int(20))
            let aggregated = try await items.aggregate([["$match": ["tenant_id": "t1"]], ["$group": ["_id": "$tenant_id", "total": ["$sum": "$n"]]]])
            #expect(aggregated.first?["total"]?.intValue == 21)
            #expect(try await items.deleteOne(["item_id": ["$eq": "c"]]) == 1)
            #expect(try await items.deleteOne(["item_id": ["$eq": "c"]]) == 0)
            #expect(try await items.count() == 2)
        }
    }

    @Test(arguments: TestServers.mongoServers)
    func findAndModifyClaimsOnce(server: MongoTestServer) async throws {
        try await withCollection(server) { items in
            try await items.insertMany([
                ["item_id": "low", "status": "pending", "priority": 1], ["item_id": "high", "status": "pending", "priority": 5],
            ])
            let claimed = try await items.findOneAndUpdate(
                ["status": ["$eq": "pending"]], ["$set": ["status": "claimed"]], sort: ["priority": -1], returnNew: true)
            #expect(claimed?["item_id"] == "high")
            #expect(claimed?["status"] == "claimed")
            let again = try await items.findOneAndUpdate(["item_id": ["$eq": "high"], "status": ["$eq": "pending"]], ["$set": ["status": "claimed"]])
            #expect(again == nil, "a document already claimed must not be claimed twice")
            let before = try await items.findOneAndUpdate(["item_id": ["$eq": "low"]], ["$set": ["status": "done"]], returnNew: false)
            #expect(before?["status"] == "pending")
        }
    }

    @Test(arguments: TestServers.mongoServers)
    func duplicateKeyIsAConflict(server: MongoTestServer) async throws {
        try await withCollection(server) { items in
            try await items.createIndexes([MongoIndex(name: "item_id_unique", keys: ["item_id": 1], unique: true)])
            try await items.createIndexes([MongoIndex(name: "item_id_unique", keys: ["item_id": 1], unique: true)])  // idempotent
            let indexes = try await items.indexes()
            #expect(indexes.contains { $0["key"]?.objectValue?.keys == ["item_id"] && $0["unique"]?.boolValue == true })
            try await items.insertOne(["item_id": "same"])
            do {
                try await items.insertOne(["item_id": "same"])
                Issue.record("expected a duplicate key error")
            } catch let error as DatabaseError {
                #expect(error.code == .conflict)
                #expect(error.serverCode == 11000)
                #expect(Problem.from(error).problem.status == 409)
            }
            #expect(try await items.count() == 1)
        }
    }

    @Test func unreachableServerIsUnavailable() async throws {
        let pool = try MongoClientPool(
            configuration: MongoConfiguration(uri: "mongodb://127.0.0.1:1/?serverSelectionTryOnce=true", database: "x", timeoutMilliseconds: 300),
            logger: TestServers.logger)
        do {
            try await pool.ping()
            Issue.record("expected an error")
        } catch let error as DatabaseError {
            #expect(error.code == .unavailable)
        }
        await pool.clients.shutdown()
    }
}
