import { expect, test } from 'vitest';
import { toCsv } from '../../src/ui/exportChart';

test('CSV quoting follows RFC 4180 and non-finite numbers become empty cells', () => {
  expect(toCsv(['a', 'b'], [[1, 'x,y'], ['he said "hi"', NaN], [null, Infinity]])).toBe('a,b\n1,"x,y"\n"he said ""hi""",\n,\n');
});
