/** NVD CVE API 2.0 records in their real shape, made for the tests, and a local fake of the API. */

export interface CveSpec {
  id: string;
  modified?: string;
  status?: string;
  /** [criteria, range] pairs; vulnerable unless `vulnerable: false` */
  matches?: { criteria: string; vulnerable?: boolean; startIncl?: string; startExcl?: string; endIncl?: string; endExcl?: string }[];
  v31?: number;
  v2?: number;
  summary?: string;
}

export function cveItem(s: CveSpec): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  if (s.v31 !== undefined)
    metrics.cvssMetricV31 = [
      { source: "secondary@example.org", type: "Secondary", cvssData: { version: "3.1", baseScore: 1.0, baseSeverity: "LOW" } },
      { source: "nvd@nist.gov", type: "Primary", cvssData: { version: "3.1", vectorString: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", baseScore: s.v31, baseSeverity: s.v31 >= 9 ? "CRITICAL" : "HIGH" } },
    ];
  if (s.v2 !== undefined) metrics.cvssMetricV2 = [{ source: "nvd@nist.gov", type: "Primary", cvssData: { version: "2.0", baseScore: s.v2 }, baseSeverity: "MEDIUM" }];
  return {
    cve: {
      id: s.id,
      sourceIdentifier: "cve@mitre.org",
      published: "2024-03-01T10:15:07.123",
      lastModified: s.modified ?? "2024-03-05T12:00:00.000",
      vulnStatus: s.status ?? "Analyzed",
      descriptions: [
        { lang: "es", value: "resumen" },
        { lang: "en", value: s.summary ?? `Summary of ${s.id} with "quotes", [brackets] and {braces}` },
      ],
      metrics,
      weaknesses: [{ source: "nvd@nist.gov", type: "Primary", description: [{ lang: "en", value: "CWE-787" }] }],
      configurations: s.matches
        ? [
            {
              nodes: [
                {
                  operator: "OR",
                  negate: false,
                  cpeMatch: s.matches.map((m, k) => ({
                    vulnerable: m.vulnerable ?? true,
                    criteria: m.criteria,
                    ...(m.startIncl !== undefined ? { versionStartIncluding: m.startIncl } : {}),
                    ...(m.startExcl !== undefined ? { versionStartExcluding: m.startExcl } : {}),
                    ...(m.endIncl !== undefined ? { versionEndIncluding: m.endIncl } : {}),
                    ...(m.endExcl !== undefined ? { versionEndExcluding: m.endExcl } : {}),
                    matchCriteriaId: `00000000-0000-0000-0000-${String(k).padStart(12, "0")}`,
                  })),
                },
              ],
            },
          ]
        : undefined,
      references: [{ url: `https://example.org/advisories/${s.id}`, source: "cve@mitre.org" }],
    },
  };
}

/** A feed file (the NVD 2.0 JSON feed shape). */
export function feedDoc(items: unknown[]): string {
  return JSON.stringify({ resultsPerPage: items.length, startIndex: 0, totalResults: items.length, format: "NVD_CVE", version: "2.0", timestamp: "2024-03-06T00:00:00.000", vulnerabilities: items });
}

export interface FakeNvd {
  url: string;
  requests: URL[];
  /** startIndex values that answer 500 (every time) */
  failAt: Set<number>;
  items: Record<string, unknown>[];
  stop(): void;
}

/** The CVE API 2.0 on 127.0.0.1: pages, lastMod window filtering on cve.lastModified. */
export function fakeNvd(items: Record<string, unknown>[]): FakeNvd {
  const state: FakeNvd = { url: "", requests: [], failAt: new Set(), items, stop: () => server.stop(true) };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      state.requests.push(u);
      const start = Number(u.searchParams.get("startIndex") ?? 0);
      const size = Number(u.searchParams.get("resultsPerPage") ?? 2000);
      if (state.failAt.has(start)) return new Response("upstream trouble", { status: 500 });
      const from = u.searchParams.get("lastModStartDate");
      const to = u.searchParams.get("lastModEndDate");
      const t = (s: string) => Date.parse(s.includes("+") || s.endsWith("Z") ? s : `${s}Z`);
      const sel = state.items.filter((it) => {
        const m = t((it.cve as { lastModified: string }).lastModified);
        return (!from || m >= t(from)) && (!to || m <= t(to));
      });
      const page = sel.slice(start, start + size);
      return Response.json({ resultsPerPage: page.length, startIndex: start, totalResults: sel.length, format: "NVD_CVE", version: "2.0", vulnerabilities: page });
    },
  });
  state.url = `http://127.0.0.1:${server.port}/rest/json/cves/2.0`;
  return state;
}
