#define _DEFAULT_SOURCE
/* The C API from C: offline writes, a sync against a real server process, a read back of what
 * another store wrote. Usage: c_api_test SERVER_BINARY WORK_DIR */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "communesync/communesync.h"

static int failures = 0;
#define CHECK(cond, what)                                        \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "FAILED: %s (line %d)\n", what, __LINE__); \
      failures++;                                                \
    }                                                            \
  } while (0)

static int progress_calls = 0;
static void on_progress(void* context, int phase, uint64_t done, uint64_t total) {
  (void)phase;
  (void)done;
  (void)total;
  progress_calls += context == &progress_calls ? 1 : 0;
}

/* Starts the server, returns its pid; writes the admin token into admin. */
static pid_t start_server(const char* binary, const char* data, const char* listen) {
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(binary, binary, "--data", data, "--listen", listen, (char*)NULL);
    _exit(127);
  }
  return pid;
}

/* `password` may be "" (a token-only user). */
static int add_user(const char* port, const char* admin, const char* name, const char* password, char* token_out) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "curl -s -X POST -H 'Authorization: Bearer %s' "
           "-d '{\"name\":\"%s\",\"scopes\":[\"xa-01\"],\"password\":\"%s\"}' "
           "http://127.0.0.1:%s/admin/users | sed -e 's/.*\"token\":\"\\([0-9a-f]*\\)\".*/\\1/'",
           admin, name, password, port);
  FILE* p = popen(cmd, "r");
  if (p == NULL) return -1;
  int ok = fscanf(p, "%64s", token_out) == 1;
  pclose(p);
  return ok ? 0 : -1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: c_api_test SERVER_BINARY WORK_DIR\n");
    return 2;
  }
  char path[1024], data[1024], admin_path[1200], admin[128] = {0};
  snprintf(path, sizeof path, "rm -rf '%s' && mkdir -p '%s'", argv[2], argv[2]);
  if (system(path) != 0) return 2;
  snprintf(data, sizeof data, "%s/server", argv[2]);
  const char* port = "18931";
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
  pid_t server = start_server(argv[1], data, listen);
  snprintf(admin_path, sizeof admin_path, "%s/admin.token", data);
  for (int i = 0; i < 100; i++) {
    FILE* f = fopen(admin_path, "r");
    if (f != NULL) {
      int got = fscanf(f, "%127s", admin);
      fclose(f);
      if (got == 1 && strlen(admin) == 64) break;
    }
    usleep(100 * 1000);
  }
  usleep(200 * 1000);
  char token_a[80] = {0}, token_b[80] = {0};
  CHECK(add_user(port, admin, "an", "", token_a) == 0 && strlen(token_a) == 64, "create user an");
  CHECK(add_user(port, admin, "binh", "", token_b) == 0 && strlen(token_b) == 64, "create user binh");

  cs_error err;
  snprintf(path, sizeof path, "%s/a", argv[2]);
  cs_store* a = cs_store_open(path, &err);
  CHECK(a != NULL, "open store a");
  CHECK(cs_store_open(path, &err) == NULL && err.code == CS_ERR_LOCKED, "second open is locked, at once");
  CHECK(strlen(cs_store_device_id(a)) == 32, "device id");

  char* id = NULL;
  CHECK(cs_record_put(a, "household", NULL, "xa-01", "{\"head\":\"L\xc3\xb2 V\xc4\x83n P\xc3\xa1\",\"members\":6}", &id,
                      &err) == 0,
        "put offline");
  CHECK(id != NULL && strlen(id) == 32, "new id");
  CHECK(cs_record_put(a, "household", NULL, "xa-01", "not json", NULL, &err) == -1 &&
            err.code == CS_ERR_INVALID_ARGUMENT && strstr(err.message, "JSON") != NULL,
        "bad JSON is refused with a reason");
  CHECK(cs_record_put(NULL, "household", NULL, "xa-01", "{}", NULL, &err) == -1, "NULL store is an error, not a crash");

  char* json = NULL;
  CHECK(cs_record_get(a, "household", id, &json, &err) == 0 && json != NULL && strstr(json, "\"members\":6"), "get");
  cs_string_free(json);

  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%s", port);
  char* report = NULL;
  cs_cancel* cancel = cs_cancel_new();
  int rc = cs_store_sync(a, url, token_a, on_progress, &progress_calls, cancel, &report, &err);
  CHECK(rc == 0, err.message);
  CHECK(report != NULL && strstr(report, "\"accepted\":1") != NULL, "report counts the accepted change");
  CHECK(progress_calls > 0, "progress was reported");
  cs_string_free(report);

  snprintf(path, sizeof path, "%s/b", argv[2]);
  cs_store* b = cs_store_open(path, &err);
  CHECK(cs_store_sync(b, url, token_b, NULL, NULL, NULL, NULL, &err) == 0, err.message);
  CHECK(cs_record_get(b, "household", id, &json, &err) == 0 && json != NULL && strstr(json, "P\xc3\xa1"),
        "b reads what a wrote");
  cs_string_free(json);
  char* lines = NULL;
  CHECK(cs_record_list(b, "household", &lines, &err) == 0 && lines != NULL && strchr(lines, '\n') != NULL, "list");
  cs_string_free(lines);
  CHECK(cs_record_delete(b, "household", id, &err) == 0, "delete");
  CHECK(cs_record_delete(b, "household", id, &err) == -1 && err.code == CS_ERR_NOT_FOUND, "delete twice");
  char* status = NULL;
  CHECK(cs_store_status(b, &status, &err) == 0 && strstr(status, "\"pending\":1") != NULL, "status");
  cs_string_free(status);

  /* A password login gives this device its own token. */
  char token_c[80] = {0};
  CHECK(add_user(port, admin, "chi", "m\xe1\xba\xadt kh\xe1\xba\xa9u", token_c) == 0, "create user chi");
  snprintf(path, sizeof path, "%s/c", argv[2]);
  cs_store* c = cs_store_open(path, &err);
  char* device_token = NULL;
  CHECK(cs_store_login(c, url, "chi", "wrong password", &device_token, &err) == -1 && err.code == CS_ERR_UNAUTHORIZED,
        "a wrong password is refused");
  CHECK(cs_store_login(c, url, "chi", "m\xe1\xba\xadt kh\xe1\xba\xa9u", &device_token, &err) == 0 &&
            device_token != NULL && strlen(device_token) == 64,
        err.message);
  CHECK(cs_store_sync(c, url, device_token, NULL, NULL, NULL, NULL, &err) == 0, err.message);
  CHECK(cs_store_set_ca_file(c, NULL, &err) == 0, "back to the system's CAs");
  cs_string_free(device_token);
  cs_store_close(c);

  /* A photo: attached offline on a, sent by a's sync, fetched on demand by b. */
  char photo[1200], fetched[1200];
  snprintf(photo, sizeof photo, "%s/house.jpg", argv[2]);
  snprintf(fetched, sizeof fetched, "%s/fetched.jpg", argv[2]);
  FILE* f = fopen(photo, "wb");
  for (int i = 0; i < 300000; i++) fputc((int)(((unsigned)i * 7919u) % 251u), f);
  fclose(f);
  char* id2 = NULL;
  char* hash = NULL;
  CHECK(cs_record_put(a, "household", NULL, "xa-01", "{\"head\":\"H\"}", &id2, &err) == 0, "put a second record");
  CHECK(cs_file_attach(a, "household", id2, "photo", "/no/such/file.jpg", NULL, &err) == -1 &&
            err.code == CS_ERR_NOT_FOUND,
        "attaching a missing file says so");
  CHECK(cs_file_attach(a, "household", id2, "photo", photo, &hash, &err) == 0 && hash != NULL && strlen(hash) == 64,
        err.message);
  CHECK(cs_store_status(a, &status, &err) == 0 && strstr(status, "\"files_pending\":1") != NULL,
        "status counts the file to send");
  cs_string_free(status);
  CHECK(cs_store_sync(a, url, token_a, NULL, NULL, NULL, &report, &err) == 0, err.message);
  CHECK(report != NULL && strstr(report, "\"files_sent\":1") != NULL && strstr(report, "\"file_bytes_sent\":300000"),
        "the report counts the file");
  cs_string_free(report);
  CHECK(cs_store_sync(b, url, token_b, NULL, NULL, NULL, NULL, &err) == 0, err.message);
  CHECK(cs_file_fetch(b, url, token_b, hash, fetched, NULL, NULL, &err) == 0, err.message);
  FILE* g = fopen(fetched, "rb");
  int same = g != NULL;
  for (int i = 0; same && i < 300000; i++) same = fgetc(g) == (int)(((unsigned)i * 7919u) % 251u);
  same = same && fgetc(g) == EOF;
  if (g != NULL) fclose(g);
  CHECK(same, "b fetched the same bytes");
  cs_string_free(hash);
  cs_string_free(id2);

  /* A metered link: the record goes, the photo waits (and the sync still succeeds). */
  char* id3 = NULL;
  CHECK(cs_record_put(a, "household", NULL, "xa-01", "{\"head\":\"Metered\"}", &id3, &err) == 0, err.message);
  snprintf(photo, sizeof photo, "%s/house2.jpg", argv[2]);
  FILE* f2 = fopen(photo, "wb");
  CHECK(f2 != NULL, "write a second photo");
  for (int i = 0; f2 != NULL && i < 50000; i++) fputc(i % 13, f2);
  if (f2 != NULL) fclose(f2);
  CHECK(cs_file_attach(a, "household", id3, "photo", photo, NULL, &err) == 0, err.message);
  CHECK(cs_store_set_metered(a, 1, &err) == 0, err.message);
  CHECK(cs_store_sync_for(a, url, token_a, 30000, NULL, NULL, NULL, &report, &err) == 0, err.message);
  CHECK(report != NULL && strstr(report, "\"files_deferred\":true") != NULL &&
            strstr(report, "\"file_bytes_sent\":0") != NULL && strstr(report, "\"accepted\":0") == NULL,
        "metered: records went, files deferred");
  cs_string_free(report);
  CHECK(cs_store_set_metered(a, 0, &err) == 0, err.message);
  CHECK(cs_store_sync_for(a, url, token_a, 30000, NULL, NULL, NULL, &report, &err) == 0, err.message);
  CHECK(report != NULL && strstr(report, "\"files_deferred\":false") != NULL, "unmetered: files go");
  cs_string_free(report);
  cs_string_free(id3);

  cs_cancel_raise(cancel);
  rc = cs_store_sync(a, url, token_a, NULL, NULL, cancel, NULL, &err);
  CHECK(rc == -1 && err.code == CS_ERR_CANCELLED, "a raised cancel stops the sync");
  cs_cancel_free(cancel);

  cs_string_free(id);
  cs_store_close(a);
  cs_store_close(b);
  kill(server, SIGTERM);
  int ws = 0;
  waitpid(server, &ws, 0);
  CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "server stops cleanly on SIGTERM");
  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
