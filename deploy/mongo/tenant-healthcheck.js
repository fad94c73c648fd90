// Health check of mongodb-tenant, run by docker-compose.yml every few seconds with mongosh,
// authenticated as the root user. It also turns the node into the single-member replica set "rs0":
//
//   * not initiated yet (NotYetInitialized, code 94): rs.initiate with this one member, then report
//     unhealthy, because the node needs a moment to elect itself primary;
//   * initiated: healthy only when this node is the writable primary of rs0.
//
// So services that wait for `condition: service_healthy` start only against a primary, and there is no
// separate init container to order. rs.initiate runs at most once per volume; on later starts the
// replica-set configuration is already stored in the local database.
//
// The member host is the compose service name, which every container on the network (the node
// itself included) resolves, so drivers using ?replicaSet=rs0 discover "mongodb-tenant:27017".
// From the host machine, connect with ?directConnection=true instead (that name does not resolve there).

const MEMBER = 'mongodb-tenant:27017';

function isNotInitiated(error) {
    return error && (error.code === 94 || error.codeName === 'NotYetInitialized');
}

let initiated = true;
try {
    rs.status();
} catch (error) {
    if (!isNotInitiated(error)) {
        throw error;
    }
    initiated = false;
}

if (!initiated) {
    try {
        rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: MEMBER }] });
        print(`tenant-healthcheck: initiated replica set rs0 with ${MEMBER}`);
    } catch (error) {
        // AlreadyInitialized (23): a concurrent initiate won; anything else is reported and retried.
        if (error.code !== 23) {
            print(`tenant-healthcheck: rs.initiate failed: ${error.message}`);
        }
    }
    quit(1);
}

const hello = db.adminCommand({ hello: 1 });
if (hello.setName === 'rs0' && hello.isWritablePrimary === true) {
    quit(0);
}
print(`tenant-healthcheck: not yet primary (setName=${hello.setName}, isWritablePrimary=${hello.isWritablePrimary})`);
quit(1);
