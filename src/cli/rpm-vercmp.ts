/** `altrepodb rpm vercmp A B` / `rpm vercmp -`: order [E:]V[-R] labels exactly as librpm does. */
import { defineCommand } from "citty";
import { compareEvr } from "../rpm/vercmp.ts";
import { RunFailed, UsageError } from "./errors";

export default defineCommand({
  meta: {
    name: "vercmp",
    description: "Print -1, 0 or 1 as librpm orders two [E:]V[-R] labels; `-` reads \"A B\" pairs from stdin",
    examples: ["altrepodb rpm vercmp 1:2.0-alt1 2.1-alt1", "printf '1.0 1.0~rc1\\n' | altrepodb rpm vercmp -"],
  },
  args: {
    a: { type: "positional", description: "first label, or - for pairs on stdin", required: true },
    b: { type: "positional", description: "second label", required: false },
  },
  async run({ args }) {
    const a = String(args.a);
    if (a !== "-") {
      if (args.b === undefined || (args._ as string[]).length > 2) throw new UsageError("rpm vercmp takes two labels, or - (example: altrepodb rpm vercmp 1:2.0-alt1 2.1-alt1)");
      let r: number;
      try {
        r = compareEvr(a, String(args.b));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      process.stdout.write(`${r}\n`);
      return;
    }
    if (args.b !== undefined) throw new UsageError("rpm vercmp - takes no other argument");
    await comparePairs();
  },
});

/** One result per "A B" line of stdin; a malformed line is named on stderr, the rest still answered. */
async function comparePairs(): Promise<void> {
  const out: string[] = [];
  let bad = 0;
  let n = 0;
  let rest = "";
  const decoder = new TextDecoder();
  const flush = () => {
    if (out.length) process.stdout.write(out.join(""));
    out.length = 0;
  };
  const line = (l: string) => {
    n++;
    const t = l.trim();
    if (!t) return;
    const f = t.split(/\s+/);
    if (f.length !== 2) {
      bad++;
      process.stderr.write(`altrepodb rpm vercmp: stdin line ${n}: expected two labels, got ${f.length}\n`);
      return;
    }
    try {
      out.push(`${compareEvr(f[0]!, f[1]!)}\n`);
    } catch (e) {
      bad++;
      process.stderr.write(`altrepodb rpm vercmp: stdin line ${n}: ${(e as Error).message}\n`);
      return;
    }
    if (out.length >= 4096) flush();
  };
  for await (const chunk of Bun.stdin.stream()) {
    rest += decoder.decode(chunk, { stream: true });
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const l of lines) line(l);
  }
  rest += decoder.decode();
  if (rest) line(rest);
  flush();
  if (bad) throw new RunFailed(`${bad} of ${n} lines were not two valid labels`);
}
