/** The Telegram text of notifier messages: the reference's layout, and none of its crashes (§7 item 51). */
import { describe, expect, test } from "bun:test";
import { formatNotice, TELEGRAM_MAX } from "../../src/bot";

const base = { subject: "task", severity: "CRITICAL", type: "SERVICE_WORKER_ERROR", message: "Failed to upload task 301234: boom", timestamp: 1660000000.1 };

function localTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

describe("formatNotice", () => {
  test("the reference's layout; a bytes-as-text payload is pretty-printed JSON", () => {
    const n = formatNotice(JSON.stringify({ ...base, payload: `b'{"taskid": 301234, "state": "DONE"}'` }));
    expect(n.html).toBe(`${localTime(base.timestamp)}\n[CRITICAL] SERVICE_WORKER_ERROR in <b>task</b>\n\nFailed to upload task 301234: boom\n\npayload:\n<pre>{\n    "taskid": 301234,\n    "state": "DONE"\n}</pre>`);
    expect(n.plain).not.toContain("<b>");
  });

  test("payloads the reference crashed on: a dict (SERVICE_ERROR), text that is not JSON, markup characters", () => {
    const dict = formatNotice(JSON.stringify({ ...base, type: "SERVICE_ERROR", severity: "WARNING", payload: { state: "FAILED", reason: "dead workers" } }));
    expect(dict.html).toContain('<pre>{\n    "state": "FAILED",\n    "reason": "dead workers"\n}</pre>');
    const text = formatNotice(JSON.stringify({ ...base, message: "<class 'KeyError'> & more", payload: "not json at all <x>" }));
    expect(text.html).toContain("&lt;class 'KeyError'&gt; &amp; more");
    expect(text.html).toContain("<pre>not json at all &lt;x&gt;</pre>");
    expect(formatNotice(JSON.stringify({ ...base, payload: null })).html).toContain("<pre>null</pre>");
  });

  test("a body that is not JSON or not the notifier's shape is relayed raw, with a note", () => {
    const raw = formatNotice("plain <text>", "weird.key");
    expect(raw.html).toBe("A notification that is not JSON (weird.key):\n<pre>plain &lt;text&gt;</pre>");
    expect(raw.json).toEqual({ raw: "plain <text>", routing_key: "weird.key" });
    expect(formatNotice(JSON.stringify([1, 2])).html).toStartWith("A notification not in the notifier's format:\n<pre>[1,2]</pre>");
    expect(formatNotice(JSON.stringify({ subject: "x" })).html).toStartWith("A notification not in the notifier's format");
  });

  test("cut to Telegram's 4096 characters, the payload first, never inside an entity", () => {
    const n = formatNotice(JSON.stringify({ ...base, message: "m".repeat(5000), payload: "&".repeat(10000) }));
    expect(n.html.length).toBeLessThanOrEqual(TELEGRAM_MAX);
    expect(n.html).toMatch(/(&amp;)+\n… \(\d+ more characters\)<\/pre>$/);
    expect(n.plain.length).toBeLessThanOrEqual(TELEGRAM_MAX);
  });
});
