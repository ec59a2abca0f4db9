#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace lakepipe::common {

/// Incremental SHA-256 (OpenSSL's EVP, which uses the CPU's SHA extensions when present).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  void Update(const void* data, size_t size);
  /// The 32 raw digest bytes; the object is spent afterwards.
  std::string Digest();
  /// The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string HexDigest();
  /// The digest in RFC 4648 base32, lowercase, unpadded (52 characters).
  std::string Base32Digest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace lakepipe::common
