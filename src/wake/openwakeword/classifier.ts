import { EarshotError } from '../../shared/errors.js';
import { EMBEDDING_DIM, type FeatureStream } from './features.js';
import { BoundModel, inputDim, openSession, outputShape, Tensor, type Session } from './session.js';

/**
 * One keyword model: it reads the newest N speech embeddings (N = 16, 1.28 s, for every
 * bundled model) and returns the probability that the keyword just ended.
 */
export class KeywordClassifier {
  private bound: BoundModel | undefined;
  private out: Float32Array | undefined;

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
   * Binds the classifier to the shared feature history once: its input is a view on the
   * newest `windowLength` embeddings, so scoring copies nothing.
   */
  bind(features: FeatureStream): void {
    const view = features.window(this.windowLength);
    const input = new Tensor('float32', view, [1, this.windowLength, EMBEDDING_DIM]);
    this.bound = new BoundModel(
      this.session,
      { [this.session.inputNames[0]!]: input },
      { [this.session.outputNames[0]!]: outputShape(this.session) },
    );
    this.out = this.bound.output(this.session.outputNames[0]!);
  }

  /** The keyword probability for the current window. */
  async score(): Promise<number> {
    if (!this.bound || !this.out) {
      throw new EarshotError('E_WAKE_STATE', 'classifier used before bind()');
    }
    await this.bound.run();
    return this.out[0] ?? 0;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
