// The field app's sync core: the C++ of sync/ compiled to WebAssembly (client-lib/wasm), behind a
// small JavaScript face. Validation, change checks and wire frames are the server's own code.
//
//   const core = await openSyncCore(() => communesyncSync());
//   core.validate(formJsonText, {field: value}) -> {errors: [{field, reason, text}]}
//   core.checkChange(change) -> {change} (normalised, NFC) or {error: {code, message}}
//   core.encode({type: 'hello' | 'push' | 'pull' | 'file_query', request_id, ...}) -> Uint8Array frame
//   core.encodeFilePut({request_id, hash, size, offset}, Uint8Array piece) -> Uint8Array frame
//   core.decode(Uint8Array frame) -> {type, request_id, ...} or {error}
//   core.restoreChanges(record) -> {changes} that carry a held record whole (the incarnation rule)
//   core.fold(text) -> the search key: accents and case folded away (đ as d), as the server's search
//   core.exactRecord(change, receiveTimeMs, held) -> {record}: what an exact push result lays (the
//     change merged into nothing, as the server made it), or {record: null} if `held` already has it

export async function openSyncCore(load) {
  const m = await load();
  const text = (value) => {
    const size = m.lengthBytesUTF8(value) + 1;
    const at = m._malloc(size);
    m.stringToUTF8(value, at, size);
    return at;
  };
  // Calls `fn` with the strings copied in, reads its JSON answer, frees everything.
  const call = (fn, ...strings) => {
    const args = strings.map(text);
    try {
      const out = fn(...args);
      if (!out) return { error: { code: 'internal', message: 'out of memory' } };
      try {
        return JSON.parse(m.UTF8ToString(out));
      } finally {
        m._free(out);
      }
    } finally {
      args.forEach((a) => m._free(a));
    }
  };
  // [u32 length][frame] made by the module: copied out, then freed.
  const frameOf = (out) => {
    try {
      const size = m.HEAPU32[out >> 2];
      return m.HEAPU8.slice(out + 4, out + 4 + size);
    } finally {
      m._free(out);
    }
  };
  return {
    validate: (formText, fields) => call(m._cs_web_validate, formText, JSON.stringify(fields)),
    fold: (text) => call(m._cs_web_fold, text).folded ?? '',
    restoreChanges: (record) => call(m._cs_web_restore_changes, JSON.stringify(record)),
    exactRecord: (change, receiveTimeMs, held) =>
      call(m._cs_web_exact_record, JSON.stringify({ change, receive_time_ms: receiveTimeMs, held: held ?? null })),
    checkChange: (change) => call(m._cs_web_check_change, JSON.stringify(change)),
    encode(message) {
      const json = JSON.stringify(message);
      const arg = text(json);
      try {
        const out = m._cs_web_encode(arg);
        if (!out) {
          const why = call(m._cs_web_encode_error, json);
          throw new Error(why.error ? why.error.message : 'the message could not be encoded');
        }
        return frameOf(out);
      } finally {
        m._free(arg);
      }
    },
    encodeFilePut(header, bytes) {
      const arg = text(JSON.stringify(header));
      const at = m._malloc(bytes.length || 1);
      try {
        m.HEAPU8.set(bytes, at);
        const out = m._cs_web_encode_file_put(arg, at, bytes.length);
        if (!out) throw new Error(`the piece of ${header.hash} could not be encoded`);
        return frameOf(out);
      } finally {
        m._free(at);
        m._free(arg);
      }
    },
    decode(frame) {
      const at = m._malloc(frame.length || 1);
      try {
        m.HEAPU8.set(frame, at);
        const out = m._cs_web_decode(at, frame.length);
        try {
          return JSON.parse(m.UTF8ToString(out));
        } finally {
          m._free(out);
        }
      } finally {
        m._free(at);
      }
    },
  };
}
