import { describeProgram } from './program-assertions';

describeProgram('prod');
