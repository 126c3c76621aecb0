import { checkAnchors, checkReceipts } from '../privacy/proofs.js';
import type { VerifyResult } from '../privacy/verify.js';
import { esc } from './http.js';
import type { LedgerSource } from './ledger-pages.js';

function para(cls: string, text: string): string {
  return `<p class="${cls}">${text}</p>`;
}

/**
 * What `earshot ledger verify` finds, in words for someone who has never heard of a
 * hash chain: what each check shows, what it cannot show, and what broke if anything.
 */
export function proofContent(
  result: VerifyResult,
  source: LedgerSource,
  head: { seq: number; hash: string } | undefined,
): string {
  const uploads = result.entries.filter((e) => e.type === 'utterance').length;
  const receipts = checkReceipts(result.entries, source.receiptKey, source.file);
  const anchorProblem = head ? checkAnchors(result, [head]) : undefined;
  const allGood = result.ok && !receipts.problem && !anchorProblem;
  const sections: string[] = [];

  sections.push(
    `<section class="card proof" data-check="summary"><h2>${allGood ? 'The record holds' : 'The record does not hold'}</h2>${para(
      allGood ? 'ok' : 'bad',
      allGood
        ? `Every one of the ${result.entries.length} entries (${uploads} recordings sent or started) is still as it was written.`
        : 'Something in the record was changed, removed or does not match what the cloud signed. Details below.',
    )}</section>`,
  );

  const chain = result.ok
    ? para(
        'ok',
        `Each entry carries a fingerprint of the one before it, like links of a chain. All ${result.entries.length} links still fit: no entry was changed, removed or reordered since it was written.`,
      )
    : para(
        'bad',
        `The chain breaks at ${esc(result.problem?.file ?? '')} line ${result.problem?.line ?? 0}: ${esc(result.problem?.message ?? '')}.`,
      );
  const torn = result.warnings.length
    ? para(
        'warn',
        `${result.warnings.length} entry(ies) were cut short by a power cut while being written; that is not tampering.`,
      )
    : '';
  sections.push(
    `<section class="card proof" data-check="chain"><h2>The chain</h2>${chain}${torn}${para('sub', `Files: ${result.files.map(esc).join(', ')}`)}</section>`,
  );

  const r = receipts.report;
  const missing = r.withoutReceipt.length;
  const receiptText = receipts.problem
    ? para('bad', esc(receipts.problem.message))
    : source.receiptKey
      ? para(
          r.verified > 0 ? 'ok' : 'sub',
          `${r.verified} answer(s) from the cloud carry its signed receipt, and each signature checks out against the cloud's key: the cloud itself confirmed what it received and whether it kept it.`,
        )
      : para(
          'warn',
          `${r.unchecked} answer(s) carry a signed receipt, but no key to check them is configured (cloud.receiptKey), so they are not checked.`,
        );
  sections.push(
    `<section class="card proof" data-check="receipts"><h2>The cloud's receipts</h2>${receiptText}${para(
      missing ? 'warn' : 'sub',
      `${missing} recording(s) sent without a receipt${missing ? ` (for example entry ${r.withoutReceipt[0]!.seq})` : ''}. Without one, only the device's word says what was sent.`,
    )}</section>`,
  );

  const anchorText = !head
    ? para('sub', 'No entry has been written yet, so there is no head to publish.')
    : anchorProblem
      ? para('bad', esc(anchorProblem.message))
      : para(
          'ok',
          `The newest entry is number ${head.seq}; the ledger still holds it as it was. ${
            source.anchorPublished
              ? 'It is published to your MQTT broker each time it changes, where Home Assistant keeps its history: a record rewritten on this device would no longer match what was published there (check with `earshot ledger verify --anchor mqtt`).'
              : 'MQTT is not configured, so it is not published anywhere else: a record rewritten on this device as a whole would not show.'
          }`,
        );
  sections.push(
    `<section class="card proof" data-check="anchor"><h2>The last published head</h2>${anchorText}${
      head ? para('mono', `entry ${head.seq}: ${esc(head.hash)}`) : ''
    }</section>`,
  );

  sections.push(
    `<section class="card proof"><h2>What this cannot show</h2>${para(
      'sub',
      'The record is kept by the speaker itself. It shows what the speaker\u2019s own software sent and that the record was not edited afterwards; it cannot show what software someone else may have put on the speaker, nor what the cloud did with a recording it promised not to keep.',
    )}</section>`,
  );
  return `<div class="cards">${sections.join('')}</div>`;
}
