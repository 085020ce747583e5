/**
 * Long variants of tests (every kill point, big inputs) run only when ALTREPODB_SLOW_TESTS=1;
 * the default suite keeps a representative subset so that it stays within its time budget.
 */
import { test } from "bun:test";

export const SLOW_TESTS = process.env.ALTREPODB_SLOW_TESTS === "1";

/** `all` when slow tests are on, else the `quick` subset of it. */
export function slowOr<T>(all: readonly T[], quick: readonly T[]): readonly T[] {
  return SLOW_TESTS ? all : quick;
}

/** A test of the long variants: skipped (and listed as skipped) unless ALTREPODB_SLOW_TESTS=1. */
export const slowTest = test.skipIf(!SLOW_TESTS);
