/** SHA-256 of `bytes`. */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Hex SHA-256 of `bytes`: how kernels and models are named by content across the mesh. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return [...(await sha256(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
