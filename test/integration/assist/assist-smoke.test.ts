import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HaStandin } from '../../../src/ha-standin/server.js';
import { verifyLedger } from '../../../src/privacy/verify.js';
import { runDevice } from '../../helpers/device-cloud.js';
import { haConfig, RecordingSink, startStandin, tokenFile } from '../../helpers/ha-standin.js';
import { fixture, tempDir } from '../../helpers/paths.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

let certs: TestCerts;
let standin: HaStandin;
const tmp = tempDir();
beforeAll(async () => {
  certs = makeCerts('kitchen');
  standin = await startStandin(certs);
});
afterAll(async () => {
  await standin.close();
  certs.cleanup();
  tmp.cleanup();
});

it('smoke', async () => {
  const sink = new RecordingSink();
  const ledger = join(tmp.dir, 'l.jsonl');
  const run = await runDevice(
    fixture('alexa-what-time.wav'),
    haConfig(certs, standin, ledger, tokenFile(tmp.dir)),
    { sink },
  );
  console.log(
    JSON.stringify(
      run.events.filter((e) => e.event !== 'led'),
      null,
      0,
    ),
  );
  console.log(standin.runs.map((r) => ({ ...r, audio: r.audio.length })));
  console.log(sink.sounds);
  const v = await verifyLedger(ledger);
  console.log(JSON.stringify(v.entries));
  expect(v.ok).toBe(true);
}, 60_000);
