export function xzDecode(_i: Uint8Array, _l: number): Uint8Array { throw new Error("todo"); }
export function lzmaAloneDecode(_i: Uint8Array, _l: number): Uint8Array { throw new Error("todo"); }
