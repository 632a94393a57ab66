import { Json } from './pods';
import { Rule, Violation } from './types';

export const jobLifecycle: Rule = {
  id: 'job-lifecycle',
  description: 'Jobs (and CronJob job templates) set backoffLimit and ttlSecondsAfterFinished, so failures stop and finished Jobs are cleaned up',
  scope: 'resource',
  validate(obj) {
    let spec: Json | undefined;
    let path: string;
    if (obj.kind === 'Job') {
      spec = (obj as Json).spec;
      path = 'spec';
    } else if (obj.kind === 'CronJob') {
      spec = (obj as Json).spec?.jobTemplate?.spec;
      path = 'spec.jobTemplate.spec';
    } else {
      return [];
    }
    const out: Violation[] = [];
    for (const field of ['backoffLimit', 'ttlSecondsAfterFinished']) {
      if (typeof spec?.[field] !== 'number') out.push({ path: `${path}.${field}`, message: 'must be set' });
    }
    return out;
  },
};

export const JOB_RULES: readonly Rule[] = [jobLifecycle];
