/**
 * A feed server on 127.0.0.1 for the tests: files with ETag / Last-Modified and 304 answers,
 * nginx-style directory listings, and faults on demand (500, an HTML error page served with 200,
 * a slow answer, a body cut short). Counts requests per path.
 */
import { createHash } from "node:crypto";

export type Fault = "500" | "html" | "slow" | "truncated";

export interface FeedServer {
  url: string;
  files: Map<string, { body: Uint8Array; modified: Date }>;
  faults: Map<string, Fault>;
  requests: { path: string; status: number }[];
  put(path: string, body: string | Uint8Array, modified?: Date): void;
  stop(): void;
}

const httpDate = (d: Date) => d.toUTCString();
const listingDate = (d: Date) => {
  const m = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}-${m}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
};

export function feedServer(): FeedServer {
  const files = new Map<string, { body: Uint8Array; modified: Date }>();
  const faults = new Map<string, Fault>();
  const requests: { path: string; status: number }[] = [];
  const answer = (path: string, status: number, r: Response) => {
    requests.push({ path, status });
    return r;
  };
  // a raw socket server for bodies cut short (fetch must see the early end)
  const raw = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(sock) {
        sock.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\nConnection: close\r\n\r\nacl\tpkg\t1\t2\thttp://x\n");
        sock.end();
      },
    },
  });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const u = new URL(req.url);
      const path = decodeURIComponent(u.pathname);
      const fault = faults.get(path);
      if (fault === "500") return answer(path, 500, new Response("trouble", { status: 500 }));
      if (fault === "html") return answer(path, 200, new Response("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>oops</body></html>", { headers: { "content-type": "text/html" } }));
      if (fault === "slow") {
        await Bun.sleep(30_000);
        return answer(path, 200, new Response("late"));
      }
      if (fault === "truncated") return answer(path, 302, Response.redirect(`http://127.0.0.1:${raw.port}/cut`, 302));
      if (path.endsWith("/") && !files.has(path)) {
        // immediate children: files, and directories implied by deeper files (listed as "name/")
        const children = new Map<string, { modified: Date; size: string }>();
        for (const [p, f] of files) {
          if (!p.startsWith(path)) continue;
          const rest = p.slice(path.length);
          const slash = rest.indexOf("/");
          const n = slash < 0 ? rest : rest.slice(0, slash + 1);
          const prev = children.get(n);
          if (!prev || prev.modified < f.modified) children.set(n, { modified: f.modified, size: slash < 0 ? String(f.body.length) : "-" });
        }
        if (!children.size) return answer(path, 404, new Response("not found", { status: 404 }));
        const rows = [...children.entries()].map(([n, f]) => {
          const href = n.endsWith("/") ? `${encodeURIComponent(n.slice(0, -1))}/` : encodeURIComponent(n);
          return `<a href="${href}">${n}</a>${" ".repeat(Math.max(1, 50 - n.length))}${listingDate(f.modified)}  ${f.size}`;
        });
        const html = `<html>\r\n<head><title>Index of ${path}</title></head>\r\n<body>\r\n<h1>Index of ${path}</h1><hr><pre><a href="../">../</a>\r\n${rows.join("\r\n")}\r\n</pre><hr></body>\r\n</html>\r\n`;
        return answer(path, 200, new Response(html, { headers: { "content-type": "text/html" } }));
      }
      const f = files.get(path);
      if (!f) return answer(path, 404, new Response("not found", { status: 404 }));
      const etag = `"${createHash("sha1").update(f.body).digest("hex").slice(0, 16)}"`;
      if (req.headers.get("if-none-match") === etag) return answer(path, 304, new Response(null, { status: 304, headers: { etag } }));
      return answer(path, 200, new Response(f.body, { headers: { etag, "last-modified": httpDate(f.modified), "content-type": "application/octet-stream" } }));
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    files,
    faults,
    requests,
    put(path, body, modified = new Date("2026-12-01T10:00:00Z")) {
      files.set(path, { body: typeof body === "string" ? new TextEncoder().encode(body) : body, modified });
    },
    stop() {
      server.stop(true);
      raw.stop(true);
    },
  };
}
