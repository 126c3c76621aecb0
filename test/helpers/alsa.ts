// ALSA configurations that turn files into sound devices, so the real `arecord` and
// `aplay` run in tests on a machine without a sound card (src/bench/fifo-mic.ts; the
// benchmark `npm run bench:daemon` uses the same). Capture reads `infile` as fast as it
// can and, past its end, repeats stale data: tests bound what they read by the fixture's
// length. For paced capture the infile can be a FIFO the test feeds in real time.
export { alsaFileConfig } from '../../src/bench/fifo-mic.js';
