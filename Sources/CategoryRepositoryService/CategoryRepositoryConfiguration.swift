import DatabaseLayer

/// The variables of seed 000, "Category Repository Service".
struct CategoryRepositoryConfiguration: ServiceConfiguration {
    /// Name, listen variables and log-level variable from the reference.
    static let descriptor = ServiceDescriptor(name: "category-repository-service", defaultPort: 8080)

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

    init(environment: ServiceEnvironment, http: HTTPServiceConfiguration) throws(ConfigurationError) {
        self.http = http
        self.mongo = try MongoConfiguration(
            environment: environment, uriVariable: "MONGODB_URI",
            database: environment.string("MONGODB_DATABASE", default: "category_repository"), applicationName: self.http.serviceName)
        var collections: [String: String] = [:]
        for (variable, defaultName) in Self.collectionVariables {
            collections[variable] = try environment.collectionName(variable, default: defaultName)
        }
        self.collections = collections
    }
}
