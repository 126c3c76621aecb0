import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ort from 'onnxruntime-node';
import {
  MANIFEST,
  packageModelDir,
  prebuiltDir,
  type PrebuiltEntry,
  type PrebuiltManifest,
} from './prebuilt.js';

/**
 * Models left as `.onnx`. An ORT file gets only the optimisations it was saved with:
 * the CPU-specific layout ('all') that onnxruntime applies when it opens an `.onnx`
 * cannot be applied to it, and cannot be saved into a file meant for any CPU. For the
 * speech embedding, the convolutional model that is most of the wake word's CPU, that
 * costs 15 % per run (1.40 against 1.22 ms); the other models run as fast either way.
 */
export const KEEP_ONNX: ReadonlySet<string> = new Set(['embedding_model.onnx']);

/**
 * Converts every bundled `.onnx` model to onnxruntime's ORT format, into `outDir`
 * with a manifest (see prebuilt.ts for why). Run by `npm run build`; a model that does
 * not convert is left out with a message, and the daemon opens its `.onnx` instead.
 *
 * The graph is optimised to the 'extended' level only: those rewrites are the same on
 * every CPU, so the files can be built on one machine and installed on another; the
 * layout optimisations that depend on the CPU run when the daemon opens the model.
 */
export async function buildOrtModels(
  outDir: string = prebuiltDir(),
  sourceDir: string = packageModelDir(),
): Promise<PrebuiltManifest> {
  // Built beside the final folder and swapped in whole: a half-written set is never used.
  const work = `${outDir}.partial`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const manifest: PrebuiltManifest = { onnxruntime: ort.env.versions.common, models: {} };
  const names = (await readdir(sourceDir))
    .filter((n) => n.endsWith('.onnx') && !KEEP_ONNX.has(n))
    .sort();
  for (const name of names) {
    const source = join(sourceDir, name);
    const ortName = name.replace(/\.onnx$/, '.ort');
    try {
      const session = await ort.InferenceSession.create(source, {
        graphOptimizationLevel: 'extended',
        optimizedModelFilePath: join(work, ortName),
        logSeverityLevel: 3,
      });
      await session.release();
      const bytes = await readFile(source);
      const entry: PrebuiltEntry = {
        ort: ortName,
        sourceBytes: bytes.length,
        sourceSha256: createHash('sha256').update(bytes).digest('hex'),
      };
      manifest.models[name] = entry;
    } catch (err) {
      process.stderr.write(
        `build-ort-models: ${name} not converted (${(err as Error).message.split('\n')[0]}); the daemon opens the .onnx\n`,
      );
      await rm(join(work, ortName), { force: true });
    }
  }
  await writeFile(join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(outDir, { recursive: true, force: true });
  await rename(work, outDir);
  return manifest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildOrtModels().then(
    (m) =>
      process.stdout.write(`ORT models: ${Object.keys(m.models).length} in ${prebuiltDir()}\n`),
    (err: unknown) => {
      process.stderr.write(`build-ort-models: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
