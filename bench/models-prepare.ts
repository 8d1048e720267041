// Writes the models bench's checkpoint folders (Node; scripts/models-bench.mjs builds and runs
// this): each model's Hugging Face files (models-checkpoints.ts) and the ONNX files
// transformers.js loads from a local folder, onnx/model.onnx (fp32) and onnx/model_quantized.onnx
// (its default q8), exported from the same checkpoint by src/model/hf/onnx-export.ts (decoders
// in Optimum's KV-cache layout). A folder already complete (same model, layers, seed and
// PREPARE_VERSION) is reused.
//   node models-prepare.js '{"root": "...", "models": ["minilm"], "layers": {"minilm": 2}}'
// prints one JSON line: each folder's name and its files' sizes.

import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadCheckpoint } from '../src/model/hf/checkpoint';
import { filesFromMap } from '../src/model/hf/files';
import { exportOnnx } from '../src/model/hf/onnx-export';
import { type BenchModelName, benchCheckpointFiles } from './models-checkpoints';

/** Bump when the files written change, so old folders are not reused. */
const PREPARE_VERSION = 2;
/** fp32 models past this many weight bytes write their initializers to onnx/model.onnx_data: a
 * 32-bit wasm runtime cannot hold a 2 GB model's bytes and the tensors made from them at once. */
const EXTERNAL_DATA_BYTES = 1e9;
const SEED = 23;

export interface PreparedModel {
  name: BenchModelName;
  /** Folder name under the root (transformers.js's model id under env.localModelPath). */
  folder: string;
  layers: number;
  shapeOf: string;
  /** Bytes of model.safetensors (the weights' file). */
  weightFileBytes: number;
  onnxBytes: number;
  onnxQ8Bytes: number;
}

export async function prepareModels(
  root: string,
  models: BenchModelName[],
  layers: Partial<Record<BenchModelName, number>>,
): Promise<PreparedModel[]> {
  const out: PreparedModel[] = [];
  for (const name of models) {
    const { model, files } = benchCheckpointFiles(name, SEED, layers[name]);
    const L = model.config.num_hidden_layers as number;
    const folder = `${name}-L${L}-s${SEED}-v${PREPARE_VERSION}`;
    const dir = join(root, folder);
    const done = join(dir, '.complete');
    if (!existsSync(done)) {
      rmSync(dir, { recursive: true, force: true });
      const t0 = performance.now();
      for (const [file, bytes] of files) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), bytes);
      }
      const ck = await loadCheckpoint(filesFromMap(files));
      const cache = ck.config.family !== 'bert';
      mkdirSync(join(dir, 'onnx'), { recursive: true });
      const external = files.get('model.safetensors')!.byteLength > EXTERNAL_DATA_BYTES;
      const fp32 = exportOnnx(
        ck,
        external ? { cache, externalData: 'model.onnx_data' } : { cache },
      );
      writeFileSync(join(dir, 'onnx/model.onnx'), fp32.bytes);
      if (fp32.externalData) {
        writeFileSync(join(dir, 'onnx/model.onnx_data'), fp32.externalData);
        // How transformers.js learns that model.onnx has one external data file.
        const config = {
          ...model.config,
          'transformers.js_config': { use_external_data_format: { 'model.onnx': 1 } },
        };
        writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
      }
      writeFileSync(
        join(dir, 'onnx/model_quantized.onnx'),
        exportOnnx(ck, { cache, quantize: 'q8' }).bytes,
      );
      writeFileSync(done, `${Math.round(performance.now() - t0)} ms\n`);
    }
    const size = (f: string) => statSync(join(dir, f)).size;
    out.push({
      name,
      folder,
      layers: L,
      shapeOf: model.shapeOf,
      weightFileBytes: size('model.safetensors'),
      onnxBytes:
        size('onnx/model.onnx') +
        (existsSync(join(dir, 'onnx/model.onnx_data')) ? size('onnx/model.onnx_data') : 0),
      onnxQ8Bytes: size('onnx/model_quantized.onnx'),
    });
  }
  return out;
}

const arg = process.argv[2];
if (arg) {
  const { root, models, layers } = JSON.parse(arg) as {
    root: string;
    models: BenchModelName[];
    layers?: Partial<Record<BenchModelName, number>>;
  };
  const prepared = await prepareModels(root, models, layers ?? {});
  console.log(JSON.stringify(prepared));
}
