#!/usr/bin/env node
// `npm run export-onnx [-- --out file.onnx]`: the shipped model (public/models/kjv-char) as an
// ONNX graph built from its safetensors weights by src/model/gpt-onnx.ts, the same graph the
// benchmark hands ONNX Runtime Web. Default output: dist-onnx/kjv-char.onnx.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/models/kjv-char' },
    out: { type: 'string', default: 'dist-onnx/kjv-char.onnx' },
  },
});
const server = await createServer({
  configFile: false,
  logLevel: 'warn',
  server: { middlewareMode: true },
});
try {
  const { loadGpt } = await server.ssrLoadModule('/src/model/load.ts');
  const { gptToOnnx } = await server.ssrLoadModule('/src/model/gpt-onnx.ts');
  const file = new Uint8Array(readFileSync(`${values.model}/model.safetensors`));
  const config = JSON.parse(readFileSync(`${values.model}/config.json`, 'utf8'));
  const model = await loadGpt(file, config);
  const onnx = gptToOnnx(model.config, model.weights);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, onnx);
  console.log(
    `wrote ${values.out} (${onnx.length} bytes) from ${values.model}, model ${model.digest}`,
  );
} finally {
  await server.close();
}
