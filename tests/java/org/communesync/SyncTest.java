package org.communesync;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Java wrapper against a real communesync-server on 127.0.0.1, as an Android app would use it:
 * records written offline, a password login, sync with progress, what another device wrote read
 * back, a change the form refuses shown with its reason, a conflict, cancel, and a store another
 * process holds. A plain program: exits non-zero on the first failed check.
 *
 *   java -Dcommunesync.jni=LIB -cp JARS org.communesync.SyncTest SERVER FORMS_DIR WORK_DIR
 *   java ... org.communesync.SyncTest --open DIR     (exits with the error code of opening DIR)
 */
public final class SyncTest {
  private static int checks = 0;

  private static void check(boolean ok, String what) {
    checks++;
    if (!ok) {
      System.err.println("SyncTest: FAILED: " + what);
      System.exit(1);
    }
  }

  private static String post(int port, String token, String path, String body) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
    HttpResponse<String> res = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
    check(res.statusCode() / 100 == 2, path + ": " + res.statusCode() + " " + res.body());
    return res.body();
  }

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : null;
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--open")) {  // the other process of the lock check
      try (Store s = Store.open(args[1])) {
        System.exit(0);
      } catch (CommuneSyncException e) {
        System.err.println(e.getMessage());
        System.exit(e.code());
      }
    }
    Path server = Path.of(args[0]);
    Path forms = Path.of(args[1]);
    Path work = Path.of(args[2]);
    if (Files.exists(work)) {  // this test's own folder: start from nothing
      try (var paths = Files.walk(work)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    Files.createDirectories(work);
    Process proc = new ProcessBuilder(server.toString(), "--data", work.resolve("data").toString(), "--listen",
        "127.0.0.1:0", "--forms", forms.toString()).redirectErrorStream(true).start();
    try {
      run(proc, work);
    } finally {
      proc.destroy();  // SIGTERM to the server this test started
      proc.waitFor(20, TimeUnit.SECONDS);
    }
    System.out.println("SyncTest: all " + checks + " checks passed");
  }

  private static void run(Process proc, Path work) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8));
    int port = 0;
    Pattern listening = Pattern.compile("listening on \\S*127\\.0\\.0\\.1:(\\d+)");
    for (String line; port == 0 && (line = out.readLine()) != null; ) {
      Matcher m = listening.matcher(line);
      if (m.find()) port = Integer.parseInt(m.group(1));
    }
    check(port > 0, "the server started");
    Thread drain = new Thread(() -> { try { while (out.readLine() != null) { } } catch (Exception e) { } });
    drain.setDaemon(true);
    drain.start();
    String admin = Files.readString(work.resolve("data/admin.token")).trim();
    String url = "ws://127.0.0.1:" + port;
    post(port, admin, "/admin/users", "{\"name\":\"an\",\"scopes\":[\"MAU-X01\"],\"password\":\"mat-khau-cua-an\"}");
    String tokenB = field(post(port, admin, "/admin/users", "{\"name\":\"binh\",\"scopes\":[\"MAU-X01\"]}"), "token");
    check(tokenB != null && tokenB.length() == 64, "binh's token");

    try (Store a = Store.open(work.resolve("a").toString()); Store b = Store.open(work.resolve("b").toString())) {
      check(a.deviceId().matches("[0-9a-f]{32}"), "a device id");

      // Offline: nothing needs the server.
      String id = a.put("household", null, "MAU-X01", "{\"chu_ho\":\"Lò Văn Pá 🌾\",\"so_nhan_khau\":6}");
      check(id != null && id.length() == 32, "a new record id");
      check(a.get("household", id).contains("Lò Văn Pá 🌾"), "read back offline, emoji and diacritics intact");
      check(a.get("household", "0000") == null, "an absent record is null");
      String bad = a.put("household_survey", null, "MAU-X01", "{\"chu_ho\":\"Thiếu trường\"}");
      try {
        a.put("household", null, "MAU-X01", "not json");
        check(false, "bad JSON throws");
      } catch (CommuneSyncException e) {
        check(e.code() == CommuneSyncException.INVALID_ARGUMENT && e.getMessage().contains("JSON"), "bad JSON: " + e.getMessage());
      }
      check(a.status().contains("\"pending\":2"), "two changes wait: " + a.status());

      // The same folder from another process: a clear error at once.
      String java = ProcessHandle.current().info().command().orElse("java");
      Process other = new ProcessBuilder(java, "-Dcommunesync.jni=" + System.getProperty("communesync.jni"), "-cp",
          System.getProperty("java.class.path"), "org.communesync.SyncTest", "--open", work.resolve("a").toString())
          .redirectErrorStream(true).start();
      check(other.waitFor(60, TimeUnit.SECONDS), "the other process answered, it did not hang");
      String said = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      check(other.exitValue() == CommuneSyncException.LOCKED && said.contains("in use by another process"),
          "LOCKED in the other process: " + other.exitValue() + " " + said);

      // Log in with the password, then sync with progress.
      String tokenA = a.login(url, "an", "mat-khau-cua-an");
      check(tokenA != null && !tokenA.isEmpty(), "a device token");
      AtomicInteger calls = new AtomicInteger();
      String report = a.sync(url, tokenA, 60_000, (phase, done, total) -> calls.incrementAndGet(), null);
      check(report.contains("\"accepted\":1") && report.contains("\"rejected\":1"), "one accepted, one refused: " + report);
      check(calls.get() > 0, "progress was reported");
      String status = a.status();
      check(status.contains("\"pending\":0") && status.contains(bad) && status.contains("\"rejected\":[{"),
          "the refused change is listed with its reason: " + status);

      // Another device reads it, edits it; the first reads the edit back.
      b.sync(url, tokenB);
      check(b.get("household", id) != null && b.get("household", id).contains("Lò Văn Pá 🌾"), "b holds a's record");
      b.put("household", id, null, "{\"so_nhan_khau\":7}");
      b.sync(url, tokenB);
      a.sync(url, tokenA);
      check(a.get("household", id).contains("\"so_nhan_khau\":7"), "a reads b's edit: " + a.get("household", id));
      check(a.list("household").split("\n").length == 1, "one household listed");

      // Both edit offline: a conflict, which both devices see.
      a.put("household", id, null, "{\"so_nhan_khau\":8}");
      b.put("household", id, null, "{\"so_nhan_khau\":9}");
      a.sync(url, tokenA);
      b.sync(url, tokenB);
      a.sync(url, tokenA);
      check(a.status().contains("\"conflicts\":[{"), "the conflict reached a: " + a.status());

      // Metered: records only. Cancel: stops with CANCELLED.
      a.setMetered(true);
      a.delete("household", id);
      check(a.sync(url, tokenA).contains("\"files_deferred\":false"), "metered sync with no file waiting");
      check(a.get("household", id) == null, "deleted");
      b.sync(url, tokenB);
      check(b.get("household", id) == null, "the deletion reached b");
      try (Store.Cancel cancel = new Store.Cancel()) {
        cancel.raise();
        a.sync(url, tokenA, 0, null, cancel);
        check(false, "a raised cancel throws");
      } catch (CommuneSyncException e) {
        check(e.code() == CommuneSyncException.CANCELLED, "cancelled: " + e.getMessage());
      }
    }
  }
}
