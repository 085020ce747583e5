/** Strict hex decoding for digests found in task files. */
export function fromHexStrict(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  return Uint8Array.from(Buffer.from(hex, "hex"));
}
