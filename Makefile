# The README's commands. `make test` and `make demo` start from a fresh virtual environment.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
DIST   := dist

.PHONY: venv data build test test-rust test-python demo bench wheels gpu-check clean

# A fresh environment with the build and test tools; cuDNN without its cuBLAS dependency, as the
# tests only build its descriptors where there is no GPU.
venv:
	rm -rf $(VENV)
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "maturin>=1.9,<2" "numpy>=1.24" "pytest>=8" "hypothesis>=6" "pillow>=10" "tqdm>=4" "scipy>=1.10" "nvidia-cuda-nvrtc==13.0.88"
	$(PIP) install -q --no-deps "nvidia-cudnn-cu13==9.13.0.50"

# Real data the tests and the demo read: Fashion-MNIST as Debian packages it.
data:
	@test -d /usr/share/datasets/fashion-mnist || \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist >/dev/null) || \
		echo "warning: could not install Debian's dataset-fashion-mnist; tests that read it will be skipped"

# Release build of the abi3 wheel, installed into the environment.
build:
	rm -f $(DIST)/ferrotorch-*.whl
	$(VENV)/bin/maturin build --release -o $(DIST)
	$(PIP) install -q --force-reinstall --no-deps $(DIST)/ferrotorch-*.whl
	$(PIP) install -q --no-deps ./vision

# The crate's unit tests only (`--lib`): its doc examples are not run as tests, and building
# the library a second time for them doubled this step.
test-rust:
	cargo test --release -p ferrotorch-core --lib

test-python:
	cd tests && ../$(PY) -m pytest -q -p no:cacheprovider .

test: venv data build test-rust test-python

demo: venv data build
	$(PY) vision/scripts/train_fashion_mnist.py --out demo/fashion_mnist_cnn.pt

# Installs PyTorch (CPU use of the PyPI wheel) beside ferrotorch, then compares them.
bench:
	test -x $(PY) || $(MAKE) venv
	$(MAKE) build
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q torch
	$(PY) bench/run.py

# On a machine with an NVIDIA GPU, CUDA 13 and a reference PyTorch (no package registry needed):
# installs the prebuilt wheel, runs the `cuda` tests and the GPU benchmarks, prints a table.
gpu-check:
	bash scripts/gpu_check.sh

wheels: venv
	$(VENV)/bin/maturin build --release -o $(DIST)

clean:
	rm -rf $(VENV) $(DIST) target
