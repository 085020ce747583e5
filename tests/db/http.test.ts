/**
 * The conformance suite on the http driver against a real clickhouse-server (Debian's 18.16,
 * started by tests/helpers/clickhouse-server.ts), and what only that driver does: connection
 * and credential errors, TLS, timeouts, retries and the insert deduplication token.
 * Without a clickhouse-server binary the whole file is SKIPPED, and says so.
 */
import { afterAll, describe, test } from "bun:test";
import { clickHouseUnavailable, startClickHouseServer } from "../helpers/clickhouse-server";
import { httpSuite } from "./http-suite";

// Last, so that everything above is initialised before the suite registers its tests.
const unavailable = clickHouseUnavailable();

if (unavailable) {
  console.warn(`\n*** tests/db/http.test.ts: the http driver tests are SKIPPED: ${unavailable}\n`);
  describe(`db conformance: http [SKIPPED: ${unavailable}]`, () => {
    test.skip("the http driver against a real clickhouse-server", () => {});
  });
} else {
  const server = (await startClickHouseServer())!;
  afterAll(() => server.stop());
  await httpSuite(server);
}
