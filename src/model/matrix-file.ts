import { isNpy, readNpy, TensorFileError } from './npy';
import { readSafetensors, SafetensorsError } from './safetensors';

/** A matrix as a researcher uploads it, row-major float32. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * Reads one matrix from an .npy file (float32 or float64, C or Fortran order, either byte
 * order) or a safetensors file holding exactly one 2-D F32 or F64 tensor. Anything else is a
 * TensorFileError that says what the file is and why it is refused. Non-finite values are
 * refused too: a NaN would make every result it touches unverifiable. Aligned little-endian
 * float32 data comes back as a view of `bytes`, not a copy: hand in bytes nothing else modifies.
 */
export function readMatrix(bytes: Uint8Array): Matrix {
  const tensor = isNpy(bytes) ? readNpy(bytes) : readOneSafetensor(bytes);
  if (tensor.shape.length !== 2) {
    throw new TensorFileError(
      'shape',
      `it holds a ${tensor.shape.length}-D array of shape (${tensor.shape.join(', ')}), not a matrix`,
    );
  }
  const [rows, cols] = tensor.shape as [number, number];
  if (rows === 0 || cols === 0) throw new TensorFileError('shape', 'it is an empty matrix');
  const bad = tensor.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new TensorFileError('not-finite', `element ${bad} is ${tensor.data[bad]}`);
  }
  return { rows, cols, data: tensor.data };
}

function readOneSafetensor(bytes: Uint8Array): { shape: number[]; data: Float32Array } {
  // safetensors opens with an 8-byte little-endian length, then a JSON object.
  if (bytes.length < 9 || bytes[8] !== 0x7b) {
    throw new TensorFileError('format', 'it is neither an .npy file nor a safetensors file');
  }
  let tensors: ReturnType<typeof readSafetensors>['tensors'];
  try {
    tensors = readSafetensors(bytes, { acceptF64: true }).tensors;
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    const code = e.code === 'truncated' ? 'truncated' : e.code === 'dtype' ? 'dtype' : 'header';
    throw new TensorFileError(code, `safetensors: ${e.message}`);
  }
  if (tensors.size !== 1) {
    const names = [...tensors.keys()].join(', ') || 'none';
    throw new TensorFileError(
      'shape',
      `it holds ${tensors.size} tensors (${names}); upload a file with one matrix`,
    );
  }
  return [...tensors.values()][0]!;
}
