/**
 * The items of one top-level array of a JSON document (`{"vulnerabilities": [ {...}, ... ]}`),
 * yielded one by one as their text while the document streams in, so a feed file of hundreds of
 * MB never sits in memory. Only the structure is scanned (strings, escapes, nesting); each item
 * is parsed by JSON.parse. A document that ends early throws, after the complete items.
 */
export class JsonStreamError extends Error {
  override name = "JsonStreamError";
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COLON = 0x3a;

export async function* jsonArrayItems(chunks: AsyncIterable<Uint8Array>, key: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** text of the last string seen at depth 1 (a key candidate) */
  let lastString: number[] | null = null;
  let collectKey = false;
  let keyAtDepth1 = "";
  /** depth of the target array's contents, or 0 outside it */
  let arrayDepth = 0;
  let itemParts: Uint8Array[] = [];
  let itemStart = -1;
  let found = false;
  let total = 0;

  for await (const chunk of chunks) {
    total += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inString) {
        if (collectKey && lastString && lastString.length < 256) lastString.push(c);
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          if (collectKey && lastString) lastString.pop(); // the closing quote
        }
        continue;
      }
      if (c === QUOTE) {
        inString = true;
        collectKey = depth === 1;
        lastString = collectKey ? [] : null;
        continue;
      }
      if (c === COLON && depth === 1 && lastString) {
        keyAtDepth1 = decoder.decode(new Uint8Array(lastString));
        continue;
      }
      if (c === OPEN_OBJ || c === OPEN_ARR) {
        depth++;
        if (c === OPEN_ARR && depth === 2 && keyAtDepth1 === key && !found) {
          arrayDepth = 2;
          found = true;
        } else if (arrayDepth && depth === arrayDepth + 1 && itemStart < 0) {
          itemStart = i;
          itemParts = [];
        }
        continue;
      }
      if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        depth--;
        if (depth < 0) throw new JsonStreamError(`unbalanced ${String.fromCharCode(c)} at byte ${total - chunk.length + i}`);
        if (arrayDepth && depth === arrayDepth && itemStart >= 0) {
          itemParts.push(chunk.subarray(itemStart, i + 1));
          itemStart = -1;
          yield decoder.decode(itemParts.length === 1 ? itemParts[0] : Buffer.concat(itemParts));
          itemParts = [];
        } else if (arrayDepth && depth === arrayDepth - 1) arrayDepth = 0;
        if (depth === 1) keyAtDepth1 = "";
      }
    }
    if (itemStart >= 0) {
      // an item continues into the next chunk: keep a copy of its part of this one
      itemParts.push(chunk.slice(itemStart));
      itemStart = 0;
    }
  }
  if (depth !== 0 || inString) throw new JsonStreamError(`document ends early (after ${total} bytes, inside ${depth} open brackets)`);
  if (!found) throw new JsonStreamError(`no top-level "${key}" array`);
}

