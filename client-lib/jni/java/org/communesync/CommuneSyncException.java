package org.communesync;

/** A failure of the client library, with its code (the C API's CS_ERR_* numbers) and whether trying again later may succeed. */
public class CommuneSyncException extends Exception {
  public static final int NOT_FOUND = 1, INVALID_ARGUMENT = 2, LOCKED = 3, NO_SPACE = 4, CORRUPTION = 5,
      PERMISSION_DENIED = 6, IO = 7, BUSY = 8, UNAVAILABLE = 9, UNAUTHORIZED = 10, FORBIDDEN = 11, REJECTED = 12,
      LIMIT_EXCEEDED = 13, PROTOCOL = 14, CANCELLED = 15, INTERNAL = 16, DEADLINE = 17;

  private final int code;
  private final boolean retryable;

  public CommuneSyncException(int code, boolean retryable, String message) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }

  /** One of the constants above. */
  public int code() { return code; }

  /** True when the same call may succeed later (no network, server busy, store briefly held, deadline). */
  public boolean retryable() { return retryable; }
}
