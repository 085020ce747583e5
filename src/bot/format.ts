/**
 * A notifier message as Telegram text (HTML, as the reference altrepobot wrote it) and as the
 * webhook's JSON. Never throws: a payload that is a string (the reference's `b'…'` text of bytes),
 * an object (a SERVICE_ERROR's dict — the reference crashed on it), not JSON at all, or a body that
 * is not the notifier's shape is still relayed. `<`, `>` and `&` are escaped everywhere (unescaped
 * ones made the reference's API calls fail), and the text is cut to Telegram's 4096 characters.
 */

/** Telegram's limit on a message's text. */
export const TELEGRAM_MAX = 4096;

export interface Notice {
  /** The HTML text (parse_mode HTML). */
  html: string;
  /** The same without markup, for a retry without parse_mode. */
  plain: string;
  /** What the webhook gets. */
  json: unknown;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function localTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The payload as the reference showed it: JSON pretty-printed with indent 4, else the text. */
export function payloadText(payload: unknown): string {
  if (payload === undefined) return "null";
  if (typeof payload !== "string") return JSON.stringify(payload, null, 4) ?? String(payload);
  // the reference's notifier sent bytes as Python text: b'{"taskid": 1}'
  const stripped = payload.replace(/^[b\\']+/, "").replace(/[\\']+$/, "").replaceAll("\\n", " ");
  try {
    return JSON.stringify(JSON.parse(stripped), null, 4);
  } catch {
    return payload;
  }
}

/** Header and payload into at most `max` characters, the payload cut first. */
function fit(head: string, body: string, wrap: (b: string) => string, max: number): string {
  const whole = head + wrap(body);
  if (whole.length <= max) return whole;
  const note = (n: number) => `\n… (${n} more characters)`;
  let keep = Math.max(0, max - head.length - wrap("").length - note(body.length).length);
  // an escaped entity is never cut in half
  const amp = body.lastIndexOf("&", keep);
  if (amp >= 0 && body.indexOf(";", amp) >= keep) keep = amp;
  return head + wrap(body.slice(0, keep) + note(body.length - keep));
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
/** Header texts are bounded (600 characters: at most 3000 escaped), so only the payload is ever cut. */
const short = (s: string, n = 600): string => (s.length > n ? `${s.slice(0, n)}…` : s);
const str = (x: unknown): string => (typeof x === "string" ? x : x === undefined || x === null ? "?" : typeof x === "object" ? JSON.stringify(x) : String(x));

/** The notice for one message body (bytes as received) and its routing key. */
export function formatNotice(body: Uint8Array | string, routingKey = ""): Notice {
  const raw = typeof body === "string" ? body : new TextDecoder().decode(body);
  let parsed: unknown;
  let isJson = true;
  try {
    parsed = JSON.parse(raw);
  } catch {
    isJson = false;
  }
  if (!isJson || !isObject(parsed) || !("subject" in parsed) || !("message" in parsed)) {
    const why = isJson ? "A notification not in the notifier's format" : "A notification that is not JSON";
    const head = `${why}${routingKey ? ` (${short(routingKey, 200)})` : ""}:\n`;
    return {
      html: fit(escapeHtml(head), escapeHtml(raw), (b) => `<pre>${b}</pre>`, TELEGRAM_MAX),
      plain: fit(head, raw, (b) => b, TELEGRAM_MAX),
      json: isJson ? parsed : { raw, routing_key: routingKey },
    };
  }
  const n = parsed;
  const when = typeof n.timestamp === "number" && Number.isFinite(n.timestamp) ? localTime(n.timestamp) : str(n.time);
  const head = [short(when, 60), `[${short(str(n.severity), 40)}] ${short(str(n.type), 60)} in `, short(str(n.subject), 100), `\n\n${short(str(n.message))}\n\npayload:\n`];
  const payload = payloadText(n.payload);
  const htmlHead = `${escapeHtml(head[0])}\n${escapeHtml(head[1])}<b>${escapeHtml(head[2])}</b>${escapeHtml(head[3])}`;
  return {
    html: fit(htmlHead, escapeHtml(payload), (b) => `<pre>${b}</pre>`, TELEGRAM_MAX),
    plain: fit(`${head[0]}\n${head[1]}${head[2]}${head[3]}`, payload, (b) => b, TELEGRAM_MAX),
    json: n,
  };
}
