import { EarshotError } from '../../shared/errors.js';
import { EMBEDDING_DIM, type FeatureStream } from './features.js';
import { inputDim, openSession, outputData, Tensor, type Session } from './session.js';

/**
 * One keyword model: it reads the newest N speech embeddings (N = 16, 1.28 s, for every
 * bundled model) and returns the probability that the keyword just ended.
 */
export class KeywordClassifier {
  private primary: Record<string, Tensor> | undefined;
  private shifted: Record<string, Tensor> | undefined;

  private constructor(
    private readonly session: Session,
    /** Embeddings per input window. */
    readonly windowLength: number,
  ) {}

  static async open(path: string, label: string): Promise<KeywordClassifier> {
    const session = await openSession(path, `wake-word "${label}"`);
    const frames = inputDim(session, 1);
    const dim = inputDim(session, 2);
    if (frames === undefined || frames < 1 || dim !== EMBEDDING_DIM) {
      await session.release();
      throw new EarshotError(
        'E_WAKE_MODEL_SHAPE',
        `${path} is not an openWakeWord keyword model (input must be [1, N, ${EMBEDDING_DIM}])`,
        { hint: 'use a keyword model trained with openWakeWord and exported to ONNX' },
      );
    }
    return new KeywordClassifier(session, frames);
  }

  /**
   * Binds the classifier to the shared feature history once: its inputs are views on
   * the newest `windowLength` embeddings of each phase, so scoring copies nothing.
   */
  bind(features: FeatureStream): void {
    const name = this.session.inputNames[0]!;
    const shape = [1, this.windowLength, EMBEDDING_DIM];
    this.primary = { [name]: new Tensor('float32', features.window(this.windowLength), shape) };
    this.shifted = {
      [name]: new Tensor('float32', features.shiftedWindow(this.windowLength), shape),
    };
  }

  /** The keyword probability for the current primary window. */
  score(): Promise<number> {
    return this.run(this.primary);
  }

  /** The same for the shifted phase (after `FeatureStream.updateShifted()`). */
  scoreShifted(): Promise<number> {
    return this.run(this.shifted);
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private async run(feeds: Record<string, Tensor> | undefined): Promise<number> {
    if (!feeds) throw new EarshotError('E_WAKE_STATE', 'classifier used before bind()');
    const out = outputData(await this.session.run(feeds), this.session);
    return out[0] ?? 0;
  }
}
