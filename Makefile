# Tasks for developers; CI runs .ci/run (the README test command).
.PHONY: test quick lint docs bench

test:
	python -m pytest

quick:
	python -m pytest -m "not slow" -q

lint:
	ruff check klint tests bench fuzz scripts
	ruff format --check klint tests bench fuzz scripts
	mypy klint

docs:
	python -m klint docs --readme README.md

bench:
	python bench/benchmark.py
