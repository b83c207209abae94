# Two entry points do all set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

ES8 := .venv-es8/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The 8.x client, beside the 9.x one pip installs: `make test` checks both against the sandbox.
$(ES8): $(STAMP)
	$(BIN)/pip install --quiet --target .venv-es8 'elasticsearch>=8.15,<9'
	touch $(ES8)

# The main job on the embedded default: deploy rules/ to the local sandbox (environments/local.yaml).
run: $(STAMP)
	$(BIN)/watchmgr apply --env local --yes

lint: $(STAMP)
	$(BIN)/ruff check watchmgr tests benchmarks
	$(BIN)/ruff format --check watchmgr tests benchmarks
	$(BIN)/mypy

# Every test with the client pip installed (9.x), then the cluster tests once more with the 8.x
# client first on the path, so that neither client major can regress against ES 8 or 9.
test: lint $(ES8)
	$(BIN)/pytest -q
	PYTHONPATH=.venv-es8 WATCHMGR_EXPECT_CLIENT_MAJOR=8 $(BIN)/pytest -q -p no:cacheprovider \
		tests/cluster tests/plan/test_end_to_end.py tests/ruletest/test_cluster_indices.py tests/ruletest/test_command.py \
		tests/cli/test_plan_mappings.py

bench: $(STAMP)
	$(BIN)/python benchmarks/render_corpus.py
	$(BIN)/python benchmarks/plan_apply.py

clean:
	rm -rf $(VENV) .venv-es8 .mypy_cache .ruff_cache .pytest_cache
