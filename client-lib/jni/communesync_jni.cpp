// JNI glue between org.communesync.Store and the C API (communesync.h): nothing but argument
// conversion. Every native method turns a cs_error into a thrown CommuneSyncException and returns.
// The C API never throws; the only C++ allocation here is copying an argument string (out of memory
// there ends the process, as it would in the JVM). The same file builds for Android's NDK.
#include <jni.h>

#include <string>

#include "communesync/communesync.h"

namespace {

// A Java string as real UTF-8 (null stays null). Not GetStringUTFChars: that is Java's "modified
// UTF-8", which writes characters beyond the BMP (emoji, rare CJK) as surrogate pairs, not UTF-8.
class Utf8 {
 public:
  Utf8(JNIEnv* env, jstring s) : null_(s == nullptr) {
    if (null_) return;
    jclass string_class = env->GetObjectClass(s);
    jmethodID get_bytes = env->GetMethodID(string_class, "getBytes", "(Ljava/lang/String;)[B");
    auto bytes = static_cast<jbyteArray>(env->CallObjectMethod(s, get_bytes, env->NewStringUTF("UTF-8")));
    if (bytes == nullptr) return;  // an exception is pending; the call fails on it
    const jsize n = env->GetArrayLength(bytes);
    text_.resize(static_cast<std::size_t>(n));
    env->GetByteArrayRegion(bytes, 0, n, reinterpret_cast<jbyte*>(text_.data()));
    env->DeleteLocalRef(bytes);
  }
  const char* get() const { return null_ ? nullptr : text_.c_str(); }

 private:
  bool null_;
  std::string text_;
};

// Java's "modified UTF-8" differs from UTF-8 only for NUL and characters beyond the BMP; the
// library's strings are valid UTF-8, so a string with 4-byte sequences goes through a byte array.
jstring javaString(JNIEnv* env, const char* text) {
  if (text == nullptr) return nullptr;
  const std::string s(text);
  bool plain = true;
  for (unsigned char c : s) plain = plain && c < 0xF0;
  if (plain) return env->NewStringUTF(text);
  jbyteArray bytes = env->NewByteArray(static_cast<jsize>(s.size()));
  env->SetByteArrayRegion(bytes, 0, static_cast<jsize>(s.size()), reinterpret_cast<const jbyte*>(s.data()));
  jclass string_class = env->FindClass("java/lang/String");
  jmethodID ctor = env->GetMethodID(string_class, "<init>", "([BLjava/lang/String;)V");
  return static_cast<jstring>(env->NewObject(string_class, ctor, bytes, env->NewStringUTF("UTF-8")));
}

// Takes a string the C API returned: converts it and frees it.
jstring takeString(JNIEnv* env, char* text) {
  jstring out = javaString(env, text);
  cs_string_free(text);
  return out;
}

void throwError(JNIEnv* env, const cs_error& error) {
  jclass cls = env->FindClass("org/communesync/CommuneSyncException");
  if (cls == nullptr) return;  // NoClassDefFoundError is pending
  jmethodID ctor = env->GetMethodID(cls, "<init>", "(IZLjava/lang/String;)V");
  jstring message = env->NewStringUTF(error.message);
  auto ex = static_cast<jthrowable>(env->NewObject(cls, ctor, error.code, error.retryable != 0, message));
  if (ex != nullptr) env->Throw(ex);
}

cs_store* storeOf(jlong handle) {
  return reinterpret_cast<cs_store*>(handle);  // NOLINT(performance-no-int-to-ptr): Java holds it as a jlong
}

// Calls a C API function that hands back a string: the string as Java's on success, null and a
// thrown CommuneSyncException on failure. `call(&out, &error)` returns the C API's 0 or -1.
template <typename Call>
jstring stringResult(JNIEnv* env, Call call) {
  if (env->ExceptionCheck()) return nullptr;  // converting an argument failed (out of memory): that error wins
  char* out = nullptr;
  cs_error error;
  if (call(&out, &error) != 0) {
    throwError(env, error);
    return nullptr;
  }
  return takeString(env, out);
}

struct ProgressTarget {
  JNIEnv* env;
  jobject listener;
  jmethodID method;
};

void onProgress(void* context, int phase, uint64_t done, uint64_t total) {
  auto* target = static_cast<ProgressTarget*>(context);
  if (target->env->ExceptionCheck()) return;  // a listener threw: let it surface when sync returns
  target->env->CallVoidMethod(target->listener, target->method, static_cast<jint>(phase), static_cast<jlong>(done),
                              static_cast<jlong>(total));
}

}  // namespace

// JNI fixes these names (Java_<class>_<method>), and Java holds native handles as jlong: the casts
// back to pointers are the JNI way.
// NOLINTBEGIN(readability-identifier-naming, performance-no-int-to-ptr)
extern "C" {

JNIEXPORT jlong JNICALL Java_org_communesync_Store_nativeOpen(JNIEnv* env, jclass, jstring path) {
  Utf8 p(env, path);
  cs_error error;
  cs_store* store = cs_store_open(p.get(), &error);
  if (store == nullptr) throwError(env, error);
  return reinterpret_cast<jlong>(store);
}

JNIEXPORT void JNICALL Java_org_communesync_Store_nativeClose(JNIEnv*, jclass, jlong store) {
  cs_store_close(storeOf(store));
}

JNIEXPORT jstring JNICALL Java_org_communesync_Store_nativeDeviceId(JNIEnv* env, jclass, jlong store) {
  return javaString(env, cs_store_device_id(storeOf(store)));
}

JNIEXPORT jstring JNICALL Java_org_communesync_Store_nativePut(JNIEnv* env, jclass, jlong store, jstring collection,
                                                               jstring id, jstring scope, jstring fields) {
  Utf8 c(env, collection), i(env, id), s(env, scope), f(env, fields);
  return stringResult(env, [&](char** out, cs_error* error) {
    return cs_record_put(storeOf(store), c.get(), i.get(), s.get(), f.get(), out, error);
  });
}

JNIEXPORT jstring JNICALL Java_org_communesync_Store_nativeGet(JNIEnv* env, jclass, jlong store, jstring collection,
                                                               jstring id) {
  Utf8 c(env, collection), i(env, id);
  return stringResult(
      env, [&](char** out, cs_error* error) { return cs_record_get(storeOf(store), c.get(), i.get(), out, error); });
}

JNIEXPORT jstring JNICALL Java_org_communesync_Store_nativeList(JNIEnv* env, jclass, jlong store, jstring collection) {
  Utf8 c(env, collection);
  return stringResult(env,
                      [&](char** out, cs_error* error) { return cs_record_list(storeOf(store), c.get(), out, error); });
}

JNIEXPORT void JNICALL Java_org_communesync_Store_nativeDelete(JNIEnv* env, jclass, jlong store, jstring collection,
                                                               jstring id) {
  Utf8 c(env, collection), i(env, id);
  cs_error error;
  if (cs_record_delete(storeOf(store), c.get(), i.get(), &error) != 0) throwError(env, error);
}

JNIEXPORT jstring JNICALL Java_org_communesync_Store_nativeStatus(JNIEnv* env, jclass, jlong store) {
  return stringResult(env, [&](char** out, cs_error* error) { return cs_store_status(storeOf(store), out, error); });
}

JNIEXPORT jstring JNICALL Java_org_communesync_Store_nativeLogin(JNIEnv* env, jclass, jlong store, jstring url,
                                                                 jstring user, jstring password) {
  Utf8 u(env, url), n(env, user), p(env, password);
  return stringResult(env, [&](char** out, cs_error* error) {
    return cs_store_login(storeOf(store), u.get(), n.get(), p.get(), out, error);
  });
}

JNIEXPORT void JNICALL Java_org_communesync_Store_nativeSetMetered(JNIEnv* env, jclass, jlong store, jboolean metered) {
  cs_error error;
  if (cs_store_set_metered(storeOf(store), metered ? 1 : 0, &error) != 0) throwError(env, error);
}

JNIEXPORT jstring JNICALL Java_org_communesync_Store_nativeSync(JNIEnv* env, jclass, jlong store, jstring url,
                                                                jstring token, jlong max_millis, jobject progress,
                                                                jlong cancel) {
  Utf8 u(env, url), t(env, token);
  ProgressTarget target{env, progress, nullptr};
  if (progress != nullptr) {
    jclass cls = env->GetObjectClass(progress);
    target.method = env->GetMethodID(cls, "onProgress", "(IJJ)V");
    if (target.method == nullptr) return nullptr;  // NoSuchMethodError is pending
  }
  const auto max_ms =
      static_cast<uint32_t>(max_millis <= 0 ? 0 : (max_millis > 0xFFFFFFFFLL ? 0xFFFFFFFFLL : max_millis));
  char* report = nullptr;
  cs_error error;
  const int rc = cs_store_sync_for(storeOf(store), u.get(), t.get(), max_ms, progress != nullptr ? onProgress : nullptr,
                                   &target, reinterpret_cast<const cs_cancel*>(cancel), &report, &error);
  if (env->ExceptionCheck()) {  // the listener threw: that exception wins
    cs_string_free(report);
    return nullptr;
  }
  if (rc != 0) {
    cs_string_free(report);
    throwError(env, error);
    return nullptr;
  }
  return takeString(env, report);
}

JNIEXPORT jlong JNICALL Java_org_communesync_Store_cancelNew(JNIEnv*, jclass) {
  return reinterpret_cast<jlong>(cs_cancel_new());
}

JNIEXPORT void JNICALL Java_org_communesync_Store_cancelRaise(JNIEnv*, jclass, jlong cancel) {
  if (cancel != 0) cs_cancel_raise(reinterpret_cast<cs_cancel*>(cancel));
}

JNIEXPORT void JNICALL Java_org_communesync_Store_cancelFree(JNIEnv*, jclass, jlong cancel) {
  if (cancel != 0) cs_cancel_free(reinterpret_cast<cs_cancel*>(cancel));
}

}  // extern "C"
// NOLINTEND(readability-identifier-naming, performance-no-int-to-ptr)
