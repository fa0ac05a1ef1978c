# Every target sets up its own virtual environment first: nothing installed by
# hand is needed.  PYTHON must be a CPython 3.11 (the torch wheel on disk).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO   ?= demo-output
A      ?= softmax_lab
OUT    ?= build/handout

.PHONY: venv demo test bench handout validate clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

demo: venv
	$(PY) -m grader.demo --out $(DEMO)

test: venv
	$(PY) -m pytest -q

bench: venv
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

handout: venv
	$(PY) -m grader handout $(A) --out $(OUT)

validate: venv
	$(PY) -m grader validate $(A)

clean:
	rm -rf $(VENV) $(DEMO) build
