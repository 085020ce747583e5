/** Worker thread entry: parses RPM files and sends back encoded rows. */
import { RowBuilder } from "./build";
import type { FromWorker, ToWorker } from "./protocol";

declare const self: Worker;

let builder: RowBuilder | undefined;

function reply(msg: FromWorker): void {
  if (msg.type === "loaded") {
    const transfer = Object.values(msg.tables).map((t) => t.data.buffer as ArrayBuffer);
    self.postMessage(msg, transfer);
  } else self.postMessage(msg);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
      try {
        reply({ type: "identified", id: msg.id, pkgHash: builder!.identify(msg.path) });
      } catch (e) {
        reply({ type: "failed", id: msg.id, error: errorText(e) });
      }
      return;
    case "load":
      try {
        const r = await builder!.load(msg.file);
        reply({ type: "loaded", id: msg.id, ...r });
      } catch (e) {
        reply({ type: "failed", id: msg.id, error: errorText(e) });
      }
      return;
  }
};
