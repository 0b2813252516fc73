#include "bus/postgres_link.h"

#include "store/open_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

namespace mgteam::server {

namespace {

constexpr const char* kChannel = "mgteam_bus";

Status LinkError(const char* what, const PGconn* c) {
  std::string msg = what;
  msg += ": ";
  msg += c ? PQerrorMessage(c) : "out of memory";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return Status::Unavailable("bus_unavailable", msg);
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

PostgresLink::PostgresLink(std::string url) : url_(std::move(url)) {}

PostgresLink::~PostgresLink() {
  Drop(pub_);
  Drop(sub_);
}

std::string PostgresLink::Describe() const { return RedactedDatabaseUrl(url_) + " (LISTEN/NOTIFY)"; }

void PostgresLink::Drop(PGconn*& c) {
  if (c) PQfinish(c);
  c = nullptr;
}

Result<PGconn*> PostgresLink::Connect() {
  // The URL may carry its own parameters; a short connect timeout is added
  // so an unreachable server does not hold the sender or the receiver.
  // TCP keepalives and a user timeout: a peer that vanishes (a partition, a
  // halted machine) fails a call within seconds instead of the kernel's
  // retransmission quarter of an hour.
  const char* keys[] = {"dbname", "connect_timeout", "application_name", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", nullptr};
  const char* values[] = {url_.c_str(), "3", "mgteam-server bus", "5", "2", "3", "10000", nullptr};
  PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    Status s = LinkError("connect", c);
    if (c) PQfinish(c);
    return s;
  }
  return c;
}

// A kept connection may have died quietly (PostgreSQL restarted): one
// failure on it is retried once on a fresh connection.
Status PostgresLink::Publish(const std::string& payload) {
  const char* params[] = {kChannel, payload.c_str()};
  for (;;) {
    const bool fresh = !pub_;
    if (fresh) {
      MG_ASSIGN_OR_RETURN(pub_, Connect());
    }
    PgResult r(PQexecParams(pub_, "SELECT pg_notify($1, $2)", 2, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) return Status::Ok();
    Status s = LinkError("pg_notify", pub_);
    Drop(pub_);
    if (fresh) return s;
  }
}

Status PostgresLink::Subscribe() {
  Drop(sub_);
  probe_pending_ = false;
  MG_ASSIGN_OR_RETURN(sub_, Connect());
  PgResult r(PQexec(sub_, (std::string("LISTEN ") + kChannel).c_str()));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    Status s = LinkError("LISTEN", sub_);
    Drop(sub_);
    return s;
  }
  return Status::Ok();
}

Status PostgresLink::Receive(std::chrono::milliseconds timeout, std::vector<std::string>& out, bool& heard) {
  if (!sub_) return Status::Unavailable("bus_unavailable", "not listening");
  pollfd p{PQsocket(sub_), POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n < 0) return errno == EINTR ? Status::Ok() : Status::Unavailable("bus_unavailable", "poll failed");
  if (n == 0) return Status::Ok();
  if (!PQconsumeInput(sub_) || PQstatus(sub_) != CONNECTION_OK) {
    Status s = LinkError("read", sub_);
    Drop(sub_);
    return s;
  }
  // A probe's answer: results until the null that ends the query.
  while (probe_pending_ && !PQisBusy(sub_)) {
    PgResult r(PQgetResult(sub_));
    if (!r) {
      probe_pending_ = false;
      break;
    }
    heard = true;
  }
  while (PGnotify* note = PQnotifies(sub_)) {
    heard = true;
    out.emplace_back(note->extra);
    PQfreemem(note);
  }
  return Status::Ok();
}

Status PostgresLink::Probe() {
  if (!sub_) return Status::Unavailable("bus_unavailable", "not listening");
  if (probe_pending_) return Status::Ok();  // the last one has not come back yet
  if (!PQsendQuery(sub_, "SELECT 1")) {
    Status s = LinkError("probe", sub_);
    Drop(sub_);
    return s;
  }
  probe_pending_ = true;
  return Status::Ok();
}

}  // namespace mgteam::server
