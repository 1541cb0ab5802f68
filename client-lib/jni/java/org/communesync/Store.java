package org.communesync;

/**
 * The device's local store, over the C API (communesync.h) through JNI: the same native code an
 * Android app ships. Records travel as JSON text, exactly as in the C API:
 * {"collection":"household","fields":{...},"id":"...","scope":"xa-01"}.
 *
 * Writes are durable when they return and work offline; sync() exchanges them with the server.
 * Thread-safe like the C API; sync() blocks its caller (run it on a worker thread: WorkManager on
 * Android) and calls the progress listener on that same thread. One Store per store folder per
 * process: a folder another process holds fails at once with LOCKED.
 */
public final class Store implements AutoCloseable {
  static {
    String path = System.getProperty("communesync.jni");
    if (path != null) System.load(path); else System.loadLibrary("communesync_jni");
  }

  /** Sync phases passed to the progress listener (the C API's CS_PHASE_*). */
  public static final int CONNECTING = 0, PUSHING = 1, PULLING = 2, DONE = 3, FILES = 4;

  /** Progress of a sync: `done` of `total` changes, records or file bytes, by phase. */
  public interface Progress {
    void onProgress(int phase, long done, long total);
  }

  /** A flag another thread raises to stop a sync at its next message. */
  public static final class Cancel implements AutoCloseable {
    private long handle = cancelNew();
    public void raise() { cancelRaise(handle); }
    long handle() { return handle; }
    @Override public void close() { cancelFree(handle); handle = 0; }
  }

  private long handle;

  private Store(long handle) { this.handle = handle; }

  /** Opens (creating if needed) the store in folder `path`. */
  public static Store open(String path) throws CommuneSyncException { return new Store(nativeOpen(path)); }

  /** This install's device id (32 hex digits). */
  public String deviceId() { return nativeDeviceId(live()); }

  /** Creates a record (id null or empty) or updates the fields given; returns the record id. */
  public String put(String collection, String id, String scope, String fieldsJson) throws CommuneSyncException {
    return nativePut(live(), collection, id, scope, fieldsJson);
  }

  /** The record as JSON, or null when it does not exist or is deleted. */
  public String get(String collection, String id) throws CommuneSyncException { return nativeGet(live(), collection, id); }

  /** Live records of `collection`, one JSON object per line, sorted by id. */
  public String list(String collection) throws CommuneSyncException { return nativeList(live(), collection); }

  public void delete(String collection, String id) throws CommuneSyncException { nativeDelete(live(), collection, id); }

  /**
   * {"pending","rejected":[{"collection","id","code","reason"}],"conflicts":[...],"last_sync_ms",
   * "files_pending","file_bytes_pending"}: what waits to go up, the changes the server refused with
   * their reasons, and the conflicts settled or open on this device's records.
   */
  public String status() throws CommuneSyncException { return nativeStatus(live()); }

  /** Logs in with a name and password; returns the device's own token (keep it in the Keystore). */
  public String login(String serverUrl, String user, String password) throws CommuneSyncException {
    return nativeLogin(live(), serverUrl, user, password);
  }

  /** Records go, files wait, while the link is metered (ConnectivityManager.isActiveNetworkMetered). */
  public void setMetered(boolean metered) throws CommuneSyncException { nativeSetMetered(live(), metered); }

  /**
   * Syncs; returns the report JSON ({"pushed","accepted","rejected","pulled","conflicts",...}).
   * maxMillis > 0 stops cleanly after that long (DEADLINE, retryable): for background windows.
   * progress and cancel may be null.
   */
  public String sync(String serverUrl, String token, long maxMillis, Progress progress, Cancel cancel)
      throws CommuneSyncException {
    return nativeSync(live(), serverUrl, token, maxMillis, progress, cancel == null ? 0 : cancel.handle());
  }

  public String sync(String serverUrl, String token) throws CommuneSyncException {
    return sync(serverUrl, token, 0, null, null);
  }

  /** Closes the store; later calls fail with IllegalStateException. */
  @Override public synchronized void close() {
    if (handle != 0) nativeClose(handle);
    handle = 0;
  }

  private synchronized long live() {
    if (handle == 0) throw new IllegalStateException("the store is closed");
    return handle;
  }

  private static native long nativeOpen(String path) throws CommuneSyncException;
  private static native void nativeClose(long store);
  private static native String nativeDeviceId(long store);
  private static native String nativePut(long store, String collection, String id, String scope, String fields)
      throws CommuneSyncException;
  private static native String nativeGet(long store, String collection, String id) throws CommuneSyncException;
  private static native String nativeList(long store, String collection) throws CommuneSyncException;
  private static native void nativeDelete(long store, String collection, String id) throws CommuneSyncException;
  private static native String nativeStatus(long store) throws CommuneSyncException;
  private static native String nativeLogin(long store, String url, String user, String password)
      throws CommuneSyncException;
  private static native void nativeSetMetered(long store, boolean metered) throws CommuneSyncException;
  private static native String nativeSync(long store, String url, String token, long maxMillis, Progress progress,
      long cancel) throws CommuneSyncException;
  private static native long cancelNew();
  private static native void cancelRaise(long cancel);
  private static native void cancelFree(long cancel);
}
