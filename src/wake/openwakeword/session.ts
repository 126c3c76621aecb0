import ort from 'onnxruntime-node';
import { openModel } from '../../models/prebuilt.js';
import { EarshotError, errorMessage } from '../../shared/errors.js';
import { assertModelReadable } from './models.js';

export type Session = ort.InferenceSession;
export const Tensor = ort.Tensor;
export type Tensor = ort.Tensor;

/**
 * Session options for the audio path. One thread each: the wake word runs next to the
 * capture loop, the link and the LEDs on a small board, and these models are tiny, so a
 * thread pool costs more in wake-ups than it saves. The CPU memory arena and memory
 * patterns are off: with fixed, small shapes they made no measurable difference to CPU
 * time or peak memory here, and without them onnxruntime keeps no private pool of freed
 * buffers.
 */
const OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  enableCpuMemArena: false,
  enableMemPattern: false,
  logSeverityLevel: 3,
};

/**
 * Loads one model; a missing or broken file becomes an EarshotError naming the file.
 * `fixedShape` pins the symbolic dimensions of the first input (batch size, sample
 * count) to the only values this engine ever uses, so onnxruntime plans the graph for
 * them once (measured: about 15 % less time per embedding run).
 */
export async function openSession(
  path: string,
  what: string,
  fixedShape?: number[],
): Promise<Session> {
  await assertModelReadable(path, what);
  try {
    const { session } = await openModel(path, OPTIONS);
    const overrides = fixedShape ? symbolicOverrides(session, fixedShape) : {};
    if (Object.keys(overrides).length === 0) return session;
    // The symbolic names are only known once the model is open; reopen with them pinned.
    await session.release();
    return (await openModel(path, { ...OPTIONS, freeDimensionOverrides: overrides })).session;
  } catch (err) {
    throw new EarshotError(
      'E_WAKE_MODEL_LOAD',
      `cannot load ${what} model ${path}: ${errorMessage(err)}`,
      {
        cause: err,
        hint: 'the file is not a valid ONNX model for onnxruntime; re-download or re-export it',
      },
    );
  }
}

/**
 * A session with its inputs and outputs bound to buffers allocated once: each `run`
 * reads the input buffers as they are at that moment and writes the outputs in place,
 * so the audio path allocates no tensor data per frame.
 */
export class BoundModel {
  private readonly fetches: Record<string, Tensor> = {};
  private readonly buffers = new Map<string, Float32Array>();

  constructor(
    readonly session: Session,
    private readonly feeds: Record<string, Tensor>,
    outputs: Record<string, number[]>,
  ) {
    for (const [name, shape] of Object.entries(outputs)) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      this.buffers.set(name, data);
      this.fetches[name] = new Tensor('float32', data, shape);
    }
  }

  /** The buffer that output `name` is written to. */
  output(name: string): Float32Array {
    const data = this.buffers.get(name);
    if (!data) throw new EarshotError('E_WAKE_STATE', `no bound output ${name}`);
    return data;
  }

  async run(): Promise<void> {
    await this.session.run(this.feeds, this.fetches);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function symbolicOverrides(session: Session, shape: number[]): Record<string, number> {
  const meta = session.inputMetadata[0];
  const overrides: Record<string, number> = {};
  if (!meta?.isTensor) return overrides;
  meta.shape.forEach((dim, i) => {
    const size = shape[i];
    if (typeof dim === 'string' && size !== undefined) overrides[dim] = size;
  });
  return overrides;
}

/** The fixed size of dimension `dim` of the first input, or undefined when it is symbolic. */
export function inputDim(session: Session, dim: number): number | undefined {
  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor) return undefined;
  const size = meta.shape[dim];
  return typeof size === 'number' ? size : undefined;
}

/** The fixed shape of the first output, with symbolic dimensions taken as 1. */
export function outputShape(session: Session): number[] {
  const meta = session.outputMetadata[0];
  if (!meta || !meta.isTensor)
    throw new EarshotError('E_WAKE_MODEL_SHAPE', 'model has no tensor output');
  return meta.shape.map((d) => (typeof d === 'number' ? d : 1));
}
