#include "auth.h"

#include <sodium.h>

#include <array>

namespace mgteam::server {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();  // the terminating NUL
  return out;
}

std::array<unsigned char, crypto_secretbox_KEYBYTES> DeriveKey(std::string_view material) {
  std::array<unsigned char, crypto_secretbox_KEYBYTES> key{};
  static constexpr unsigned char kContext[] = "mgteam.idempotency.v1";
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(material.data()),
                     material.size(), kContext, sizeof kContext - 1);
  return key;
}

}  // namespace

Status InitCrypto() {
  if (sodium_init() < 0) return Status::Internal("libsodium could not initialise");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Status::Unavailable("out_of_memory", "not enough memory to hash the password; try again");
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string HashSecret(std::string_view secret) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  return Hex(h, sizeof h);
}

std::string HashHex(std::string_view data) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     nullptr, 0);
  return Hex(h, sizeof h);
}

MintedToken MintToken(std::string_view kind_prefix) {
  unsigned char raw[24];
  randombytes_buf(raw, sizeof raw);
  MintedToken t;
  t.secret = std::string(kind_prefix) + Hex(raw, sizeof raw);
  t.hash = HashSecret(t.secret);
  t.prefix = t.secret.substr(0, kind_prefix.size() + 6);
  return t;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Seal(std::string_view plaintext, std::string_view key_material) {
  auto key = DeriveKey(key_material);
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, key.data());
  sodium_memzero(key.data(), key.size());
  return out;
}

Result<std::string> Unseal(std::string_view sealed, std::string_view key_material) {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return Status::Internal("stored idempotent answer is truncated");
  auto key = DeriveKey(key_material);
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  int rc = crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                      nonce + crypto_secretbox_NONCEBYTES,
                                      sealed.size() - crypto_secretbox_NONCEBYTES, nonce, key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0) return Status::Internal("stored idempotent answer does not decrypt");
  return out;
}

}  // namespace mgteam::server
