// A whole-stack preview under the Pulumi SDK's mocks: the program's own cost, without the engine.
import { engineConfig, runProgram } from '../test/program-harness';

const stack = process.argv[2];
runProgram(stack, engineConfig(stack)).then(
  ({ registered }) => console.log(JSON.stringify({ resources: registered.length })),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
