#!/usr/bin/env bash
# Formats the Swift sources in place with the toolchain's swift-format (configuration: .swift-format).
# CI runs `swift format lint --strict` on the same files (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
swift format format --in-place --recursive --parallel Sources Tests Fuzz Package.swift
