/** The edge: AMQP body → JSON → the service's valibot schema. Every failure is an InputError. */
import * as v from "valibot";
import { InputError } from "../loaders/errors";
import type { ServiceModule } from "./types";

/** valibot issues as one line: "branch: Invalid type: Expected string but received undefined; …". */
export function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 5)
    .map((i) => {
      const path = (i.path ?? []).map((p) => String(p.key)).join(".");
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join("; ");
}

export function parseJson(body: Uint8Array | string): unknown {
  const text = typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: false }).decode(body);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Checks an already parsed payload against the module's schema for `routingKey`. */
export function validatePayload<P>(module: ServiceModule<P>, routingKey: string, raw: unknown): P {
  const schema = module.schema(routingKey);
  if (!schema) throw new InputError(`unexpected routing key ${JSON.stringify(routingKey)} for service ${module.name} (takes ${module.defaults.routingKeys.join(", ")})`);
  const r = v.safeParse(schema, raw);
  if (!r.success) throw new InputError(`invalid ${routingKey} message: ${issueText(r.issues)}`);
  return r.output;
}

export function decodeMessage<P>(module: ServiceModule<P>, routingKey: string, body: Uint8Array | string): P {
  if (!module.schema(routingKey)) validatePayload(module, routingKey, undefined);
  return validatePayload(module, routingKey, parseJson(body));
}
