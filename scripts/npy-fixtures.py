# Writes the .npy and safetensors fixtures tests/unit/model/matrix-file.test.ts reads, with numpy
# itself, so the reader is tested on what numpy really writes. Run: python3 scripts/npy-fixtures.py
import json, struct
import numpy as np

out = 'tests/fixtures/npy/'
a = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) / 3  # the matrix every file holds
np.save(out + 'c-f32-le.npy', a.astype('<f4'))
np.save(out + 'c-f64-be.npy', a.astype('>f8'))
np.save(out + 'fortran-f32-be.npy', np.asfortranarray(a.astype('>f4')))
np.save(out + 'fortran-f64-le.npy', np.asfortranarray(a.astype('<f8')))
np.save(out + 'vector-f32.npy', np.arange(5, dtype='<f4'))
np.save(out + 'int32.npy', np.arange(12, dtype='<i4').reshape(3, 4))
np.save(out + 'float16.npy', a.astype('<f2'))
np.save(out + 'object.npy', np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
# numpy's own bytes for a float32 C-order array: writeNpy must produce exactly these.
np.save(out + 'written-by-numpy.npy', a.astype('<f4'))

def safetensors(name, dtype, arr):
    data = arr.astype(dtype).tobytes()
    header = json.dumps({name: {'dtype': 'F64' if dtype == '<f8' else 'F32',
                                'shape': list(arr.shape), 'data_offsets': [0, len(data)]}})
    header += ' ' * ((8 - (8 + len(header)) % 8) % 8)
    return struct.pack('<Q', len(header)) + header.encode() + data

open(out + 'matrix-f64.safetensors', 'wb').write(safetensors('A', '<f8', a))
