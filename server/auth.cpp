#include "auth.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

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

// A counting semaphore that lets waiters in in arrival order, so that a real
// login queued behind a flood of bad ones waits for the flood ahead of it and
// no longer (a plain condition variable may wake anyone). Each caller takes a
// ticket; tickets below `admitted_` may run; every release admits one more.
class FifoSemaphore {
 public:
  explicit FifoSemaphore(int limit) : limit_(limit), admitted_(static_cast<uint64_t>(limit)) {}

  void Acquire() {
    std::unique_lock lock(mu_);
    const uint64_t ticket = next_ticket_++;
    ++waiting_;
    turn_.wait(lock, [&] { return ticket < admitted_; });
    --waiting_;
    ++running_;
    ++started_;
  }

  void Release() {
    {
      std::lock_guard lock(mu_);
      --running_;
      ++admitted_;
    }
    // Every waiter checks its own ticket; waking them all is cheap next to
    // the tens of milliseconds each hash takes.
    turn_.notify_all();
  }

  void SetLimit(int limit) {
    {
      std::lock_guard lock(mu_);
      // Tickets already admitted stay admitted; a lower limit takes effect as
      // they finish.
      admitted_ = static_cast<uint64_t>(std::max<int64_t>(
          0, static_cast<int64_t>(admitted_) + static_cast<int64_t>(limit) - static_cast<int64_t>(limit_)));
      limit_ = limit;
    }
    turn_.notify_all();
  }

  int limit() {
    std::lock_guard lock(mu_);
    return limit_;
  }

  PasswordHashLoad Load() {
    std::lock_guard lock(mu_);
    return {running_, waiting_, started_};
  }

 private:
  std::mutex mu_;
  std::condition_variable turn_;
  int limit_;
  uint64_t next_ticket_ = 0;
  uint64_t admitted_;
  int running_ = 0;
  int waiting_ = 0;
  uint64_t started_ = 0;
};

FifoSemaphore& HashSlots() {
  static FifoSemaphore slots(DefaultPasswordHashConcurrency());
  return slots;
}

// Holds one of the hash slots for its lifetime.
class HashSlot {
 public:
  HashSlot() { HashSlots().Acquire(); }
  ~HashSlot() { HashSlots().Release(); }
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;
};

}  // namespace

int DefaultPasswordHashConcurrency() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 1u, 4u));
}

void SetPasswordHashConcurrency(int n) { HashSlots().SetLimit(std::max(1, n)); }

int PasswordHashConcurrency() { return HashSlots().limit(); }

PasswordHashLoad CurrentPasswordHashLoad() { return HashSlots().Load(); }

Status InitCrypto() {
  if (sodium_init() < 0) return Status::Internal("libsodium could not initialise");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  HashSlot slot;
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Status::Unavailable("out_of_memory", "not enough memory to hash the password; try again");
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
  HashSlot slot;
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
