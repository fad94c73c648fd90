import DatabaseLayer

/// The variables of seed 000, "Category Repository Service".
struct CategoryRepositoryConfiguration: Sendable {
    var http: HTTPServiceConfiguration
    /// `MONGODB_URI` + `MONGODB_DATABASE`.
    var mongo: MongoConfiguration
    /// The five `MONGODB_*_COLLECTION` names.
    var collections: [String: String]

    static let collectionVariables: [(variable: String, defaultName: String)] = [
        ("MONGODB_CATEGORIES_COLLECTION", "categories"), ("MONGODB_FACTORS_COLLECTION", "factors"),
        ("MONGODB_CAMPAIGNS_COLLECTION", "campaigns"), ("MONGODB_BATCH_AS_OBJECTS_COLLECTION", "batch_as_objects"),
        ("MONGODB_ENTITY_ASSIGNMENTS_COLLECTION", "entity_assignments"),
    ]

    init(environment: ServiceEnvironment) throws(ConfigurationError) {
        self.http = try HTTPServiceConfiguration(
            environment: environment, defaultServiceName: "category-repository-service", hostVariable: "HOST", portVariable: "PORT",
            defaultPort: 8080, logLevelVariable: nil)
        self.mongo = try MongoConfiguration(
            environment: environment, uriVariable: "MONGODB_URI",
            database: environment.string("MONGODB_DATABASE", default: "category_repository"), applicationName: self.http.serviceName)
        var collections: [String: String] = [:]
        for (variable, defaultName) in Self.collectionVariables {
            let name = environment.string(variable, default: defaultName)
            guard MongoName.isValidCollectionName(name) else {
                throw ConfigurationError(variable: variable, reason: "must be a plain collection name")
            }
            collections[variable] = name
        }
        self.collections = collections
    }
}
