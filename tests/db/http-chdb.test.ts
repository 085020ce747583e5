/**
 * The http driver's whole suite (tests/db/http-suite.ts: the shared conformance suite and the
 * http-only tests) against the engine version we support: the embedded engine behind the
 * test-only ClickHouse HTTP interface of tests/helpers/chdb-http-server.ts. Tests that need
 * accounts or TLS of a real clickhouse-server (readonly users, https) are skipped here; they run
 * in http.test.ts against Debian's 18.16.
 */
import { afterAll } from "bun:test";
import { startChdbHttpServer } from "../helpers/chdb-http-server";
import { httpSuite } from "./http-suite";

const server = await startChdbHttpServer();
afterAll(() => server.stop());
await httpSuite({ url: server.url, version: server.version, admin: server.admin, loader: server.loader, managed: false, stop: () => server.stop() });
