import { expect } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../src/config/load.js';

/** The problems of the ConfigError that `fn` must throw (anything else fails the test). */
export function configProblems(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
