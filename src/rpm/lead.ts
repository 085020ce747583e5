/** The 96-byte lead at the start of every .rpm file. Only magic, version, type and signature type matter. */
import { RpmError } from "./errors.ts";

export const LEAD_SIZE = 96;
const MAGIC = [0xed, 0xab, 0xee, 0xdb] as const;
/** RPMSIGTYPE_HEADERSIG: the signature is a header structure (the only kind librpm accepts). */
const SIGTYPE_HEADERSIG = 5;

export interface Lead {
  major: number;
  minor: number;
  /** 0 = binary, anything else is treated as a source package. */
  type: number;
  archnum: number;
  osnum: number;
  signatureType: number;
}

export function parseLead(buf: Uint8Array, path = ""): Lead {
  if (buf.length < LEAD_SIZE) {
    throw new RpmError("truncated", `file is ${buf.length} bytes, shorter than the ${LEAD_SIZE}-byte RPM lead`, path, 0);
  }
  for (let i = 0; i < 4; i++) {
    if (buf[i] !== MAGIC[i]) throw new RpmError("magic", "not an RPM package (bad lead magic)", path, 0);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, LEAD_SIZE);
  const lead: Lead = {
    major: buf[4],
    minor: buf[5],
    type: v.getUint16(6),
    archnum: v.getUint16(8),
    osnum: v.getUint16(76),
    signatureType: v.getUint16(78),
  };
  if (lead.major < 3 || lead.major > 4) {
    throw new RpmError("version", `unsupported RPM lead version ${lead.major}.${lead.minor}`, path, 4);
  }
  if (lead.signatureType !== SIGTYPE_HEADERSIG) {
    throw new RpmError("version", `unsupported signature type ${lead.signatureType} (expected ${SIGTYPE_HEADERSIG})`, path, 78);
  }
  return lead;
}
