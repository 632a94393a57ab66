import { describeProgram } from './program-assertions';

describeProgram('staging');
