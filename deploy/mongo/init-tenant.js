// mongosh script for mongodb-tenant: the tenant-mgmt-service user.
//
// tenant-mgmt-service keeps its registry (TENANT_REGISTRY_DB, default tenant_registry) on this server
// and provisions one database per tenant here (tenant_<id>_db: create collections and indexes, drop
// on tenant deletion), so its user needs readWrite and dbAdmin on any database, not root.
// The user is defined in "admin"; TENANT_MONGODB_URI therefore carries ?authSource=admin.
//
// docker-compose.yml mounts this file into /docker-entrypoint-initdb.d/ of mongodb-tenant. The mongo
// image runs it once, on a fresh data directory, against a temporary standalone mongod started without
// --replSet and --keyFile, so creating a user works before the replica set exists
// (deploy/mongo/tenant-healthcheck.js initiates rs0 afterwards). Re-running it updates the user.

const user = 'tenant_service';
const pwd = process.env.TENANT_SERVICE_MONGO_PASSWORD || 'password';
const roles = [
    { role: 'readWriteAnyDatabase', db: 'admin' },
    { role: 'dbAdminAnyDatabase', db: 'admin' },
];

const admin = db.getSiblingDB('admin');
if (admin.getUser(user) === null) {
    admin.createUser({ user: user, pwd: pwd, roles: roles });
    print(`init-tenant: created user ${user} in admin`);
} else {
    admin.updateUser(user, { pwd: pwd, roles: roles });
    print(`init-tenant: updated user ${user} in admin`);
}
