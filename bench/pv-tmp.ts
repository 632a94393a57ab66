import { E2EStack } from '../test/e2e/support';
(async () => {
  const s = await E2EStack.create('staging');
  try {
    for (let i = 0; i < 3; i++) {
      const a = Date.now();
      s.cli(['preview', '--diff=false']);
      console.log('preview', Date.now() - a);
    }
  } finally { s.cleanup(); }
})();
