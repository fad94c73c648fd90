#!/usr/bin/env bash
# validate-openapi.sh: check every services/*/openapi.yaml against the
# OpenAPI specification with openapi-spec-validator from .venv. Fails when a
# spec is invalid or when there is none at all (a moved file must not pass).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

if [[ ! -x $VENV_DIR/bin/openapi-spec-validator ]]; then
    "$SCRIPT_DIR/install-deps.sh"
fi

shopt -s nullglob
specs=("$REPO_ROOT"/services/*/openapi.yaml)
((${#specs[@]} > 0)) || die "no services/*/openapi.yaml found"

bad=0
for spec in "${specs[@]}"; do
    if ! "$VENV_DIR/bin/openapi-spec-validator" "$spec"; then
        bad=$((bad + 1))
    fi
done
if ((bad > 0)); then
    die "$bad of ${#specs[@]} OpenAPI specs are invalid"
fi
note "${#specs[@]} OpenAPI specs valid"
