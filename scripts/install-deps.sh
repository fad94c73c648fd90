#!/usr/bin/env bash
# Install what the build, the tests and the local platform need: Debian
# packages (C client libraries, PostgreSQL 15, PgBouncer, Redis, promtool)
# and a Python venv at .venv with the MongoDB wire-protocol servers, the
# OpenAPI validator and Schemathesis (scripts/schemathesis.sh). Idempotent,
# and quick when everything is already there.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

APT_PACKAGES=(
    postgresql-15 postgresql-client-15 redis-server
    pgbouncer # the pooler docker-compose.yml runs, in front of the local and test clusters too
    libpq-dev libmongoc-dev libbson-dev libhiredis-dev libssl-dev
    prometheus # provides promtool
    python3-venv curl procps pkg-config
    openssl # make up generates the development JWT key pair
    make # .ci/run calls make; a bare Debian image may lack it
)

# pymongo comes with the servers anyway; it is listed because lib.sh uses it.
PY_REQUIREMENTS=(
    nx-27017==0.8.1
    secantusdb==0.7.0b3
    openapi-spec-validator
    # Property-based API tests of each running service against its
    # openapi.yaml (scripts/schemathesis.sh). Pinned: the CLI flags and the
    # checks differ between releases, and a new check must not turn CI red by
    # itself.
    schemathesis==4.32.5
    pyyaml
    pymongo
)

# Serialise concurrent runs (pip into one venv twice at once breaks it); a
# lock on the repo directory itself needs no extra file. Commands below get
# `9<&-` so that nothing they leave running (apt may start the Debian
# PostgreSQL/Redis services) inherits the lock.
exec 9<"$REPO_ROOT"
flock -w 900 9 || die "another install-deps.sh has held its lock for 15 minutes"

install_apt_packages() {
    local missing=() pkg status
    for pkg in "${APT_PACKAGES[@]}"; do
        # `dpkg -s` alone also succeeds for removed-but-not-purged packages.
        status=$(dpkg -s "$pkg" 2>/dev/null | sed -n 's/^Status: //p') || true
        [[ $status == "install ok installed" ]] || missing+=("$pkg")
    done
    ((${#missing[@]} > 0)) || return 0

    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "missing packages (${missing[*]}) and not root; install them first"
        sudo=(sudo)
    fi
    note "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq 9<&-
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null 9<&-
    if [[ " ${missing[*]} " == *" pgbouncer "* ]]; then disable_packaged_pgbouncer "${sudo[@]}"; fi
}

# disable_packaged_pgbouncer [SUDO]: the package enables its own instance
# (/etc/pgbouncer, 127.0.0.1:6432) and starts it where the init system lets
# it. lib.sh runs ours with their own config on other ports, so that one would
# only hold the port docker-compose.yml publishes. Done right after the
# install only: an instance someone enables by hand later is left alone.
disable_packaged_pgbouncer() {
    if [[ -d /run/systemd/system ]]; then
        "$@" systemctl disable --now --quiet pgbouncer.service 9<&- || warn "could not disable pgbouncer.service"
        return 0
    fi
    "$@" update-rc.d pgbouncer disable >/dev/null 2>&1 9<&- || warn "could not disable /etc/init.d/pgbouncer"
    # Under a policy-rc.d that forbids starts (containers) it never ran.
    if live_pid /run/postgresql/pgbouncer.pid pgbouncer >/dev/null; then
        note "stopping the pgbouncer service that the package started"
        "$@" /etc/init.d/pgbouncer stop >/dev/null 9<&- || warn "could not stop the packaged pgbouncer"
    fi
}

install_venv() {
    local stamp="$VENV_DIR/.prismicx-requirements" want python
    # Debian's interpreter rather than whatever python3 is first on PATH
    # (pyenv here): the venv then survives changes of the pyenv version.
    python=/usr/bin/python3
    [[ -x $python ]] || python=$(command -v python3) || die "python3 not found"
    want="$(printf '%s\n' "${PY_REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"

    if [[ -x $VENV_PY ]] && "$VENV_PY" -c '' 2>/dev/null &&
        [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] &&
        [[ -x $VENV_DIR/bin/nx-27017 && -x $VENV_DIR/bin/secantusd-py && -x $VENV_DIR/bin/openapi-spec-validator &&
        -x $VENV_DIR/bin/schemathesis ]]; then
        return 0
    fi

    if [[ -x $VENV_PY ]] && "$VENV_PY" -c '' 2>/dev/null; then
        note "updating Python venv $VENV_DIR"
    else
        note "creating Python venv $VENV_DIR"
        "$python" -m venv --clear "$VENV_DIR" 9<&-
    fi
    rm -f -- "$stamp"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check --no-input "${PY_REQUIREMENTS[@]}" 9<&-
    "$VENV_PY" -c 'import pymongo, yaml' || die "venv is missing pymongo/yaml after pip install"
    printf '%s\n' "$want" >"$stamp"
}

install_apt_packages
[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] || die "PostgreSQL 15 binaries not found in $PG_BIN"
command -v promtool >/dev/null || die "promtool not found after installing prometheus"
install_venv
