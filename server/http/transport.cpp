#include "http/transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mgteam::server {
namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

}  // namespace

// ---- TlsContext ---------------------------------------------------------------

Result<SSL_CTX*> TlsContext::Build(const std::string& cert, const std::string& key) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::Internal("cannot create a TLS context: " + OpenSslError());
  auto fail = [&](const std::string& what) -> Status {
    std::string detail = OpenSslError();
    SSL_CTX_free(ctx);
    return Status::Invalid("invalid_tls", what + " (" + detail + ")");
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Partial writes and a moving buffer: the hub retries a write with its
  // queue, which may have grown (and moved) since. Released buffers keep an
  // idle TLS stream at a few hundred bytes instead of ~34 KiB.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Renegotiation would let a client make the server redo the handshake's
  // work at will; nothing here needs it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    return fail("cannot read the TLS certificate " + cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("cannot read the TLS key " + key);
  if (SSL_CTX_check_private_key(ctx) != 1) return fail("the TLS key " + key + " does not match " + cert);
  return ctx;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Load(std::string cert_path, std::string key_path) {
  std::shared_ptr<TlsContext> t(new TlsContext(std::move(cert_path), std::move(key_path)));
  MG_ASSIGN_OR_RETURN(t->ctx_, Build(t->cert_, t->key_));
  return t;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Status TlsContext::Reload() {
  MG_ASSIGN_OR_RETURN(SSL_CTX * fresh, Build(cert_, key_));
  SSL_CTX* old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = ctx_;
    ctx_ = fresh;
  }
  SSL_CTX_free(old);  // reference-counted: open sessions keep theirs alive
  return Status::Ok();
}

SSL* TlsContext::NewSession(int fd) {
  SSL* ssl;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ssl = SSL_new(ctx_);
  }
  if (!ssl) return nullptr;
  SSL_set_fd(ssl, fd);
  SSL_set_accept_state(ssl);
  return ssl;
}

std::string TlsContext::Describe() {
  std::lock_guard<std::mutex> lock(mu_);
  X509* cert = SSL_CTX_get0_certificate(ctx_);
  if (!cert) return "no certificate";
  char subject[256] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  std::string out = subject;
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio && ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out += ", expires " + std::string(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

// ---- Transport ----------------------------------------------------------------

Transport::Transport(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {
  int flags = ::fcntl(fd_, F_GETFL, 0);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

Transport::~Transport() {
  if (ssl_) {
    // close_notify, best effort: the socket does not wait for the peer.
    if (handshake_done_) {
      ERR_clear_error();
      SSL_shutdown(ssl_);
    }
    SSL_free(ssl_);
  }
  if (fd_ >= 0) ::close(fd_);
}

Transport::Wait Transport::Classify(int ret) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ: return Wait::kReadable;
    case SSL_ERROR_WANT_WRITE: return Wait::kWritable;
    case SSL_ERROR_SYSCALL:
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Wait::kReadable;
      [[fallthrough]];
    default:
      ERR_clear_error();
      return Wait::kClosed;
  }
}

Transport::Wait Transport::Handshake() {
  if (ready()) return Wait::kNone;
  if (!handshake_started_) {
    // A TLS client's first byte is 0x16 (a handshake record); a letter is
    // an HTTP method: someone typed http:// for an https:// server.
    char first = 0;
    ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return Wait::kClosed;
    if (n < 0) return Wait::kReadable;
    handshake_started_ = true;
    if (first >= 'A' && first <= 'Z') {
      plain_http_ = true;
      return Wait::kClosed;
    }
  }
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    return Wait::kNone;
  }
  return Classify(r);
}

Transport::Io Transport::Read(char* buf, size_t size) {
  if (!ssl_) {
    ssize_t n;
    do {
      n = ::recv(fd_, buf, size, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) return {static_cast<size_t>(n), Wait::kNone};
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {0, Wait::kReadable};
    return {0, Wait::kClosed};
  }
  if (!handshake_done_) {
    Wait w = Handshake();
    if (w != Wait::kNone) return {0, w};
  }
  ERR_clear_error();
  int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return {static_cast<size_t>(n), Wait::kNone};
  return {0, Classify(n)};
}

Transport::Io Transport::Write(const char* buf, size_t size) {
  if (size == 0) return {0, Wait::kNone};
  if (!ssl_) {
    ssize_t n;
    do {
      n = ::send(fd_, buf, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n > 0) return {static_cast<size_t>(n), Wait::kNone};
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {0, Wait::kWritable};
    return {0, Wait::kClosed};
  }
  if (!handshake_done_) {
    Wait w = Handshake();
    if (w != Wait::kNone) return {0, w};
  }
  ERR_clear_error();
  int n = SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return {static_cast<size_t>(n), Wait::kNone};
  return {0, Classify(n)};
}

size_t Transport::Buffered() const { return ssl_ ? static_cast<size_t>(SSL_pending(ssl_)) : 0; }

int Transport::Await(Wait wait, int ms) const {
  if (wait == Wait::kNone) return 1;
  if (wait == Wait::kClosed) return -1;
  pollfd p{fd_, static_cast<short>(wait == Wait::kReadable ? POLLIN : POLLOUT), 0};
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  if (r > 0 && (p.revents & (POLLERR | POLLNVAL))) return -1;
  return r;
}

bool Transport::WriteAll(std::string_view data, int ms) {
  size_t off = 0;
  while (off < data.size()) {
    Io io = Write(data.data() + off, data.size() - off);
    off += io.n;
    if (io.wait != Wait::kNone && Await(io.wait, ms) <= 0) return false;
  }
  return true;
}

void Transport::WriteSome(std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    Io io = Write(data.data() + off, data.size() - off);
    if (io.wait != Wait::kNone) return;
    off += io.n;
  }
}

void Transport::WriteClear(std::string_view data) {
  ssize_t n;
  do {
    n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  // Closing with unread bytes would reset the connection, and the client
  // could lose the answer: read (and drop) what it sent, a little.
  char sink[4096];
  for (int i = 0; i < 16 && ::recv(fd_, sink, sizeof sink, 0) > 0; ++i) {
  }
}

void Transport::ShutdownSocket() { ::shutdown(fd_, SHUT_RDWR); }

}  // namespace mgteam::server
