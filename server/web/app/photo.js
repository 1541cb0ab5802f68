// A photo from the camera, made small on the phone before it is kept: its longer side to the
// server's `photo_max_px`, JPEG at `photo_quality` (GET /app/settings.json), and named by the
// SHA-256 of its bytes, as the C++ client names files (docs/protocol.md, 5.6).
export async function shrinkPhoto(file, { photo_max_px: maxPx = 1600, photo_quality: quality = 0.75 } = {}) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    // A format this browser cannot draw: kept as it is (the server's size limit still holds).
    return named(new Uint8Array(await file.arrayBuffer()), file.type || 'application/octet-stream');
  }
  const scale = Math.min(1, maxPx / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  return named(new Uint8Array(await blob.arrayBuffer()), 'image/jpeg', canvas.width, canvas.height);
}

//! A file kept as it is (a scanned plan): only named by its hash.
export async function keepFile(file) {
  return named(new Uint8Array(await file.arrayBuffer()), file.type || 'application/octet-stream');
}

async function named(bytes, type, width, height) {
  // WebCrypto is there in a secure context (https, or localhost), which the service worker needs too.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const hash = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { hash, bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), type, width, height };
}
