# nnlab — build, test, benchmark and install.
# `make` builds ./nnlab; `make test` runs every test; `make asan` runs them
# under AddressSanitizer and UBSan; `make bench` prints benchmark figures.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := lua5.4 openblas zlib readline libcurl libcrypto libcmark

CFLAGS  ?= -O2 -g
# GCC's -O2 vectorizes only loops whose trip count is known; the element-wise
# kernels (optimizer steps, the uint8 gather, tensor ops) have a run-time
# length. Element-wise vector code gives the same floats as scalar code.
VECT    := -fvect-cost-model=dynamic
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
                -Isrc -Isrc/tensor -Isrc/util -MMD -MP
# oneDNN (libdnnl-dev) ships no pkg-config file; it runs on OpenMP (libgomp).
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldnnl -lgomp -lm -lpthread

SRCS    := $(sort $(wildcard src/*/*.c))
LUASRC  := $(sort $(wildcard lua/*.lua))
BUILD   ?= build
OBJS    := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/embedded_lua.o
BIN     ?= nnlab

# Debian packages: build, run time, and what the tests and benchmarks compare against.
DEB_BUILD := build-essential pkg-config liblua5.4-dev libopenblas-dev zlib1g-dev \
             libreadline-dev libcurl4-openssl-dev libssl-dev libcmark-dev libdnnl-dev
DEB_RUN   := gnuplot-nox
DEB_TEST  := python3 python3-numpy python3-sklearn tmux curl
DEB_BENCH := python3-torch

.PHONY: all deps test asan bench docs install clean kernel-check

all: $(BIN)

# tests/nn/kernels/kernel_check: runs the convolutional kernels on .npy files
# for tests/nn/test_kernels.py, which compares them with PyTorch.
KCHECK      := $(BUILD)/kernel_check
KCHECK_OBJS := $(addprefix $(BUILD)/src/,nn/conv2d.o nn/conv2d_dnnl.o nn/pool2d.o nn/batchnorm.o nn/augment.o \
               tensor/tensor.o tensor/npy.o tensor/gemm.o tensor/rng.o)
kernel-check: $(KCHECK)
$(KCHECK): $(BUILD)/tests/nn/kernels/kernel_check.o $(KCHECK_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# bench/conv_bench: the convolution engines side by side; bench/cnn_step: a
# training step of lesson 04's network made of the kernels (bench/bench_conv.sh).
$(BUILD)/cnn_step: $(BUILD)/bench/cnn_step.o $(KCHECK_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
# bench/cnn_train: trains lesson 04's network on CIFAR-10 with the kernels alone.
$(BUILD)/cnn_train: $(BUILD)/bench/cnn_train.o $(KCHECK_OBJS) \
                    $(addprefix $(BUILD)/src/data/,cifar.o dataio.o tar.o)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)
$(BUILD)/conv_bench: $(BUILD)/bench/conv_bench.o $(BUILD)/src/nn/conv2d.o $(BUILD)/src/nn/conv2d_dnnl.o \
                     $(BUILD)/src/tensor/gemm.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BIN): $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS) $(VECT) $(WARN) -c -o $@ $<

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

bench: $(BIN)
	NNLAB_BIN=./$(BIN) bench/run.sh

docs: $(BIN)
	NNLAB_BIN=./$(BIN) tools/make-docs.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/nnlab/lua $(DESTDIR)$(PREFIX)/share/nnlab/lessons
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/nnlab
	install -m 644 $(LUASRC) $(DESTDIR)$(PREFIX)/share/nnlab/lua/
	install -m 644 lessons/*.lua $(DESTDIR)$(PREFIX)/share/nnlab/lessons/

clean:
	rm -rf build $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
