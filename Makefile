# Every target sets up its own virtual environment first: nothing installed by
# hand is needed.  PYTHON must be a CPython 3.11 (the torch wheel on disk).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO   ?= demo-output
A      ?= softmax_lab
OUT    ?= build/handout
TORCH  ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: venv demo test bench handout validate clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# torch's CPU build: the file on disk or PyTorch's CPU index; only where neither is
	@# reachable, the ordinary index's build (on Linux, gigabytes of CUDA libraries)
	$(PY) -m pip install --quiet "torch==$(TORCH)+cpu" \
	  || $(PY) -m pip install --quiet --extra-index-url $(TORCH_CPU_INDEX) "torch==$(TORCH)+cpu" \
	  || $(PY) -m pip install --quiet "torch==$(TORCH)"
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

demo: venv
	$(PY) -m grader.demo --out $(DEMO)

# two workers: most of the suite waits on graders' subprocesses (tests/conftest.py groups them)
TEST_JOBS ?= 2

test: venv
	$(PY) -m pytest -q -n $(TEST_JOBS)

# every bench prints its part of one table; the target fails if any goal was missed
bench: venv
	@failed=""; for script in bench/bench_*.py; do $(PY) $$script || failed="$$failed $$script"; done; \
	  if [ -n "$$failed" ]; then echo "goals missed or results wrong in:$$failed"; exit 1; fi

handout: venv
	$(PY) -m grader handout $(A) --out $(OUT)

validate: venv
	$(PY) -m grader validate $(A)

clean:
	rm -rf $(VENV) $(DEMO) build
