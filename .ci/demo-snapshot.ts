#!/usr/bin/env bun
/**
 * Builds a small ALT-style repository snapshot for the README's quick start: real RPMs from
 * rpmbuild (the test fixture generator), apt lists, hash lists. Usage: demo-snapshot.ts DIR
 */
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { buildBulkPackages } from "../tests/fixtures/bulk";
import { makeSnapshot } from "../tests/fixtures/snapshot";

const dir = resolve(process.argv[2] ?? ".tmp/demo-snapshot");
if (existsSync(dir)) rmSync(dir, { recursive: true });
const m = await buildBulkPackages(undefined, { sources: 20, binariesPerSource: 10, seed: 7 });
const snap = makeSnapshot(dir, { packages: [...m.srpms, ...m.rpms] });
console.error(`demo snapshot: ${snap.srpms.length} source and ${snap.rpms.length} binary packages in ${dir}`);
