// Prints one closing line with the test counts from jest's --json results file; fails when no test ran.
'use strict';
const results = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const skipped = results.numPendingTests + results.numTodoTests;
console.log(`jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (results.numTotalTests === 0) {
  console.error('no test ran');
  process.exit(1);
}
