import ort from 'onnxruntime-node';
import { EarshotError, errorMessage } from '../../shared/errors.js';
import { assertModelReadable } from './models.js';

export type Session = ort.InferenceSession;
export const Tensor = ort.Tensor;
export type Tensor = ort.Tensor;

/**
 * Session options for the audio path. One thread each: the wake word runs next to the
 * capture loop, the link and the LEDs on a small board, and these models are tiny, so
 * a thread pool costs more in wake-ups than it saves. The memory arena and memory
 * patterns are off because every input here has a fixed shape and the arena otherwise
 * keeps tens of MiB that the Pi Zero 2 W (512 MiB) needs elsewhere.
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
 * count) to the only values this engine ever uses, so onnxruntime can plan the graph for
 * them once (measured: about 15 % less time per embedding run).
 */
export async function openSession(
  path: string,
  what: string,
  fixedShape?: number[],
): Promise<Session> {
  await assertModelReadable(path, what);
  try {
    const session = await ort.InferenceSession.create(path, OPTIONS);
    const overrides = fixedShape ? symbolicOverrides(session, fixedShape) : {};
    if (Object.keys(overrides).length === 0) return session;
    await session.release();
    return await ort.InferenceSession.create(path, {
      ...OPTIONS,
      freeDimensionOverrides: overrides,
    });
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

/** The single float32 output of a run, by position. */
export function outputData(
  result: ort.InferenceSession.ReturnType,
  session: Session,
): Float32Array {
  const name = session.outputNames[0];
  const tensor = name === undefined ? undefined : result[name];
  if (!tensor || !(tensor.data instanceof Float32Array)) {
    throw new EarshotError('E_WAKE_MODEL_OUTPUT', 'wake-word model returned no float32 output');
  }
  return tensor.data;
}

/** The fixed size of dimension `dim` of the first input, or undefined when it is symbolic. */
export function inputDim(session: Session, dim: number): number | undefined {
  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor) return undefined;
  const size = meta.shape[dim];
  return typeof size === 'number' ? size : undefined;
}
