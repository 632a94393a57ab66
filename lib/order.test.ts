import { byCodeUnit } from './order';

describe('byCodeUnit', () => {
  it('orders by UTF-16 code unit, not by locale collation', () => {
    // A locale collation puts "a" before "B" and may ignore punctuation; rendered output must not vary.
    expect(['b', 'a.b', 'B', 'a-b', 'a', 'a-b'].sort(byCodeUnit)).toEqual(['B', 'a', 'a-b', 'a-b', 'a.b', 'b']);
    expect(byCodeUnit('x', 'x')).toBe(0);
  });
});
