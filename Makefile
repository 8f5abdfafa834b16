# job-logs-s3: build, test and demo.
#
#   make install     the pinned Node (.nvmrc) into .tools/node, npm ci (when needed), versitygw and
#                    kustomize (go install, pinned), moto (if missing), LocalStack (pinned, if a
#                    Python >= 3.13 exists)
#   make build       type-check and compile every package (tsc -b), then bundle each CLI into one file
#                    and its lazily loaded chunks (scripts/bundle-clis.mjs, esbuild: packages/*/bundle/)
#   make test        install, shellcheck, lint, build, then all tests against moto, then test/ against
#                    versitygw, then a subset of test/ against LocalStack (skipped without Python >= 3.13)
#   make test-unit   unit tests under packages/ only; no S3 server
#   make test-long   the interleaving properties, FC_RUNS runs (default 1000), fresh seed printed first;
#                    FC_SEED=<n> make test-long replays one
#   make demo        start a moto S3 server, run the demo against it, stop it
#   make bench       compaction and read speed, memory, S3 requests: ratios against limits measured
#                    in the same run, on versitygw (bench/results/latest.{json,md,png});
#                    BENCH_PYTHON_ANCHOR=DIR PM_SRC=CHECKOUT adds rows against the Python original
#   make image       the compactor's container image from the Dockerfile (IMAGE=name:tag); needs a
#                    Docker engine. test/image.test.ts checks the same tree without one
#   make lint        Prettier (check), ESLint (correctness, file and function size, import layers) and
#                    dpdm (no import cycle, type imports included) over the TypeScript
#   make format      Prettier --write and ESLint --fix: what `make lint` asks for
#   make lint-shell  shellcheck on minikube.sh, scripts/*.sh, k8s/*/*/*.sh and .ci/run
#   make clean       remove build output and .tmp/ (keeps node_modules/ and .tools/)
#
# The S3 servers run on 127.0.0.1 with a free port; see scripts/s3-server.mjs.
# To test against a server of your own: S3_TEST_ENDPOINT=http://host:port make test

SHELL := /bin/bash
.DEFAULT_GOAL := test

# Every recipe runs on the Node release that .nvmrc pins, installed into .tools/node from the
# npm registry by scripts/install-node.sh: the machine's own node may be older (npm and npx,
# scripts started through `env node`, then run on the pinned one too).
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)
NODE_STAMP := .tools/node/.installed

JEST       ?= npx jest
JEST_FLAGS ?=
DEMO_STATE := .tmp/demo-s3.json
S3_SERVER  := node scripts/s3-server.mjs
# npm ci runs again when package-lock.json is newer than this stamp (or node_modules/ is gone).
NPM_STAMP  := node_modules/.npm-ci.stamp

.PHONY: install tools build test test-unit lint format lint-shell demo demo-run bench clean

install: $(NPM_STAMP) tools

$(NODE_STAMP): .nvmrc
	@scripts/install-node.sh
	@touch $@

# npm ci runs on the pinned Node, and again when it changes.
$(NPM_STAMP): package-lock.json $(NODE_STAMP)
	npm ci
	@touch $@

# Each script is idempotent and returns at once when its tool is in place.
tools:
	@scripts/install-versitygw.sh
	@scripts/install-moto.sh
	@scripts/install-localstack.sh
	@scripts/install-shellcheck.sh
	@scripts/install-kustomize.sh

# The bin shims run each CLI's bundle: a pass loads 23 files instead of 289 (start-up time).
build: $(NPM_STAMP)
	npx tsc -b
	node scripts/bundle-clis.mjs

# Everything against moto, then the integration tests in test/ again against versitygw, then
# LOCALSTACK_TESTS against LocalStack, the S3 users run locally (docker-compose.yml, minikube).
# (`./test/` is anchored at the repo root: a bare `test/` would also match a checkout path
# like /ci/test/job-logs-s3/... and so every file.)
test: install lint-shell lint
	npx tsc -b
	node scripts/bundle-clis.mjs
	S3_TEST_SERVER=moto $(JEST) $(JEST_FLAGS)
	S3_TEST_SERVER=versitygw $(JEST) $(JEST_FLAGS) ./test/
	@if [ -f $(LOCALSTACK_STAMP) ]; then \
	  echo "S3_TEST_SERVER=localstack $(JEST) $(JEST_FLAGS) $(LOCALSTACK_TESTS)"; \
	  S3_TEST_SERVER=localstack $(JEST) $(JEST_FLAGS) $(LOCALSTACK_TESTS); \
	else \
	  echo "make test: LocalStack tier skipped: no Python >= 3.13 (see scripts/install-localstack.sh)"; \
	fi

# The LocalStack tier: what a user's local stack exercises and where LocalStack's S3 differs
# from the others (DELETE with If-Match answered 501, a completed upload id forgotten), in about
# 3 minutes: the test server itself; a pass, its requests, and the compose flow's steps; reads;
# the lease and one writer per pod (two runs in a row, takeovers); crashes at every request and
# S3 faults (lost answers, multipart); the merge writer; buckets of the Python service.
# Not here: retention and the 100-day bucket (retention needs If-Match on DELETE: a pass on
# LocalStack skips it with a warning, lease-release.test.ts checks that) and the orphan fence (kept by design where conditional deletes do not
# hold); the interleaving properties (long; moto runs them).
LOCALSTACK_STAMP := .tools/localstack-venv/.installed
LOCALSTACK_TESTS := $(addprefix ./test/,s3-server.test.ts compactor-pass.test.ts pass-requests.test.ts \
  compose.test.ts reader.test.ts one-writer.test.ts lease-release.test.ts crash.test.ts s3-faults.test.ts \
  merge-writer.test.ts python-buckets.test.ts)

# The TypeScript's format (.prettierrc.json), lint rules (eslint.config.js: sizes, import layers)
# and import graph: no cycle, type imports included, anywhere in the packages' sources.
lint: $(NPM_STAMP)
	npx prettier --check --log-level warn .
	npx eslint --max-warnings 0 .
	npx dpdm --no-tree --no-warning --no-progress --exit-code circular:1 'packages/*/src/**/*.ts'

format: $(NPM_STAMP)
	npx prettier --write --log-level warn .
	npx eslint --fix .

# Every shell script of the repo. scripts/install-shellcheck.sh (quiet when shellcheck is
# there) puts shellcheck on PATH or in .tools/bin.
SHELL_SCRIPTS := minikube.sh $(wildcard scripts/*.sh k8s/base/*/*.sh k8s/overlays/*/*.sh) .ci/run
lint-shell:
	@scripts/install-shellcheck.sh >/dev/null
	PATH="$(CURDIR)/.tools/bin:$$PATH" shellcheck $(SHELL_SCRIPTS)

test-unit: $(NPM_STAMP)
	S3_TEST_SERVER=none $(JEST) $(JEST_FLAGS) --passWithNoTests ./packages/

# The fast-check properties of test/interleavings.test.ts on moto (started by jest's global
# setup), FC_RUNS runs in all, with a fresh random seed printed before anything else; a
# failure prints the seed, the path and the command that replays it alone.
.PHONY: test-long
test-long: install
	@seed=$${FC_SEED:-$$(( $$(od -An -N4 -tu4 /dev/urandom) % 2147483648 ))}; runs=$${FC_RUNS:-1000}; \
	echo "make test-long: FC_SEED=$$seed FC_RUNS=$$runs (replay: FC_SEED=$$seed FC_RUNS=$$runs make test-long)"; \
	FC_SEED=$$seed FC_RUNS=$$runs INTERLEAVINGS_VERBOSE=1 S3_TEST_SERVER=moto $(JEST) $(JEST_FLAGS) ./test/interleavings.test.ts

# The server runs detached (state and log in .tmp/); the trap stops it however the demo
# ends: success, failure or Ctrl-C. demo-run gets S3_TEST_ENDPOINT and AWS_* in its env.
demo: install build
	@set -e; \
	trap '$(S3_SERVER) stop --state $(DEMO_STATE)' EXIT; \
	$(S3_SERVER) stop --state $(DEMO_STATE) >/dev/null; \
	$(S3_SERVER) start moto --state $(DEMO_STATE); \
	eval "$$($(S3_SERVER) env --state $(DEMO_STATE))"; \
	$(MAKE) --no-print-directory demo-run

# The demo scenario (scripts/demo.sh) against the server `make demo` started.
demo-run:
	@test -n "$$S3_TEST_ENDPOINT" || { echo "demo-run: no S3_TEST_ENDPOINT; use 'make demo'" >&2; exit 1; }
	@scripts/demo.sh

# Compaction, reads, memory and scale as ratios against limits measured in the same run
# (see packages/testkit/src/bench.ts), on a versitygw started for it (moto, a Python
# emulator, would measure itself). Writes bench/results/latest.{json,md,png}.
# BENCH_FLAGS=--quick tries it at small sizes; BENCH_BIG_MB=2048 and BENCH_SCALE_PODS=10000
# run the issue's full sizes.
# BENCH_PYTHON_ANCHOR=DIR PM_SRC=CHECKOUT (a measuring instrument and a checkout of the
# Python original, both outside this project) adds rows against the original, whose Python
# packages scripts/install-python-anchor.sh puts into .tools/python-anchor (unless BENCH_PYTHON
# names a Python that has them); see docs/performance.md.
# Only the tools it needs: npm ci (through build) and versitygw, not the whole `install`.
BENCH_FLAGS ?=
bench: build
	@scripts/install-versitygw.sh
	@if [ -n "$${BENCH_PYTHON_ANCHOR:-}" ] && [ -z "$${BENCH_PYTHON:-}" ]; then scripts/install-python-anchor.sh; fi
	@set -e; \
	trap '$(S3_SERVER) stop --state .tmp/bench-s3.json' EXIT; \
	$(S3_SERVER) start versitygw --state .tmp/bench-s3.json; \
	eval "$$($(S3_SERVER) env --state .tmp/bench-s3.json)"; \
	AWS_ENDPOINT_URL_S3=$$S3_TEST_ENDPOINT node packages/testkit/dist/bench.js $(BENCH_FLAGS)

# The image's labels come from the checkout: the compactor's version, the commit, the origin.
IMAGE ?= job-logs-s3/compactor:dev
.PHONY: image
image:
	@command -v docker >/dev/null || { echo "make image: no docker command: install Docker to build the image (test/image.test.ts checks its tree without it)" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make image: no Docker engine answers 'docker info': start one, or point DOCKER_HOST at one" >&2; exit 1; }
	docker build --tag $(IMAGE) \
	  --build-arg VERSION="$$(node -p 'require("./packages/compactor/package.json").version')" \
	  --build-arg REVISION="$$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
	  --build-arg CREATED="$$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	  --build-arg SOURCE="$$(git config --get remote.origin.url || echo unknown)" \
	  .

clean:
	@if [ -f $(DEMO_STATE) ]; then $(S3_SERVER) stop --state $(DEMO_STATE); fi
	rm -rf packages/*/dist packages/*/bundle .tmp coverage
