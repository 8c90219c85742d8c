/** Decimal (KB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB) units, case-insensitive; bare = bytes. */
const byteUnits: Readonly<Record<string, number>> = {
  '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4,
};

/**
 * "1048576", "64MiB", "1.5GB" → a whole number of bytes (rounded down); undefined when the text
 * is not a size. Callers check the range and word the error for their own flag or file.
 */
export function parseByteCount(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  const unit = byteUnits[(match?.[2] ?? '').toUpperCase()];
  if (match === null || unit === undefined) return undefined;
  return Math.floor(Number(match[1]) * unit);
}
