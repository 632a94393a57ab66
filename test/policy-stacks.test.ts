import { formatReport, problemCount } from '../policy/check';
import { checkStack, reportHeader } from '../stacks/check';

// Both stacks, every region, every object: strict schema validation (Kubernetes OpenAPI of the
// stack's version, CRDs from ../shared/crds) and every policy rule. On failure the message is the
// full `npm run check` report.
describe.each(['staging', 'prod'])('stack %s', (stack) => {
  it('renders with zero schema problems and zero policy violations', () => {
    const check = checkStack({ stack });
    const report = formatReport(reportHeader(check), check.regions);
    expect(check.regions.map((r) => r.region)).toEqual(check.config.regions.map((r) => r.name));
    expect(check.regions.every((r) => r.objectCount > 0)).toBe(true);
    if (problemCount(check.regions) > 0) throw new Error(`\n${report}`);
    expect(report).toContain('OK: no schema problems, no policy violations');
  });
});
