# nnlab — build, test, benchmark and install.
# `make` builds ./nnlab; `make test` runs every test; `make asan` runs them
# under AddressSanitizer and UBSan; `make fuzz` runs the libFuzzer targets of
# tests/fuzz/ (FUZZ_SECONDS each); `make bench` prints benchmark figures.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := lua5.4 openblas zlib libisal readline libcurl libcrypto libcmark libzmq jansson libseccomp

CFLAGS  ?= -O2 -g
# GCC's -O2 vectorizes only loops whose trip count is known; the element-wise
# kernels (optimizer steps, the uint8 gather, tensor ops) have a run-time
# length. Element-wise vector code gives the same floats as scalar code.
VECT    := -fvect-cost-model=dynamic
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS_ALL := -std=c11 -ffp-contract=off -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
                -Isrc -Isrc/tensor -Isrc/util -MMD -MP
# oneDNN (libdnnl-dev) ships no pkg-config file; it runs its threads on OpenMP.
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldnnl -fopenmp -lm -lpthread

SRCS    := $(sort $(wildcard src/*/*.c))
LUASRC  := $(sort $(wildcard lua/*.lua))
BUILD   ?= build
OBJS    := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/embedded_lua.o
BIN     ?= nnlab

# Debian packages: build, run time, and what the tests and benchmarks compare against.
DEB_BUILD := build-essential pkg-config liblua5.4-dev libopenblas-dev libdnnl-dev zlib1g-dev \
             libreadline-dev libisal-dev libcurl4-openssl-dev libssl-dev libcmark-dev libzmq3-dev libjansson-dev libseccomp-dev
DEB_RUN   := gnuplot-nox
DEB_TEST  := python3 python3-numpy python3-sklearn tmux curl clang libclang-rt-14-dev \
             python3-jupyter-client python3-zmq python3-nbformat python3-nbclient jupyter-nbconvert \
             qemu-user
DEB_BENCH := python3-torch libcjson-dev

.PHONY: all deps test asan fuzz fuzz-build bench docs install clean kernel-check

all: $(BIN)

# tests/nn/kernels/kernel_check: runs the convolutional kernels on .npy files
# for tests/nn/test_kernels.py, which compares them with PyTorch.
KCHECK      := $(BUILD)/kernel_check
KCHECK_OBJS := $(addprefix $(BUILD)/src/,nn/conv2d.o nn/conv2d_dnnl.o nn/pool2d.o nn/batchnorm.o nn/augment.o \
               tensor/tensor.o tensor/npy.o tensor/gemm.o tensor/matmul_dnnl.o tensor/parallel.o tensor/rng.o \
               tensor/cpu.o \
               util/atomic_file.o)
kernel-check: $(KCHECK)
$(KCHECK): $(BUILD)/tests/nn/kernels/kernel_check.o $(KCHECK_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# bench/conv_bench: the convolution engines side by side; bench/cnn_step: a
# training step of lesson 04's network made of the kernels (bench/bench_conv.sh).
$(BUILD)/cnn_step: $(BUILD)/bench/cnn_step.o $(KCHECK_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
# bench/cnn_train: trains lesson 04's network on CIFAR-10 with the kernels alone.
$(BUILD)/cnn_train: $(BUILD)/bench/cnn_train.o $(KCHECK_OBJS) \
                    $(addprefix $(BUILD)/src/data/,cifar.o dataio.o tar.o stream.o)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/conv_bench: $(BUILD)/bench/conv_bench.o $(BUILD)/src/nn/conv2d.o $(BUILD)/src/nn/conv2d_dnnl.o \
                     $(BUILD)/src/tensor/gemm.o $(BUILD)/src/tensor/matmul_dnnl.o $(BUILD)/src/tensor/parallel.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BIN): $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS) $(VECT) $(WARN) -c -o $@ $<

# gemm.c starts OpenMP's thread pool itself, with SIGINT blocked (see there);
# parallel.c splits loops over it.
$(BUILD)/src/tensor/gemm.o $(BUILD)/src/tensor/parallel.o: CPPFLAGS_ALL += -fopenmp

$(BUILD)/embed: tools/embed.c
	@mkdir -p $(BUILD)
	$(CC) -O1 -o $@ $<

$(BUILD)/embedded_lua.c: $(BUILD)/embed $(LUASRC)
	$(BUILD)/embed $@ $(LUASRC)

$(BUILD)/embedded_lua.o: $(BUILD)/embedded_lua.c
	$(CC) $(CFLAGS) -c -o $@ $<

deps:
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    $(DEB_BUILD) $(DEB_RUN) $(DEB_TEST) $(DEB_BENCH); \
	else \
	  echo "run as root: sudo apt-get install -y $(DEB_BUILD) $(DEB_RUN) $(DEB_TEST) $(DEB_BENCH)"; \
	fi

test: $(BIN) $(KCHECK)
	NNLAB_BIN=./$(BIN) NNLAB_KERNEL_CHECK=$(KCHECK) tests/run.sh

asan:
	$(MAKE) BUILD=build/asan BIN=build/asan/nnlab \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" build/asan/nnlab build/asan/kernel_check
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  NNLAB_BIN=build/asan/nnlab NNLAB_KERNEL_CHECK=build/asan/kernel_check NNLAB_ASAN=1 tests/run.sh

# libFuzzer targets: every object but main.o, built by clang with coverage,
# ASan and UBSan into build/fuzz; `make fuzz` runs each for FUZZ_SECONDS,
# new inputs going to build/fuzz/corpus/<target> (the seeds in
# tests/fuzz/corpus/ stay as they are). tests/fuzz/test_fuzz.sh runs a
# short run of each in `make test`.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_OBJS     = $(filter-out $(BUILD)/src/host/main.o,$(OBJS))

fuzz-build:
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) VECT= CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  $(FUZZ_TARGETS:%=build/fuzz/%)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_file.h $(FUZZ_OBJS)
	$(CC) $(CPPFLAGS_ALL) -Isrc/data -Isrc/nn $(CFLAGS) $(WARN) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIBS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
	    build/fuzz/corpus/$$t tests/fuzz/corpus/$${t#fuzz_} || exit 1; \
	done

bench: $(BIN)
	NNLAB_BIN=./$(BIN) bench/run.sh

docs: $(BIN)
	NNLAB_BIN=./$(BIN) tools/make-docs.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/nnlab/lua $(DESTDIR)$(PREFIX)/share/nnlab/lessons
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/nnlab
	install -m 644 $(LUASRC) $(DESTDIR)$(PREFIX)/share/nnlab/lua/
	install -m 644 lessons/*.lua $(DESTDIR)$(PREFIX)/share/nnlab/lessons/
	NNLAB_KERNEL_BIN=$(PREFIX)/bin/nnlab $(DESTDIR)$(PREFIX)/bin/nnlab --install-kernel --prefix $(DESTDIR)$(PREFIX)

clean:
	rm -rf build $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
