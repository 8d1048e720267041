#!/usr/bin/env node
// `npm run export-onnx [-- --model folder --out file.onnx]`: a Hugging Face checkpoint folder
// (default: the shipped model, public/models/kjv-char) as an ONNX graph, built from its
// weights by src/model/hf/onnx-export.ts — the same graph the benchmark hands ONNX Runtime Web.
// Inputs input_ids and attention_mask (BERT: token_type_ids too), int64 [batch, seq]; output
// logits (BERT: last_hidden_state). Default output: dist-onnx/kjv-char.onnx.
import { mkdirSync, writeFileSync } from 'node:fs';
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
  const { filesFromDirectory } = await server.ssrLoadModule('/src/model/hf/files-node.ts');
  const { loadCheckpoint } = await server.ssrLoadModule('/src/model/hf/checkpoint.ts');
  const { exportOnnx } = await server.ssrLoadModule('/src/model/hf/onnx-export.ts');
  const checkpoint = await loadCheckpoint(await filesFromDirectory(values.model));
  const onnx = exportOnnx(checkpoint);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, onnx.bytes);
  console.log(
    `wrote ${values.out} (${onnx.bytes.length} bytes; inputs ${onnx.inputs.join(', ')}, output ${onnx.output}) from ${values.model}, checkpoint ${checkpoint.digest}`,
  );
} finally {
  await server.close();
}
