/** Worker thread entry: parses RPM files and sends back their rows, encoded. */
import { RowBuilder } from "./build";
import { hangPoint } from "./crash";
import type { EncodedTable, FromWorker, Identified, Loaded, ToWorker } from "./protocol";
import type { PackageFile } from "./types";

declare const self: Worker;

let builder: RowBuilder | undefined;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function identifyAll(paths: string[]): Identified[] {
  return paths.map((p) => {
    try {
      return { ok: true, pkgHash: builder!.identify(p) };
    } catch (e) {
      return { ok: false, error: errorText(e) };
    }
  });
}

async function loadAll(files: PackageFile[]): Promise<Extract<FromWorker, { type: "loaded" }>> {
  const parts: (Record<string, EncodedTable> | undefined)[] = new Array(files.length);
  const results: Loaded[] = new Array(files.length);
  // all at once: a source waiting for its spec extraction lets the others go on (a binary is
  // built without awaiting anything, see RowBuilder.readWhole)
  await Promise.all(
    files.map(async (f, i) => {
      try {
        const r = await builder!.load(f);
        parts[i] = r.tables;
        results[i] = { ok: true, pkgHash: r.pkgHash, md5: r.md5, warnings: r.warnings, spans: {} };
      } catch (e) {
        results[i] = { ok: false, error: errorText(e) };
      }
    }),
  );
  // one buffer per table, packages back to back
  const sizes: Record<string, number> = {};
  for (const p of parts) if (p) for (const [t, e] of Object.entries(p)) sizes[t] = (sizes[t] ?? 0) + e.data.length;
  const buffers: Record<string, Uint8Array> = {};
  const pos: Record<string, number> = {};
  for (const [t, n] of Object.entries(sizes)) {
    buffers[t] = new Uint8Array(n);
    pos[t] = 0;
  }
  parts.forEach((p, i) => {
    const r = results[i];
    if (!p || !r.ok) return;
    for (const [t, e] of Object.entries(p)) {
      buffers[t].set(e.data, pos[t]);
      r.spans[t] = [pos[t], pos[t] + e.data.length, e.rows];
      pos[t] += e.data.length;
    }
  });
  return { type: "loaded", id: 0, results, buffers };
}

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case "init":
      builder = new RowBuilder(msg.layouts);
      return;
    case "sources":
      builder!.sourceHashes = msg.hashes;
      return;
    case "identify":
      self.postMessage({ type: "identified", id: msg.id, results: identifyAll(msg.paths) } satisfies FromWorker);
      return;
    case "load": {
      hangPoint("worker-load");
      const reply = await loadAll(msg.files);
      reply.id = msg.id;
      self.postMessage(reply, Object.values(reply.buffers).map((b) => b.buffer as ArrayBuffer));
      return;
    }
  }
};
