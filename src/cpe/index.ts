/**
 * CPE 2.3 names and NVD applicability ranges, pure: parsing the formatted-string binding (and the
 * 2.2 URI binding, converted), and deciding whether a package's upstream version falls in a
 * CpeMatch range. Versions are ordered by librpm's rpmvercmp (src/rpm/vercmp.ts), the one
 * comparison of the project.
 *
 * Rules (issue 13, checked by hand-computed cases in tests/cpe):
 * - part, vendor and product must be equal (never a prefix);
 * - a range (`versionStart/EndIncluding/Excluding`) compares the package's upstream version with
 *   each bound that is set; a bound equal to the version counts only when "including";
 * - without a range, a concrete criteria version means exactly that version (an update field
 *   that is set is part of it: `1.0:rc1` is `1.0.rc1`); `*` means every version; `-` ("not
 *   applicable": a product without versions) counts as every version too.
 */
import { rpmvercmp } from "../rpm/vercmp.ts";

export class CpeError extends Error {
  override name = "CpeError";
}

/** The eleven attributes of a CPE 2.3 name, as written in the formatted string (escapes kept). */
export interface Cpe {
  part: string;
  vendor: string;
  product: string;
  version: string;
  update: string;
  edition: string;
  language: string;
  swEdition: string;
  targetSw: string;
  targetHw: string;
  other: string;
}

const FIELDS: (keyof Cpe)[] = ["part", "vendor", "product", "version", "update", "edition", "language", "swEdition", "targetSw", "targetHw", "other"];

/** Split at colons not escaped by a backslash. */
function splitUnescaped(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === ":") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Parse `cpe:2.3:part:vendor:product:version:...` (11 attributes) or a 2.2 URI `cpe:/a:vendor:product[:version...]`
 * (missing attributes become `*`). Anything else throws a CpeError naming the string.
 */
export function parseCpe(s: string): Cpe {
  let values: string[];
  if (s.startsWith("cpe:2.3:")) {
    values = splitUnescaped(s.slice(8));
    if (values.length !== 11) throw new CpeError(`${JSON.stringify(s)}: a CPE 2.3 name has 11 attributes, this has ${values.length}`);
  } else if (s.startsWith("cpe:/")) {
    values = s
      .slice(5)
      .split(":")
      .map((v) => (v === "" ? "*" : decodeURIComponent(v).replace(/[^A-Za-z0-9_]/g, (c) => (c === "*" ? c : `\\${c}`))));
    if (values.length > 7) throw new CpeError(`${JSON.stringify(s)}: a CPE 2.2 URI has at most 7 components`);
    while (values.length < 11) values.push("*");
  } else throw new CpeError(`${JSON.stringify(s)}: not a CPE name (expected cpe:2.3:… or cpe:/…)`);
  if (!/^[aoh*]$/.test(values[0]!)) throw new CpeError(`${JSON.stringify(s)}: part must be a, o or h`);
  if (!values[1] || !values[2]) throw new CpeError(`${JSON.stringify(s)}: empty vendor or product`);
  const cpe = {} as Cpe;
  FIELDS.forEach((f, k) => (cpe[f] = values[k]!));
  return cpe;
}

/** The CPE 2.3 formatted string of `cpe`. */
export function formatCpe(cpe: Cpe): string {
  return `cpe:2.3:${FIELDS.map((f) => cpe[f]).join(":")}`;
}

/** Index key: part, vendor and product, which must be equal for a match. */
export function productKey(cpe: Cpe): string {
  return `${cpe.part}:${cpe.vendor}:${cpe.product}`;
}

/** A formatted-string value without its escapes (`1\.0\-beta` → `1.0-beta`). */
export function unescapeValue(v: string): string {
  return v.replace(/\\(.)/g, "$1");
}

/** One CpeMatch entry's version constraints (empty strings for unset bounds). */
export interface CpeRange {
  /** the criteria CPE's version attribute (`*`, `-` or a concrete version) */
  version: string;
  /** the criteria CPE's update attribute */
  update: string;
  start: string;
  startExcluded: boolean;
  end: string;
  endExcluded: boolean;
}

/** Is upstream `version` inside `r`? */
export function versionInRange(version: string, r: CpeRange): boolean {
  if (r.start || r.end) {
    if (r.start) {
      const c = rpmvercmp(version, r.start);
      if (c < 0 || (c === 0 && r.startExcluded)) return false;
    }
    if (r.end) {
      const c = rpmvercmp(version, r.end);
      if (c > 0 || (c === 0 && r.endExcluded)) return false;
    }
    return true;
  }
  if (r.version === "*" || r.version === "-" || r.version === "") return true;
  let want = unescapeValue(r.version);
  if (r.update && r.update !== "*" && r.update !== "-") want += `.${unescapeValue(r.update)}`;
  return rpmvercmp(version, want) === 0;
}
