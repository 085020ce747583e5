/** Option and argument values checked at the edge (valibot); a bad one is a UsageError naming it. */
import * as v from "valibot";
import { UsageError } from "./errors";

const realDate = (s: string) => {
  const t = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
};

const DATE = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD"), v.check(realDate, "is not a calendar day"));
/** The loaders' rule for branch (package set) names: p10, sisyphus, c10f2, 4.1, … */
const BRANCH = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/, "must be a plain name such as p10 or sisyphus (letters, digits, _ . + -)"));
const POSITIVE_INT = v.pipe(v.string(), v.regex(/^\d+$/, "must be a positive integer"), v.transform(Number), v.minValue(1, "must be a positive integer"));

function check<T>(schema: v.GenericSchema<string, T>, name: string, value: unknown): T {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  throw new UsageError(`${name} ${r.issues[0].message}, not ${JSON.stringify(value)}`);
}

export const dateArg = (name: string, value: unknown): string => check(DATE, name, value);
export const branchArg = (name: string, value: unknown): string => check(BRANCH, name, value);

/** Undefined when not given. */
export function positiveIntArg(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : check(POSITIVE_INT, name, value);
}

export function choiceArg<const T extends string>(name: string, value: unknown, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly unknown[]).includes(value)) return value as T;
  throw new UsageError(`${name} must be ${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}, not ${JSON.stringify(value)}`);
}
