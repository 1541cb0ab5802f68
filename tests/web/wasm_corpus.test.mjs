// The field app's WebAssembly build against the native C++: every case of the shared corpus
// (web_corpus.cpp) must give the same answer, byte for byte for frames, value for value for JSON.
//
//   node wasm_corpus.test.mjs --module <build>/wasm/communesync-sync.mjs --corpus corpus.json
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { openSyncCore } from '../../server/web/app/sync_core.js';

const arg = (name) => process.argv[process.argv.indexOf(`--${name}`) + 1];
const modulePath = path.resolve(arg('module'));
const corpus = JSON.parse(fs.readFileSync(arg('corpus'), 'utf8'));
// Emscripten 3.1.6's ES module expects CommonJS names under node; the page loads it by URL instead.
globalThis.require = createRequire(import.meta.url);
globalThis.__dirname = path.dirname(modulePath);
const factory = (await import(pathToFileURL(modulePath).href)).default;
const wasmBinary = fs.readFileSync(modulePath.replace(/\.mjs$/, '.wasm'));
const core = await openSyncCore(() => factory({ wasmBinary }));

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const unhex = (text) => new Uint8Array(Buffer.from(text, 'hex'));
let checked = 0;
const where = (kind, i, input) => `${kind} case ${i}: ${JSON.stringify(input).slice(0, 300)}`;

corpus.fold.forEach((c, i) => {
  assert.equal(core.fold(c.text), c.folded, where('fold', i, c.text));
  ++checked;
});
corpus.validate.forEach((c, i) => {
  assert.deepEqual(core.validate(c.form, c.fields), c.expect, where('validate', i, c.fields));
  ++checked;
});
corpus.check_change.forEach((c, i) => {
  assert.deepEqual(core.checkChange(c.change), c.expect, where('check_change', i, c.change.id));
  ++checked;
});
corpus.encode.forEach((c, i) => {
  assert.equal(hex(core.encode(c.message)), c.frame, where('encode', i, c.message.type));
  ++checked;
});
corpus.file_put.forEach((c, i) => {
  assert.equal(hex(core.encodeFilePut(c.header, unhex(c.data))), c.frame, where('file_put', i, c.header));
  ++checked;
});
assert.equal(corpus.file_put.length, 2, 'both photo pieces encode natively');
corpus.restore.forEach((c, i) => {
  assert.deepEqual(core.restoreChanges(c.record), c.expect, where('restore', i, c.record.id));
  ++checked;
});
corpus.exact.forEach((c, i) => {
  assert.deepEqual(core.exactRecord(c.change, c.receive_time_ms, c.held), c.expect, where('exact', i, c.held ? 'held' : 'none'));
  ++checked;
});
assert.equal(corpus.exact.length, 3, 'an exact result with nothing held, a later copy held and an older one');
corpus.decode.forEach((c, i) => {
  assert.deepEqual(core.decode(unhex(c.frame)), c.expect, where('decode', i, c.expect.type));
  ++checked;
});
assert.ok(corpus.validate.length > 100, `the corpus has ${corpus.validate.length} validation cases`);
console.log(`wasm corpus: ${checked} cases agree with the native C++ (${corpus.validate.length} validations, ` +
            `${corpus.check_change.length} change checks, ${corpus.encode.length} frames sent, ${corpus.decode.length} read)`);
