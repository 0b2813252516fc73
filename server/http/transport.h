// Transport: the bytes of one client connection, in the clear or over TLS.
//
// Every layer that touches a client socket — the HeadGate reading heads, a
// worker reading a body and writing the answer, the StreamHub writing frames
// — does so through a Transport, so TLS is one branch here instead of one in
// each of them. Sockets are non-blocking (OpenSSL needs that to never stall a
// thread on half a record); Read and Write never wait, and say which way the
// socket must become ready before they can go on. Callers that may block (a
// worker) wait with Await(); the event loops re-arm epoll instead.
//
// TlsContext holds the certificate and key. Reload() swaps them for new
// connections (SIGHUP); connections already open keep the context they began
// with. See docs/security.md, "TLS".
//
// Thread-safety: a Transport is used by one thread at a time (whoever owns
// the connection); TlsContext is safe from any thread.
#pragma once

#include "mgteam/status.h"

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace mgteam::server {

class TlsContext {
 public:
  // Reads and checks the PEM certificate chain and private key.
  static Result<std::shared_ptr<TlsContext>> Load(std::string cert_path, std::string key_path);
  ~TlsContext();

  // Reads the files again; on failure the old pair stays in force.
  Status Reload();
  // A server-side session on `fd` (nullptr: out of memory).
  SSL* NewSession(int fd);
  // "CN=..., expires ..." of the certificate in force, for the log.
  std::string Describe();

 private:
  TlsContext(std::string cert, std::string key) : cert_(std::move(cert)), key_(std::move(key)) {}
  static Result<SSL_CTX*> Build(const std::string& cert, const std::string& key);

  const std::string cert_, key_;
  std::mutex mu_;
  SSL_CTX* ctx_ = nullptr;
};

class Transport {
 public:
  enum class Wait {
    kNone,      // the call made progress
    kReadable,  // try again when the socket is readable
    kWritable,  // ... when it is writable
    kClosed,    // the peer closed or the connection failed: stop using it
  };
  struct Io {
    size_t n = 0;  // bytes moved (0 unless wait is kNone)
    Wait wait = Wait::kNone;
  };

  // Takes the socket (made non-blocking); `ssl` (owned) means TLS, and its
  // handshake is still to be done.
  Transport(int fd, SSL* ssl);
  ~Transport();  // closes the socket
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }
  // True once bytes of the application can flow (always for plain sockets).
  bool ready() const { return !ssl_ || handshake_done_; }

  // Drives the TLS handshake; kNone once it is done. kClosed with
  // plain_http() set: the client spoke plain HTTP to the TLS port.
  Wait Handshake();
  bool plain_http() const { return plain_http_; }
  // Unencrypted, best effort: the one answer a plain-HTTP client can read.
  void WriteClear(std::string_view data);
  Io Read(char* buf, size_t size);
  Io Write(const char* buf, size_t size);
  // Bytes TLS has decrypted and not yet handed out: epoll cannot see them.
  size_t Buffered() const;

  // Waits up to `ms` for `wait`'s readiness; > 0 ready, 0 timeout, < 0 error.
  int Await(Wait wait, int ms) const;
  // Writes all of `data`, waiting at most `ms` per step; false if it could not.
  bool WriteAll(std::string_view data, int ms);
  // Sends what the socket takes at once, drops the rest (best effort).
  void WriteSome(std::string_view data);
  // Stops both directions now (the next reads see EOF, the peer sees FIN).
  void ShutdownSocket();

 private:
  Wait Classify(int ret);

  int fd_;
  SSL* ssl_;
  bool handshake_done_ = false;
  bool handshake_started_ = false;
  bool plain_http_ = false;
};

}  // namespace mgteam::server
