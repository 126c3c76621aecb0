/** The reference cloud, for `earshot cloud`, `earshot demo` and tests. */
export { startCloudServer, type CloudServer } from './server.js';
export {
  DEFAULT_BEHAVIOUR,
  GARBAGE_KINDS,
  type CloudBehaviour,
  type CloudServerEvents,
  type CloudServerOptions,
  type GarbageKind,
  type SessionInfo,
  type UtteranceRecord,
} from './types.js';
export type { Voice } from './speech.js';
