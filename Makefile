# tokencheck — build, test and run the protected API sample and its tester.
GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 20s
PKGS      ?= ./...

.PHONY: all build test test-short lint fmt bench fuzz run e2e clean

all: build

## build: static binaries bin/server and bin/client
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/server ./server
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/client ./client

## test: vet and the whole test suite with the race detector
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

## test-short: quick run without the race detector
test-short:
	$(GO) test -count=1 $(PKGS)

## lint: golangci-lint, pinned as a tool in go.mod
lint:
	$(GO) tool golangci-lint run $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: Go benchmarks plus a short end-to-end load (scripts/bench.sh)
bench: build
	./scripts/bench.sh

## fuzz: every Fuzz target for FUZZTIME each (scripts/fuzz.sh)
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

## run: the stand-in tenant and the API on this machine (scripts/run-local.sh);
##      other ports: make run PORT=3011 TENANT_ADDR=127.0.0.1:4001
run: build
	PORT="$(PORT)" TENANT_ADDR="$(TENANT_ADDR)" ./scripts/run-local.sh

## e2e: docker compose stack (tenant + api + tester + what-next), host issuer check, broken API must fail;
##      E2E_COMPOSE=v2|v1 picks compose v2 (default when installed) or docker-compose 1.29
e2e:
	E2E_COMPOSE="$(E2E_COMPOSE)" ./scripts/e2e.sh

clean:
	rm -rf $(BIN)
