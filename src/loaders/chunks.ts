/** Lists cut into pieces of at most `n`, so no query text grows with the data (shared by the loaders). */
export function chunks<T>(xs: readonly T[], n = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
