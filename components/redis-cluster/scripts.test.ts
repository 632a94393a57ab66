/**
 * Static checks of the lifecycle scripts shipped in the redis-cluster and cache-management
 * ConfigMaps. Needs shellcheck (`npm run setup`): the test FAILS when it is missing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { MANAGEMENT_SCRIPTS_DIR, NODE_SCRIPTS_DIR, requireBinaries, scriptFiles } from './test-support/redis-harness';

const EXPECTED = [
  path.join(NODE_SCRIPTS_DIR, 'lib.sh'),
  path.join(NODE_SCRIPTS_DIR, 'start.sh'),
  path.join(NODE_SCRIPTS_DIR, 'readiness.sh'),
  path.join(NODE_SCRIPTS_DIR, 'liveness.sh'),
  path.join(MANAGEMENT_SCRIPTS_DIR, 'bootstrap.sh'),
  path.join(MANAGEMENT_SCRIPTS_DIR, 'reconcile.sh'),
  path.join(MANAGEMENT_SCRIPTS_DIR, 'check.sh'),
];

describe('lifecycle shell scripts', () => {
  test('every expected script exists', () => {
    expect(scriptFiles().sort()).toEqual(expect.arrayContaining(EXPECTED.sort()));
  });

  test('shellcheck passes on every .sh of both scripts folders (following lib.sh)', () => {
    requireBinaries('shellcheck');
    const files = scriptFiles();
    const r = spawnSync('shellcheck', ['--external-sources', '--format=gcc', ...files], { encoding: 'utf8' });
    if (r.error) throw r.error;
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
  });

  test.each(scriptFiles().map((f) => [path.relative(path.resolve(__dirname, '..'), f), f]))(
    '%s: bash shebang, header comment, strict mode, no password on a command line, nothing destructive',
    (_name, file) => {
      const text = fs.readFileSync(file, 'utf8');
      const lines = text.split('\n');
      expect(lines[0]).toBe('#!/usr/bin/env bash');
      expect(lines[1]).toMatch(/^# \S+\.sh - /);
      if (!file.endsWith('lib.sh')) {
        expect(text).toMatch(/^set -euo pipefail$/m);
        expect(text).toContain('. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"');
      }
      const code = lines.filter((l) => !/^\s*#/.test(l));
      // redis-cli authenticates through REDISCLI_AUTH only.
      expect(code.filter((l) => /redis-cli\b.*\s(-a|--pass|--user)\s/.test(l))).toEqual([]);
      // No destructive command is ever sent (they may only be named in messages).
      expect(code.filter((l) => /(redis_try|rcli|redis-cli|redis_cluster_tool)\b.*\b(FLUSHALL|FLUSHDB|RESET|FORGET|del-node)\b/i.test(l))).toEqual([]);
    },
  );
});
