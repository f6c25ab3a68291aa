# FaaSFlow-Go. `make` lists the targets.

SHELL       := /bin/bash
GO          ?= go
BIN         := $(CURDIR)/bin
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X github.com/faasflow/faasflow-go/version.Version=$(VERSION)
PROVIDER    ?= local
WORKERS     ?= 3
TEST_FLAGS  ?= -count=1 -timeout 20m
PROFILE     ?= embedded
RUNTIME     ?= process
# Terraform variables for PROVIDER=aws (or docker): TF_VARS="operator_cidr=203.0.113.7/32 region=eu-west-1"
TF_VARS     ?=

# `make cluster up` and `make cluster down`: the second word is the action.
ifeq (cluster,$(firstword $(MAKECMDGOALS)))
  CLUSTER_ACTION := $(word 2,$(MAKECMDGOALS))
  ifeq ($(CLUSTER_ACTION),)
    $(error say what to do: make cluster up | make cluster down | make cluster status)
  endif
  $(eval $(CLUSTER_ACTION):;@:)
endif

# `make experiment latency`: the second word is the experiment.
ifeq (experiment,$(firstword $(MAKECMDGOALS)))
  EXPERIMENT := $(word 2,$(MAKECMDGOALS))
  ifeq ($(EXPERIMENT),)
    $(error say which experiment: make experiment latency)
  endif
  $(eval $(EXPERIMENT):;@:)
endif
# Experiment settings come from EXP_FILE; each EXP_* variable set overrides the file (see docs/experiments.md).
EXP_FILE      ?= experiments/default.yaml
EXP_WORKFLOWS ?= $(EXP_WORKFLOW)
EXP_RPM       ?=
EXP_DURATION  ?=
EXP_WARMUP    ?=
EXP_CLIENTS   ?=
EXP_LEVEL     ?=
EXP_SCALE     ?=
EXP_FLAGS     ?=
EXP_HOME      := $(CURDIR)/.faasflow-experiment
EXP_PORT      ?= 7100
EXP_ARGS       = --file $(EXP_FILE) $(if $(EXP_WORKFLOWS),--workflows $(EXP_WORKFLOWS)) $(if $(EXP_RPM),--rpm $(EXP_RPM)) \
                 $(if $(EXP_DURATION),--duration $(EXP_DURATION)) $(if $(EXP_WARMUP),--warmup $(EXP_WARMUP)) \
                 $(if $(EXP_CLIENTS),--clients $(EXP_CLIENTS)) $(if $(EXP_LEVEL),--level $(EXP_LEVEL)) \
                 $(if $(EXP_SCALE),--rate-scale $(EXP_SCALE)) $(EXP_FLAGS)

# Python functions run in the project's virtual environment once `make deps` made it.
ifneq ($(wildcard $(CURDIR)/.venv/bin/python),)
  export FAASFLOW_PYTHON ?= $(CURDIR)/.venv/bin/python
endif

.PHONY: help deps build test test-unit test-e2e check fmt cluster infra-tools experiment fuzz rss soak bench clean services-up services-down

help: ## list the targets
	@grep -E '^[a-z][a-zA-Z0-9_-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

build: ## build faasflow, faasflow-gateway, faasflow-worker and faasflow-synthetic into bin/ (static: they also run in FROM-scratch containers)
	@echo "==> build"
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

deps: ## install what the benchmarks need beyond Go (ffmpeg, tesseract; .venv/ from requirements.txt; idempotent)
	@echo "==> deps"
	@./scripts/deps.sh >/dev/null

test: deps build ## run all tests; first builds bin/ (the multi-host tests run it) and starts the real services they use (Redis, Kafka, CouchDB, Docker; idempotent)
	@echo "==> services"
	@eval "$$(./scripts/deps.sh)" && eval "$$(./scripts/services/all.sh start)" && echo "==> test" && $(GO) test $(TEST_FLAGS) ./...

test-unit: ## run the tests without starting services (the integration tests skip, saying what to start)
	@echo "==> test (no services)"
	$(GO) test $(TEST_FLAGS) ./...

test-e2e: build ## run the CLI end-to-end test against a real local cluster
	@echo "==> test-e2e"
	FAASFLOW_BIN=$(BIN) $(GO) test $(TEST_FLAGS) -run 'TestCLI' -v ./cmd/faasflow/

check: ## gofmt, go vet, staticcheck (if installed), go mod tidy; terraform fmt/validate, ansible syntax-check and lint (skipped when not installed)
	@echo "==> gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "==> go vet"
	$(GO) vet ./...
	@echo "==> staticcheck"
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi
	@echo "==> go mod tidy"
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy and commit"; exit 1; }
	@./scripts/infra/check.sh

fmt: ## format the Go code
	gofmt -w $$(git ls-files '*.go')

cluster: build ## make cluster up|down|status (PROVIDER=local|docker|aws WORKERS=3 PROFILE=embedded|full RUNTIME=process|docker TF_VARS=...; see docs/cluster.md)
	@echo "==> cluster $(CLUSTER_ACTION) ($(PROVIDER))"
	@if [ "$(PROVIDER)" != local ] && [ "$(CLUSTER_ACTION)" = up ]; then ./scripts/infra/tools.sh >/dev/null; fi
	$(BIN)/faasflow cluster $(CLUSTER_ACTION) --provider $(PROVIDER) $(if $(filter up,$(CLUSTER_ACTION)),--workers $(WORKERS) --profile $(PROFILE) --runtime $(RUNTIME)) $(if $(filter-out local,$(PROVIDER)),$(foreach v,$(TF_VARS),--var $(v)))

infra-tools: ## install Ansible, ansible-lint, debootstrap; build Terraform (if absent) and the docker provider into ~/.cache/faasflow
	./scripts/infra/tools.sh

experiment: build ## make experiment latency|throughput|colocation: deps, own local cluster, deploy, run, results/, diff, stop (EXP_FILE, EXP_WORKFLOWS, EXP_DURATION, ...)
	@echo "==> experiment $(EXPERIMENT) ($(EXP_FILE))"
	@set -e; deps=$$(./scripts/deps.sh); eval "$$deps"; \
	 export FAASFLOW_HOME=$(EXP_HOME) FAASFLOW_GATEWAY=; \
	 $(BIN)/faasflow cluster down >/dev/null 2>&1 || true; \
	 trap '$(BIN)/faasflow cluster down' EXIT; \
	 $(BIN)/faasflow cluster up --workers $(WORKERS) --gateway-port $(EXP_PORT) --worker-port $$(( $(EXP_PORT) + 1 )); \
	 $(BIN)/faasflow experiment $(EXPERIMENT) $(EXP_ARGS)

fuzz: ## run each fuzz test of every package for FUZZTIME (default 20s)
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
	    echo "==> fuzz $$t in $$pkg"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-20s} $$pkg || exit 1; \
	  done; \
	done

rss: build ## 1000 back-to-back wordcount invocations; gateway and worker RSS after 100 and after 1000
	./scripts/rss.sh

soak: build ## DURATION (default 30m) of mixed load on a fresh local cluster; RSS, goroutines, open files every 60s (scripts/soak.sh)
	./scripts/soak.sh $(DURATION)

bench: ## hop-latency benchmark of a 10-function chain (see BENCHMARKS.md)
	$(GO) test -run '^$$' -bench 'BenchmarkChain' -benchtime 2000x ./agents/engine/

services-up: ## install and start Redis, CouchDB (pouchdb-server), Kafka and Docker on 127.0.0.1; prints exports
	./scripts/services/all.sh start

services-down: ## stop the services that services-up started
	./scripts/services/all.sh stop

clean: ## remove build output
	rm -rf $(BIN)
