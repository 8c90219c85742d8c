// parseByteCount is the one size parser behind --capacity-bytes style flags and the CLI's
// --rate: decimal and binary units, case-insensitive, rounded down; anything else is refused.
import { parseByteCount } from '@tessera/common';

describe('parseByteCount', () => {
  it('reads bare bytes and decimal and binary units', () => {
    expect(parseByteCount('1048576')).toBe(1_048_576);
    expect(parseByteCount('64MiB')).toBe(64 * 1024 ** 2);
    expect(parseByteCount('64 mib')).toBe(64 * 1024 ** 2);
    expect(parseByteCount('1.5GB')).toBe(1_500_000_000);
    expect(parseByteCount('2TiB')).toBe(2 * 1024 ** 4);
    expect(parseByteCount('1.5B')).toBe(1);
  });

  it('refuses what is not a size', () => {
    for (const text of ['', 'fast', '-1', '10 XB', '1e6', '64MiB/s']) expect(parseByteCount(text)).toBeUndefined();
  });
});
