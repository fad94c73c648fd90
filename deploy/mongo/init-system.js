// mongosh script for mongodb-system: one least-privilege user per service, each defined in the
// database its connection string names, so the driver's default authSource (the database in the URI
// path) finds it without an explicit ?authSource=.
//
//   user                   defined in            roles (readWrite)                          used by
//   task_service           task_repository       task_repository                            task-repo-service (MONGODB_URI)
//   category_service       category_repository   category_repository                        category-repository-service (MONGODB_URI)
//   user_insights_service  user_insights         user_insights, system_users, campaign_users user-data-service (MONGODB_URI)
//   config_service         config_db             config_db                                  management-system-repo (CONFIG_DB_*)
//
// docker-compose.yml mounts this file into /docker-entrypoint-initdb.d/ of mongodb-system; the mongo
// image runs it once, against a fresh data directory, on a temporary localhost-only mongod before the
// real one starts. It can also be run by hand as an administrator:
//   mongosh "mongodb://root:<password>@localhost:27018/admin" deploy/mongo/init-system.js
//
// Passwords come from the environment (the same variables docker-compose.yml interpolates into the
// services' connection strings); 'password' is the development default the reference uses.
// Running it again updates passwords and roles of existing users instead of failing.

function envOr(name, fallback) {
    const value = process.env[name];
    return value !== undefined && value !== '' ? value : fallback;
}

const serviceUsers = [
    {
        user: 'task_service',
        db: 'task_repository',
        pwd: envOr('TASK_SERVICE_MONGO_PASSWORD', 'password'),
        databases: ['task_repository'],
    },
    {
        user: 'category_service',
        db: 'category_repository',
        pwd: envOr('CATEGORY_SERVICE_MONGO_PASSWORD', 'password'),
        databases: ['category_repository'],
    },
    {
        user: 'user_insights_service',
        db: 'user_insights',
        pwd: envOr('USER_INSIGHTS_MONGO_PASSWORD', 'password'),
        // user_insights: insights_<tenant>; system_users: system_users_conversation_<tenant>;
        // campaign_users: campaign_<campaign id> (TTL-indexed).
        databases: ['user_insights', 'system_users', 'campaign_users'],
    },
    {
        user: envOr('CONFIG_DB_USER', 'config_service'),
        db: envOr('CONFIG_DB_NAME', 'config_db'),
        pwd: envOr('CONFIG_DB_PASSWORD', 'password'),
        databases: [envOr('CONFIG_DB_NAME', 'config_db')],
    },
];

for (const spec of serviceUsers) {
    const target = db.getSiblingDB(spec.db);
    const roles = spec.databases.map((name) => ({ role: 'readWrite', db: name }));
    if (target.getUser(spec.user) === null) {
        target.createUser({ user: spec.user, pwd: spec.pwd, roles: roles });
        print(`init-system: created user ${spec.user} in ${spec.db} (readWrite on ${spec.databases.join(', ')})`);
    } else {
        target.updateUser(spec.user, { pwd: spec.pwd, roles: roles });
        print(`init-system: updated user ${spec.user} in ${spec.db}`);
    }
}
