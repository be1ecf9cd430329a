.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install:  ## create the environment (uv sync)
	uv sync

test:  ## run the test suite
	uv run pytest

lint:  ## ruff (lint + format check) and mypy --strict on the packages
	uv run ruff check .
	uv run ruff format --check .
	uv run mypy

format:  ## apply ruff fixes and formatting
	uv run ruff check --fix .
	uv run ruff format .

demo:  ## compress the shipped demo tool outputs
	uv run headroom demo

bench:  ## benchmark all systems on ../shared/corpus (writes benchmarks/RESULTS.md, chart, README table)
	uv run headroom bench --readme

.PHONY: help install test lint format demo bench
