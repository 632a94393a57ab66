import { deployStack, loadConfigFromEngine } from './stacks/program';

// Validate everything first: a bad config registers nothing.
export const regions = deployStack(loadConfigFromEngine());
