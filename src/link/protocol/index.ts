/**
 * The protocol module: the only part of `src/link` that other parts (the reference
 * cloud) may import. Message schemas, types, the codec and the error codes.
 */
export * from './messages.js';
export * from './codec.js';
