# PrismicX Data Services: developer entry points. `make` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Passed on to swift build and scripts/up.sh (make up BUILD_CONFIG=release).
BUILD_CONFIG ?= debug
export BUILD_CONFIG

.PHONY: help build up down test test-unit bench bench-mongo bench-tenants bench-users validate-openapi clean-data

help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## Build everything (BUILD_CONFIG=debug|release)
	swift build -c $(BUILD_CONFIG)

up: ## Start PostgreSQL, Redis, nx-27017 and the five services locally (data in .data/)
	scripts/up.sh

down: ## Stop what `make up` started (keeps .data/)
	scripts/down.sh

test: ## All tests, debug and release, against throwaway servers; then the OpenAPI specs
	scripts/with-test-servers.sh scripts/run-tests.sh

test-unit: ## Tests that need no server (DatabaseLayerTests and every *UnitTests suite)
	swift test --skip IntegrationTests

bench: ## Run the benchmarks (scripts/bench.sh, scripts/bench-tasks.sh) and update docs/performance.md
	bash scripts/bench.sh
	bash scripts/bench-tasks.sh

bench-mongo: ## CPU per request on the MongoDB data path: task service vs FastAPI peer vs libmongoc floor (docs/performance.md)
	bash scripts/bench/mongo-path.sh

bench-tenants: ## CPU per request of tenant-mgmt-service GET, PUT and create vs a FastAPI peer, /health as baseline (docs/performance.md)
	bash scripts/bench/tenant-path.sh

bench-users: ## user-data-service GET /users/{id} and login vs pgbench and a bcrypt floor (docs/performance.md)
	bash scripts/bench/user-data.sh

validate-openapi: ## Validate services/*/openapi.yaml
	scripts/validate-openapi.sh

clean-data: down ## Stop the local platform and delete .data/
	rm -rf .data
