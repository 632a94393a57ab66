/**
 * Orders strings by UTF-16 code unit, the same on every machine. `localeCompare` depends on the
 * machine's locale (rendered output must not) and its first call loads ICU collation data.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
