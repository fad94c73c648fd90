#!/usr/bin/env bash
# Entrypoint wrapper for mongodb-tenant (mongo:6 image): a single-node replica set "rs0" with
# authentication.
#
# Why a keyfile: with authentication on, a replica-set member must also authenticate to the other
# members, and mongod refuses to start with --replSet plus --auth unless it has a --keyFile. A single
# member never talks to another one, so any key works: a random one is generated on first start and
# kept in /data/configdb (a volume), owned by the mongodb user with mode 0400 as mongod demands.
# A mounted file cannot be used directly, because the host decides its owner and mode.
#
# Then the image's own entrypoint runs unchanged: on an empty volume it creates the root user and runs
# /docker-entrypoint-initdb.d/*.js against a temporary standalone mongod (it strips --replSet and
# --keyFile for that run), then starts mongod with the arguments from docker-compose.yml.
# rs.initiate is done by the health check (deploy/mongo/tenant-healthcheck.js), not here.
set -Eeuo pipefail

keyfile=/data/configdb/rs0.keyfile
if [ ! -s "$keyfile" ]; then
    umask 077
    # 756 random bytes -> 1008 base64 characters (the keyfile limit is 1024, base64 alphabet only).
    head -c 756 /dev/urandom | base64 -w 0 > "$keyfile"
fi
chown mongodb:mongodb "$keyfile"
chmod 0400 "$keyfile"

exec docker-entrypoint.sh "$@"
