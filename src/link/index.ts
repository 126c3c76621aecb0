/**
 * The device <-> cloud link: what the device's orchestrator uses. The protocol module
 * (`./protocol/index.js`) is exported separately for the reference cloud.
 */
export { CloudLink } from './cloud-link.js';
export type { CloudLinkOptions, HelloInfo, LinkSettings, UtteranceStart } from './cloud-link.js';
export type { CloudUpload, UploadState, UploadResult } from './uploader.js';
export type * from './types.js';
export type {
  WireAbortReason,
  WireEndReason,
  Settings,
  WireTrigger,
  AudioFormat,
} from './protocol/index.js';
export { SUBPROTOCOL, PROTOCOL_VERSION } from './protocol/index.js';
