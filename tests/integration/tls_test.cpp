// TLS (docs/security.md, "TLS"): a real server with a throwaway certificate
// from the openssl command, driven by the clients users have — curl (REST and
// an SSE stream), the mgteam CLI and its agent — plus the hostile cases: plain
// HTTP on the TLS port, handshakes that stall, a certificate swapped on
// SIGHUP and a broken one that must not replace it.
#include "machine.h"
#include "process.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

using namespace mgteam;
using namespace mgteam::test;
using Clock = std::chrono::steady_clock;

namespace {

// A self-signed certificate for 127.0.0.1 with `cn` as its subject.
void MakeCertificate(const std::string& dir, const std::string& cn) {
  auto r = Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "2", "-subj", "/CN=" + cn,
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

std::unique_ptr<ServerProcess> TlsServer(const std::string& dir, std::vector<std::string> extra = {}) {
  ServerProcess::Options o;
  o.args = {"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"};
  o.args.insert(o.args.end(), extra.begin(), extra.end());
  return ServerProcess::Start(o);
}

std::string HttpsUrl(const ServerProcess& s) { return "https://127.0.0.1:" + std::to_string(s.port()); }

// curl with `ca` as the only trusted certificate; -i: the head too.
ProcessResult Curl(const std::string& ca, std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "-i", "--max-time", "20", "--cacert", ca};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv);
}

json BodyOf(const ProcessResult& r) {
  auto blank = r.out.find("\r\n\r\n");
  return json::parse(blank == std::string::npos ? "" : r.out.substr(blank + 4), nullptr, false);
}

TestUser SignUpOverTls(const std::string& ca, const std::string& url, const std::string& name) {
  TestUser u;
  u.name = name;
  u.email = name + "@example.com";
  auto r = Curl(ca, {"-H", "Content-Type: application/json", "-d",
                     json{{"email", u.email}, {"password", "password-" + name}, {"name", name}}.dump(),
                     url + "/api/v1/auth/signup"});
  REQUIRE_MESSAGE(r.out.rfind("HTTP/1.1 201", 0) == 0, std::string(r.out + r.err));
  json b = BodyOf(r);
  u.id = b["user"]["id"];
  u.token = b["token"];
  auto ws = BodyOf(Curl(ca, {"-H", "Authorization: Bearer " + u.token, url + "/api/v1/workspaces"}));
  for (const auto& w : ws["workspaces"])
    if (w["type"] == "personal") u.personal_ws = w["id"];
  REQUIRE(!u.personal_ws.empty());
  return u;
}

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// What the server sends on `fd` until it closes or `timeout` passes.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left))) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Sets an environment variable for this process (and the children it
// starts) for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("TLS: curl, the CLI and the agent over HTTPS with a throwaway certificate") {
  TempDir certs;
  MakeCertificate(certs.path(), "mgteam-test");
  const std::string ca = certs.path() + "/cert.pem";
  auto server = TlsServer(certs.path());
  const std::string url = HttpsUrl(*server);

  SUBCASE("curl: answers carry HSTS; an untrusted certificate is refused by the client") {
    auto ok = Curl(ca, {url + "/healthz"});
    REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
    CHECK(ok.out.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(ok.out.find("Strict-Transport-Security: max-age=31536000") != std::string::npos);
    auto untrusted = Run({"/usr/bin/curl", "-sS", "--max-time", "20", url + "/healthz"});
    CHECK(untrusted.exit_code == 60);  // curl: peer certificate cannot be authenticated
  }

  SUBCASE("plain HTTP on the TLS port gets a readable 400, not a hang") {
    int fd = Connect(server->port());
    std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    std::string answer = ReadAll(fd, std::chrono::seconds(5));
    ::close(fd);
    CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(answer.find("tls_required") != std::string::npos);
    auto http = Run({"/usr/bin/curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + std::to_string(server->port()) + "/healthz"});
    CHECK(http.out.find("use https://") != std::string::npos);
  }

  SUBCASE("an SSE stream read by curl gets live events over TLS") {
    TestUser alice = SignUpOverTls(ca, url, "alice");
    auto stream = ChildProcess::Spawn({"curl", "-sS", "-N", "--max-time", "60", "--cacert", ca, "-H",
                                       "Authorization: Bearer " + alice.token,
                                       url + "/api/v1/sync/stream?workspace_id=" + alice.personal_ws});
    bool connected = false;
    for (int i = 0; i < 20 && !connected; ++i) {
      auto line = stream->ReadLine(std::chrono::seconds(10));
      REQUIRE(line.has_value());
      connected = line->find("\"connected\"") != std::string::npos;
    }
    REQUIRE(connected);
    auto add = Curl(ca, {"-H", "Authorization: Bearer " + alice.token, "-H", "Content-Type: application/json", "-d",
                         R"({"title":"delivered over TLS"})",
                         url + "/api/v1/workspaces/" + alice.personal_ws + "/memories"});
    REQUIRE(add.out.rfind("HTTP/1.1 201", 0) == 0);
    std::string id = BodyOf(add)["id"];
    bool seen = false;
    for (int i = 0; i < 20 && !seen; ++i) {
      auto line = stream->ReadLine(std::chrono::seconds(10));
      REQUIRE(line.has_value());
      seen = line->find(id) != std::string::npos;
    }
    CHECK(seen);
  }

  SUBCASE("the CLI and the agent trust the certificate through SSL_CERT_FILE, and say so when they do not") {
    TestUser bob = SignUpOverTls(ca, url, "bob");
    {
      Machine m(url, bob);
      auto refused = m.Cli({"whoami"});
      CHECK(refused.exit_code != 0);
      CHECK(refused.err.find("SSL_CERT_FILE") != std::string::npos);
    }
    ScopedEnv trust("SSL_CERT_FILE", ca);
    Machine m(url, bob);
    auto add = m.Cli({"memory", "add", "written by the CLI over TLS", "--workspace", bob.personal_ws, "-q"});
    REQUIRE_MESSAGE(add.exit_code == 0, add.err);
    m.StartAgent();
    auto add2 = Curl(ca, {"-H", "Authorization: Bearer " + bob.token, "-H", "Content-Type: application/json", "-d",
                          R"({"title":"to the agent over TLS"})",
                          url + "/api/v1/workspaces/" + bob.personal_ws + "/memories"});
    REQUIRE(add2.out.rfind("HTTP/1.1 201", 0) == 0);
    int64_t seq = BodyOf(Curl(ca, {"-H", "Authorization: Bearer " + bob.token,
                                   url + "/api/v1/workspaces/" + bob.personal_ws}))["head_seq"].get<int64_t>();
    CHECK(m.WaitCursor(bob.personal_ws, seq));
    auto verify = m.Cli({"sync", "verify"});
    CHECK_MESSAGE(verify.exit_code == 0, std::string(verify.out + verify.err));
    CHECK(verify.out.find("no drift") != std::string::npos);
  }
}

TEST_CASE("TLS: handshakes that stall hold no worker and end at the head deadline") {
  TempDir certs;
  MakeCertificate(certs.path(), "mgteam-test");
  const std::string ca = certs.path() + "/cert.pem";
  auto server = TlsServer(certs.path(), {"--threads", "8", "--head-timeout", "2"});
  std::vector<int> stalled;
  for (int i = 0; i < 60; ++i) {
    int fd = Connect(server->port());
    if (i % 2 == 0) {
      // The first bytes of a ClientHello record, and then nothing.
      const char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
      REQUIRE(::send(fd, partial, sizeof partial, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof partial));
    }
    stalled.push_back(fd);
  }
  // 60 stalled connections against 8 workers: a real client is served.
  for (int i = 0; i < 5; ++i) {
    auto r = Curl(ca, {HttpsUrl(*server) + "/healthz"});
    CHECK_MESSAGE(r.exit_code == 0, r.err);
  }
  // The half handshakes are closed once the head deadline passes.
  auto start = Clock::now();
  std::string rest = ReadAll(stalled[0], std::chrono::seconds(10));
  CHECK(rest.empty());  // closed without an HTTP answer: there is no TLS channel to say it on
  CHECK(Clock::now() - start < std::chrono::seconds(5));
  for (int fd : stalled) ::close(fd);
}

TEST_CASE("TLS: SIGHUP swaps in a new certificate, and a broken one leaves the old in force") {
  TempDir certs;
  MakeCertificate(certs.path(), "first");
  TempDir first_copy;
  REQUIRE(Run({"/bin/cp", certs.path() + "/cert.pem", first_copy.path() + "/cert.pem"}).exit_code == 0);
  auto server = TlsServer(certs.path());
  const std::string url = HttpsUrl(*server) + "/healthz";
  REQUIRE(Curl(first_copy.path() + "/cert.pem", {url}).exit_code == 0);

  MakeCertificate(certs.path(), "second");
  const std::string second = certs.path() + "/cert.pem";
  CHECK(Curl(second, {url}).exit_code != 0);  // not reloaded yet
  REQUIRE(::kill(server->pid(), SIGHUP) == 0);
  bool reloaded = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(20); !reloaded && Clock::now() < deadline;) {
    reloaded = server->log().find("TLS certificate reloaded: /CN=second") != std::string::npos;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log file
  }
  REQUIRE(reloaded);
  CHECK(Curl(second, {url}).exit_code == 0);
  CHECK(Curl(first_copy.path() + "/cert.pem", {url}).exit_code != 0);

  std::ofstream(certs.path() + "/key.pem") << "not a key\n";
  REQUIRE(::kill(server->pid(), SIGHUP) == 0);
  bool refused = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(20); !refused && Clock::now() < deadline;) {
    refused = server->log().find("TLS reload failed") != std::string::npos;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(refused);
  CHECK(Curl(second, {url}).exit_code == 0);  // still the second certificate
}

TEST_CASE("TLS: a missing or half configuration stops the server with a clear message") {
  TempDir certs;
  MakeCertificate(certs.path(), "mgteam-test");
  TempDir data;
  auto half = Run({ServerBinary(), "--listen", "127.0.0.1:0", "--data-dir", data.path(), "--tls-cert",
                   certs.path() + "/cert.pem"});
  CHECK(half.exit_code != 0);
  CHECK(half.err.find("--tls-cert and --tls-key go together") != std::string::npos);
  auto missing = Run({ServerBinary(), "--listen", "127.0.0.1:0", "--data-dir", data.path(), "--tls-cert",
                      certs.path() + "/nope.pem", "--tls-key", certs.path() + "/key.pem"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("cannot read the TLS certificate") != std::string::npos);
}
