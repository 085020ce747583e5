/**
 * Just enough XML for vulnerability exports (FSTEC BDU): the `<name>` elements of a document,
 * one at a time as the text streams in, each turned into a plain JSON value:
 * - an element with only text and no attributes → its text;
 * - otherwise an object of its attributes, its child elements by name (repeated names → array)
 *   and, when it has text besides children, `text`.
 * Entities (the five named ones and numeric references), CDATA, comments and processing
 * instructions are handled; DTDs are not (an export has none). Elements named `name` must not nest.
 */
export class XmlError extends Error {
  override name = "XmlError";
}

export type XmlValue = string | { [k: string]: XmlValue | XmlValue[] };

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] === "#") {
      const cp = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e] ?? m;
  });
}

interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

/** Parse one element's text (`<x a="1">…</x>`) into a tree. */
export function parseElement(xml: string): Node {
  const stack: Node[] = [];
  let root: Node | undefined;
  let i = 0;
  const n = xml.length;
  while (i < n) {
    const lt = xml.indexOf("<", i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i && stack.length) stack.at(-1)!.text += decodeEntities(xml.slice(i, textEnd));
    if (lt < 0) break;
    if (xml.startsWith("<!--", lt)) {
      const e = xml.indexOf("-->", lt + 4);
      if (e < 0) throw new XmlError("comment not closed");
      i = e + 3;
    } else if (xml.startsWith("<![CDATA[", lt)) {
      const e = xml.indexOf("]]>", lt + 9);
      if (e < 0) throw new XmlError("CDATA not closed");
      if (stack.length) stack.at(-1)!.text += xml.slice(lt + 9, e);
      i = e + 3;
    } else if (xml.startsWith("<?", lt)) {
      const e = xml.indexOf("?>", lt + 2);
      if (e < 0) throw new XmlError("processing instruction not closed");
      i = e + 2;
    } else if (xml[lt + 1] === "/") {
      const e = xml.indexOf(">", lt);
      if (e < 0) throw new XmlError("end tag not closed");
      const name = xml.slice(lt + 2, e).trim();
      const top = stack.pop();
      if (!top || top.name !== name) throw new XmlError(`</${name}> does not close <${top?.name ?? "nothing"}>`);
      if (!stack.length) root = top;
      i = e + 1;
    } else {
      // a start tag: name, attributes, maybe self-closing; `>` inside quoted values is allowed
      let j = lt + 1;
      let quote = "";
      for (; j < n; j++) {
        const c = xml[j]!;
        if (quote) {
          if (c === quote) quote = "";
        } else if (c === '"' || c === "'") quote = c;
        else if (c === ">") break;
      }
      if (j >= n) throw new XmlError("start tag not closed");
      let body = xml.slice(lt + 1, j);
      const selfClosing = body.endsWith("/");
      if (selfClosing) body = body.slice(0, -1);
      const m = /^([^\s/>]+)/.exec(body);
      if (!m) throw new XmlError(`bad start tag <${body.slice(0, 40)}`);
      const node: Node = { name: m[1]!, attrs: {}, children: [], text: "" };
      for (const a of body.slice(m[1]!.length).matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) node.attrs[a[1]!] = decodeEntities(a[2] ?? a[3] ?? "");
      if (stack.length) stack.at(-1)!.children.push(node);
      if (selfClosing) {
        if (!stack.length) root = node;
      } else stack.push(node);
      i = j + 1;
    }
  }
  if (stack.length || !root) throw new XmlError(`element <${stack[0]?.name ?? "?"}> is not closed`);
  return root;
}

/** The JSON form of a tree (see the header); children named `parent/child` in `arrays` are always arrays. */
export function toJson(node: Node, arrays: ReadonlySet<string> = new Set()): XmlValue {
  const attrs = Object.keys(node.attrs);
  const text = node.text.trim();
  if (!attrs.length && !node.children.length) return text;
  const out: { [k: string]: XmlValue | XmlValue[] } = { ...node.attrs };
  for (const c of node.children) {
    const v = toJson(c, arrays);
    const have = out[c.name];
    if (have === undefined) out[c.name] = arrays.has(`${node.name}/${c.name}`) ? [v] : v;
    else if (Array.isArray(have)) have.push(v); // toJson never returns an array: this one is ours
    else out[c.name] = [have, v];
  }
  if (text) out.text = text;
  return out;
}

/** Every `<name …>…</name>` element of a streamed document, as its text. */
export async function* xmlElements(chunks: AsyncIterable<Uint8Array | string>, name: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const open = new RegExp(`<${name}[\\s>/]`);
  const close = `</${name}>`;
  let buf = "";
  let total = 0;
  for await (const chunk of chunks) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    total += chunk.length;
    for (;;) {
      const m = open.exec(buf);
      if (!m) {
        // keep a tail that may hold the start of an opening tag
        if (buf.length > name.length + 2) buf = buf.slice(-(name.length + 2));
        break;
      }
      const end = buf.indexOf(close, m.index);
      if (end < 0) {
        if (m.index > 0) buf = buf.slice(m.index);
        break;
      }
      yield buf.slice(m.index, end + close.length);
      buf = buf.slice(end + close.length);
    }
  }
  buf += decoder.decode();
  if (open.test(buf)) throw new XmlError(`document ends inside a <${name}> element (after ${total} bytes)`);
}
