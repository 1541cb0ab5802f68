// sync::Sha256 (file_ref.hpp) over OpenSSL: native builds. The field app hashes its files with the
// browser's WebCrypto and does not build this.
#include <openssl/evp.h>

#include <stdexcept>

#include "communesync/sync/file_ref.hpp"

namespace communesync::sync {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL cannot start a SHA-256");  // out of memory: nothing to recover
  }
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
}

std::string Sha256::finish() {
  std::string out(kFileHashBytes, '\0');
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, reinterpret_cast<unsigned char*>(out.data()), &n);
  return out;
}

}  // namespace communesync::sync
