/**
 * Kubernetes resource quantities, parsed to plain numbers so that config validation
 * and derived settings (e.g. Redis maxmemory from the container limit) can do arithmetic.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

const MEMORY_PATTERN = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;
const CPU_PATTERN = /^([0-9]+(?:\.[0-9]+)?)(m)?$/;

/** Parses a memory quantity such as `512Mi` or `4Gi` to bytes; undefined when malformed. */
export function parseMemory(quantity: string): number | undefined {
  const match = MEMORY_PATTERN.exec(quantity);
  if (!match) return undefined;
  const unit = match[2] ?? '';
  const factor = BINARY[unit] ?? DECIMAL[unit];
  return Math.floor(Number(match[1]) * factor);
}

/** Parses a CPU quantity such as `250m` or `2` to millicores; undefined when malformed. */
export function parseCpu(quantity: string): number | undefined {
  const match = CPU_PATTERN.exec(quantity);
  if (!match) return undefined;
  return match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
}

export const MiB = 2 ** 20;

/** Formats bytes as a whole number of MiB, the unit Redis and humans both read easily. */
export function formatMiB(bytes: number): string {
  return `${Math.floor(bytes / MiB)}Mi`;
}
