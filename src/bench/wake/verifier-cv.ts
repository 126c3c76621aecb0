import type { WindowVerifier } from '../../wake/openwakeword/detector.js';
import {
  foldsPathOf,
  loadVerifierFile,
  loadVerifierFolds,
  verifierPathFor,
  WakeVerifier,
} from '../../wake/openwakeword/verifier.js';
import { contentHash } from './verifier-data.js';

/**
 * The verifier as the benchmark asks it: the bundled model on negatives, and on each
 * positive that the verifier was trained on, the fold model trained WITHOUT that
 * speaker (found by the recording's content hash), so that detection on the development
 * corpus is a cross-validated figure and not a model scored on its own training data.
 * Recordings it never saw (another corpus, your own) get the bundled model.
 */
export class CrossValidatedVerifier implements WindowVerifier {
  private current: WakeVerifier;
  private readonly byHash = new Map<string, WakeVerifier>();
  private hashes = new Map<string, string>();

  private constructor(
    /** The verifier file, for the trace cache's key. */
    private readonly path: string,
    private readonly full: WakeVerifier,
    folds: Array<{ heldOut: string[]; model: WakeVerifier }>,
  ) {
    this.current = full;
    for (const f of folds) for (const h of f.heldOut) this.byHash.set(h, f.model);
  }

  get windowLength(): number {
    return this.full.windowLength;
  }

  /** The bundled verifier of `keywordModel` with its fold models, or undefined. */
  static async open(keywordModel: string): Promise<CrossValidatedVerifier | undefined> {
    const path = verifierPathFor(keywordModel);
    if (!path) return undefined;
    const file = await loadVerifierFile(path);
    return new CrossValidatedVerifier(
      path,
      new WakeVerifier(file.net, file.windowLength),
      (await loadVerifierFolds(path, file.windowLength)).map((f) => ({
        heldOut: f.heldOut,
        model: new WakeVerifier(f.net, file.windowLength),
      })),
    );
  }

  /** Names the weights (content hashes of the files): traces scored with others differ. */
  async id(): Promise<string> {
    // The fold models score the positives: they are part of what the traces depend on.
    return `${await contentHash(this.path)}+${await contentHash(foldsPathOf(this.path))}`;
  }

  /** Hashes the positive recordings once (before the timed pass). */
  async learn(files: readonly string[]): Promise<void> {
    for (const f of files) if (!this.hashes.has(f)) this.hashes.set(f, await contentHash(f));
  }

  /** The model for the next recording: its fold model when it is a training speaker. */
  select(file: string | undefined, positive: boolean): void {
    const fold = file === undefined ? undefined : this.byHash.get(this.hashes.get(file) ?? '');
    this.current = positive && fold ? fold : this.full;
  }

  /** Of these positives (hashed by `learn`), how many a fold model scores: cross-validated. */
  coverage(files: readonly string[]): { positives: number; crossValidated: number } {
    const crossValidated = files.filter((f) => this.byHash.has(this.hashes.get(f) ?? '')).length;
    return { positives: files.length, crossValidated };
  }

  score(window: Float32Array): number {
    return this.current.score(window);
  }
}
