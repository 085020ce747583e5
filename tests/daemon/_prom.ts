/**
 * A strict reader of the Prometheus text format (0.0.4) for the metrics tests: it throws on
 * anything the format does not allow or that we promise not to do (a sample before its TYPE, a
 * family split or typed twice, a bad name, a bad escape, a duplicate series, a counter not
 * ending in _total or negative), and returns the samples with their labels unescaped.
 * `promtool check metrics` (Debian's prometheus package) is the second, independent oracle.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Parsed {
  families: Map<string, { type: string; help: string }>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

function unescapeHelp(s: string, line: number): string {
  return s.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new Error(`line ${line}: bad escape \\${c} in HELP`);
  });
}

function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    if (s[i] === "}") return { labels, rest: s.slice(i + 1) };
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`line ${line}: label without "="`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value of ${name} is not quoted`);
    let v = "";
    let j = eq + 2;
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value of ${name}`);
      if (c === '"') break;
      if (c === "\\") {
        const n = s[j + 1];
        if (n === "\\") v += "\\";
        else if (n === '"') v += '"';
        else if (n === "n") v += "\n";
        else throw new Error(`line ${line}: bad escape \\${n ?? ""} in label ${name}`);
        j += 2;
        continue;
      }
      v += c;
      j++;
    }
    labels[name] = v;
    i = j + 1;
    if (s[i] === ",") {
      i++;
      if (s[i] === "}") throw new Error(`line ${line}: trailing comma in labels`);
    } else if (s[i] !== "}") throw new Error(`line ${line}: expected "," or "}" after label ${name}`);
  }
}

export function parseExposition(text: string): Parsed {
  if (!text.endsWith("\n")) throw new Error("the text does not end with a newline");
  const families = new Map<string, { type: string; help: string }>();
  const helpOf = new Map<string, string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  const samples: Sample[] = [];
  let current: string | undefined;
  const open = (name: string, line: number) => {
    if (closed.has(name)) throw new Error(`line ${line}: family ${name} appears again after another family`);
    if (current !== undefined && current !== name) closed.add(current);
    current = name;
  };
  text
    .slice(0, -1)
    .split("\n")
    .forEach((l, idx) => {
      const line = idx + 1;
      if (l === "") throw new Error(`line ${line}: empty line`);
      let m = /^# HELP (\S+) (.*)$/.exec(l);
      if (m) {
        if (!NAME.test(m[1])) throw new Error(`line ${line}: bad metric name ${m[1]}`);
        if (helpOf.has(m[1])) throw new Error(`line ${line}: second HELP for ${m[1]}`);
        if (families.has(m[1])) throw new Error(`line ${line}: HELP for ${m[1]} after its TYPE`);
        open(m[1], line);
        helpOf.set(m[1], unescapeHelp(m[2], line));
        return;
      }
      m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(l);
      if (m) {
        if (!NAME.test(m[1])) throw new Error(`line ${line}: bad metric name ${m[1]}`);
        if (families.has(m[1])) throw new Error(`line ${line}: second TYPE for ${m[1]}`);
        if (!helpOf.has(m[1])) throw new Error(`line ${line}: TYPE for ${m[1]} without HELP`);
        open(m[1], line);
        families.set(m[1], { type: m[2], help: helpOf.get(m[1])! });
        return;
      }
      if (l.startsWith("#")) throw new Error(`line ${line}: unexpected comment ${JSON.stringify(l)}`);
      m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(l);
      if (!m) throw new Error(`line ${line}: not a sample: ${JSON.stringify(l)}`);
      const name = m[1];
      const fam = families.get(name);
      if (!fam) throw new Error(`line ${line}: sample of ${name} before its TYPE`);
      if (current !== name) throw new Error(`line ${line}: sample of ${name} outside its family's block`);
      let rest = m[2];
      let labels: Record<string, string> = {};
      if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest.slice(1), line));
      const vm = /^ (\S+)$/.exec(rest);
      if (!vm || !VALUE.test(vm[1])) throw new Error(`line ${line}: bad value part ${JSON.stringify(rest)} (timestamps are not used)`);
      const value = vm[1] === "NaN" ? NaN : vm[1] === "+Inf" ? Infinity : vm[1] === "-Inf" ? -Infinity : Number(vm[1]);
      if (fam.type === "counter") {
        if (!name.endsWith("_total")) throw new Error(`line ${line}: counter ${name} does not end in _total`);
        if (!(value >= 0)) throw new Error(`line ${line}: counter ${name} is ${vm[1]}`);
      }
      const key = name + JSON.stringify(Object.entries(labels).sort());
      if (series.has(key)) throw new Error(`line ${line}: duplicate series ${l}`);
      series.add(key);
      samples.push({ name, labels, value });
    });
  for (const n of helpOf.keys()) if (!families.has(n)) throw new Error(`HELP for ${n} without TYPE`);
  return { families, samples };
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function valueOf(p: Parsed, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = p.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

export const PROMTOOL = Bun.which("promtool");

/** `promtool check metrics` on the text: exit code and what it said. */
export function promtoolCheck(text: string): { ok: boolean; out: string } {
  const r = Bun.spawnSync([PROMTOOL!, "check", "metrics"], { stdin: Buffer.from(text), stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  return { ok: r.exitCode === 0, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}
